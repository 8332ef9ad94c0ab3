import { type MetricSample, MetricsQueryError, type MetricsSource, MetricsUnavailableError } from './port.js';
// The metrics port and its Prometheus adapter (HTTP API, instant queries). Plain fetch: the API is
// two GET endpoints and the well-kept clients add nothing we need.

export interface PrometheusOptions {
  baseUrl: string;
  bearerToken?: string | null | undefined;
  timeoutMs?: number | undefined;
}

export class PrometheusMetrics implements MetricsSource {
  readonly name = 'prometheus';

  constructor(private readonly options: PrometheusOptions) {}

  async query(promql: string): Promise<MetricSample[]> {
    const url = new URL('api/v1/query', this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`);
    url.searchParams.set('query', promql);
    let res: Response;
    try {
      res = await fetch(url, {
        headers: {
          accept: 'application/json',
          ...(this.options.bearerToken ? { authorization: `Bearer ${this.options.bearerToken}` } : {}),
        },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new MetricsUnavailableError(`Prometheus at ${this.options.baseUrl} cannot be reached: ${(err as Error).message}`);
    }
    const body = (await res.json().catch(() => null)) as {
      status?: string;
      error?: string;
      data?: { resultType: string; result: unknown };
    } | null;
    if (res.status >= 500 || res.status === 429)
      throw new MetricsUnavailableError(`Prometheus answered ${res.status}${body?.error ? `: ${body.error}` : ''}`);
    if (!res.ok || body?.status !== 'success' || !body.data)
      throw new MetricsQueryError(`Prometheus refused the query (${res.status}): ${body?.error ?? 'no data'}`);
    const { resultType, result } = body.data;
    if (resultType === 'scalar') return [{ labels: {}, value: Number((result as [number, string])[1]) }];
    if (resultType !== 'vector') return [];
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
      labels: r.metric,
      value: Number(r.value[1]),
    }));
  }
}
