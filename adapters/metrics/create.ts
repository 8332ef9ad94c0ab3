import type { Config } from '../../config.js';
import type { MetricsSource } from './port.js';
import { PrometheusMetrics } from './prometheus.js';

/** The configured metrics datasource, or null (the metrics step records that none is configured). */
export function createMetricsSource(config: Pick<Config, 'prometheus'>): MetricsSource | null {
  return config.prometheus ? new PrometheusMetrics({ baseUrl: config.prometheus.url, bearerToken: config.prometheus.token }) : null;
}
