// The metrics port: instant queries about a target. prometheus.ts speaks Prometheus' HTTP API.

export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

export interface MetricsSource {
  readonly name: string;
  /** An instant query; a vector answer becomes samples, a scalar one sample without labels. */
  query(promql: string): Promise<MetricSample[]>;
}

/** The datasource could not answer (down, slow, 5xx): the step degrades, the run goes on. */
export class MetricsUnavailableError extends Error {
  override readonly name = 'MetricsUnavailableError';
}

/** The datasource refused the query itself (bad PromQL, 4xx). */
export class MetricsQueryError extends Error {
  override readonly name = 'MetricsQueryError';
}
