// The metrics port: instant queries about a target (the diagnostics step), and instant and range
// queries for the chat tools. prometheus.ts speaks Prometheus' HTTP API; create.ts builds it from
// the configuration or from a caller's integration settings.

export interface MetricSample {
  labels: Record<string, string>;
  value: number;
  /** Unix seconds the value is for (absent when the caller does not need it). */
  timestamp?: number;
}

export interface MetricSeries {
  labels: Record<string, string>;
  /** [unix seconds, value], oldest first. */
  points: [number, number][];
}

export interface MetricsSource {
  readonly name: string;
  /** An instant query; a vector answer becomes samples, a scalar one sample without labels. */
  query(promql: string): Promise<MetricSample[]>;
}

/** An instant query's answer as Prometheus typed it: a range selector (`up[5m]`) answers a matrix. */
export type InstantResult =
  { resultType: 'vector' | 'scalar' | 'string'; samples: MetricSample[] } | { resultType: 'matrix'; series: MetricSeries[] };

export interface RangeQuery {
  start: Date;
  end: Date;
  /** Seconds between points. */
  stepSeconds: number;
}

export interface QueryOptions {
  signal?: AbortSignal | undefined;
}

/** The most points a range query may ask for per series (Prometheus itself refuses above 11,000). */
export const MAX_RANGE_POINTS = 1_100;

/** Instant and range queries with their timestamps (the chat tools). */
export interface MetricsQueries extends MetricsSource {
  instant(promql: string, options?: QueryOptions & { time?: Date | undefined }): Promise<InstantResult>;
  /** Refuses (MetricsQueryError) a range that would give more than MAX_RANGE_POINTS points per series. */
  range(promql: string, range: RangeQuery, options?: QueryOptions): Promise<MetricSeries[]>;
}

interface FailureDetails {
  /** The HTTP status when Prometheus answered. */
  status?: number | undefined;
  /** Retry-After, when a rate-limiting proxy in front of Prometheus sent one. */
  retryAfterMs?: number | undefined;
}

/** The datasource could not answer (down, slow, 5xx, 429): the step degrades, the run goes on; a retry may help. */
export class MetricsUnavailableError extends Error {
  override readonly name = 'MetricsUnavailableError';
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, details: FailureDetails = {}) {
    super(message);
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The datasource refused the query itself (bad PromQL, 4xx, credentials rejected): a retry cannot help. */
export class MetricsQueryError extends Error {
  override readonly name = 'MetricsQueryError';
  readonly status: number | undefined;
  constructor(message: string, details: FailureDetails = {}) {
    super(message);
    this.status = details.status;
  }
}
