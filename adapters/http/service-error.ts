// The failure of a call to an external HTTP service, classified once for every port that speaks
// one (adapters/http/request-json.ts fills it in): each port names its own subclass.

export interface ServiceFailure {
  retryable: boolean;
  /** The HTTP status when the service answered; undefined for network failures, timeouts and bad input. */
  status?: number | undefined;
  /** From Retry-After (or PagerDuty's ratelimit-reset) when the service sent it with a retryable answer. */
  retryAfterMs?: number | undefined;
}

export class ServiceCallError extends Error {
  override readonly name: string = 'ServiceCallError';
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, failure: ServiceFailure) {
    super(message);
    this.retryable = failure.retryable;
    this.status = failure.status;
    this.retryAfterMs = failure.retryAfterMs;
  }
}
