// The metrics port's Prometheus adapter (HTTP API: /api/v1/query and /api/v1/query_range), with a
// bearer token or basic auth. Plain fetch: the API is two GET endpoints and the well-kept clients
// add nothing we need.

import { redactText, truncateText } from '../../core/redact.js';
import { retryAfterMs } from '../http/request-json.js';
import {
  MAX_RANGE_POINTS,
  type InstantResult,
  type MetricSample,
  MetricsQueryError,
  type MetricSeries,
  type MetricsQueries,
  MetricsUnavailableError,
  type QueryOptions,
  type RangeQuery,
} from './port.js';

export interface PrometheusOptions {
  baseUrl: string;
  bearerToken?: string | null | undefined;
  /** Basic auth (a Prometheus behind a reverse proxy, Grafana Mimir, VictoriaMetrics…). */
  username?: string | undefined;
  password?: string | undefined;
  timeoutMs?: number | undefined;
}

interface ApiBody {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType: string; result: unknown };
}

type RawSample = { metric: Record<string, string>; value: [number, string] };
type RawSeries = { metric: Record<string, string>; values: [number, string][] };

export class PrometheusMetrics implements MetricsQueries {
  readonly name = 'prometheus';
  private readonly authorization: string | undefined;
  private readonly secrets: string[];

  constructor(private readonly options: PrometheusOptions) {
    if (options.bearerToken) {
      this.authorization = `Bearer ${options.bearerToken}`;
      this.secrets = [options.bearerToken];
    } else if (options.username !== undefined && options.password !== undefined) {
      const encoded = Buffer.from(`${options.username}:${options.password}`).toString('base64');
      this.authorization = `Basic ${encoded}`;
      this.secrets = [options.password, encoded];
    } else {
      this.secrets = [];
    }
  }

  async query(promql: string): Promise<MetricSample[]> {
    const answer = await this.instant(promql);
    return answer.resultType === 'matrix' ? [] : answer.samples.map(({ labels, value }) => ({ labels, value }));
  }

  async instant(promql: string, options: QueryOptions & { time?: Date | undefined } = {}): Promise<InstantResult> {
    const params: Record<string, string> = { query: promql };
    if (options.time) params.time = seconds(options.time);
    const { resultType, result } = await this.get('query', params, options.signal);
    if (resultType === 'scalar' || resultType === 'string') {
      const [time, value] = result as [number, string];
      return { resultType, samples: [{ labels: {}, value: Number(value), timestamp: time }] };
    }
    if (resultType === 'matrix') return { resultType, series: toSeries(result as RawSeries[]) };
    return {
      resultType: 'vector',
      samples: (result as RawSample[]).map((r) => ({ labels: r.metric, value: Number(r.value[1]), timestamp: r.value[0] })),
    };
  }

  async range(promql: string, range: RangeQuery, options: QueryOptions = {}): Promise<MetricSeries[]> {
    const { start, end, stepSeconds } = range;
    if (!(stepSeconds > 0)) throw new MetricsQueryError('the step must be a positive number of seconds');
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end.getTime() < start.getTime())
      throw new MetricsQueryError('the range needs a start before its end');
    const points = Math.floor((end.getTime() - start.getTime()) / 1000 / stepSeconds) + 1;
    if (points > MAX_RANGE_POINTS) {
      const least = Math.ceil((end.getTime() - start.getTime()) / 1000 / (MAX_RANGE_POINTS - 1));
      throw new MetricsQueryError(
        `the range would give ${points} points per series (at most ${MAX_RANGE_POINTS}): use a step of at least ${least}s or a shorter range`,
      );
    }
    const { resultType, result } = await this.get(
      'query_range',
      { query: promql, start: seconds(start), end: seconds(end), step: String(stepSeconds) },
      options.signal,
    );
    if (resultType !== 'matrix') throw new MetricsQueryError(`Prometheus answered a ${resultType} to a range query`);
    return toSeries(result as RawSeries[]);
  }

  private async get(endpoint: 'query' | 'query_range', params: Record<string, string>, signal: AbortSignal | undefined) {
    const base = this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`;
    const url = new URL(`api/v1/${endpoint}`, base);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 10_000);
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { accept: 'application/json', ...(this.authorization ? { authorization: this.authorization } : {}) },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        redirect: 'manual',
      });
    } catch (err) {
      if (signal?.aborted) throw new MetricsQueryError('the Prometheus query was cancelled');
      throw new MetricsUnavailableError(this.clean(`Prometheus at ${url.origin} cannot be reached: ${(err as Error).message}`));
    }
    const text = await res.text().catch(() => '');
    let body: ApiBody | null = null;
    try {
      body = JSON.parse(text) as ApiBody;
    } catch {
      body = null;
    }
    const detail = body?.error ?? (text && !body ? truncateText(text.replace(/\s+/g, ' ').trim(), 200) : undefined);
    const status = res.status;
    if (status >= 500 || status === 429 || status === 408)
      throw new MetricsUnavailableError(this.clean(`Prometheus answered ${status}${detail ? `: ${detail}` : ''}`), {
        status,
        retryAfterMs: retryAfterMs(res.headers),
      });
    if (status === 401 || status === 403)
      throw new MetricsQueryError(`Prometheus refused the credentials (${status}); check the bearer token or username and password`, {
        status,
      });
    if (status === 404) throw new MetricsQueryError(`Prometheus has no ${url.pathname} (404): check the url`, { status });
    if (!res.ok || body?.status !== 'success' || !body.data)
      throw new MetricsQueryError(this.clean(`Prometheus refused the query (${status}): ${detail ?? 'no data'}`), { status });
    return body.data;
  }

  private clean(message: string): string {
    return redactText(message, this.secrets);
  }
}

function seconds(date: Date): string {
  return (date.getTime() / 1000).toFixed(3);
}

function toSeries(result: RawSeries[]): MetricSeries[] {
  return result.map((r) => ({ labels: r.metric, points: r.values.map(([time, value]) => [time, Number(value)] as [number, number]) }));
}
