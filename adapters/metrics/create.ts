import type { Config } from '../../config.js';
import type { IntegrationSettings } from '../../tools/integrations.js';
import type { MetricsQueries, MetricsSource } from './port.js';
import { PrometheusMetrics } from './prometheus.js';

/** The configured metrics datasource, or null (the metrics step records that none is configured). */
export function createMetricsSource(config: Pick<Config, 'prometheus'>): MetricsSource | null {
  return config.prometheus ? new PrometheusMetrics({ baseUrl: config.prometheus.url, bearerToken: config.prometheus.token }) : null;
}

/** A client for one caller's Prometheus settings (the chat tools): a bearer token wins over basic auth. */
export function createPrometheusClient(settings: IntegrationSettings<'prometheus'>, options: { timeoutMs?: number } = {}): MetricsQueries {
  return new PrometheusMetrics({
    baseUrl: settings.url,
    bearerToken: settings.bearerToken,
    username: settings.username,
    password: settings.password,
    timeoutMs: options.timeoutMs,
  });
}
