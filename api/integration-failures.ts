import { ConfluenceError } from '../adapters/confluence/port.js';
import { GitHubAuthError, GitHubError, GitHubRateLimitError } from '../adapters/github/port.js';
import { JiraError } from '../adapters/jira/port.js';
import { MetricsQueryError, MetricsUnavailableError } from '../adapters/metrics/port.js';
import { PagerDutyError } from '../adapters/pagerduty/port.js';
import { CorruptIntegrationSecretsError, IntegrationSettingsIncompleteError } from '../tools/integration-settings.js';
import { IntegrationNotConfiguredError, type IntegrationName } from '../tools/integrations.js';
import { ProblemError } from './problem.js';

// How a direct integration call's failure is answered (api/routes/integration-direct.ts), once for
// every integration. The decisions, from the caller's side:
//
// - 409 integration-not-configured: the caller (user over tenant) has no usable settings, or they
//   are incomplete (`errors` names each field), or their stored secrets cannot be read. It is the
//   state of the caller's own settings that conflicts with the call, and a PUT of
//   /api/v1/integrations/{name}/config resolves it; 424 would say a *previous* request failed.
// - 424 integration-credentials-refused: the service answered 401 or 403 to the configured token.
//   Never 401, which a client reads as "your InfraAI key is wrong" and logs out on.
// - 429 integration-rate-limited: the service rate-limited the caller's account, always with
//   Retry-After (the service's own when it sent one, else DEFAULT_RETRY_AFTER_S).
// - 422 integration-query-rejected: the service refused the query itself (bad JQL, CQL or PromQL, a
//   GitHub qualifier naming nothing, past GitHub's 1000 results); `errors` points at the field.
// - 502 integration-unavailable: the service answered 5xx or 408, or could not be reached or did
//   not answer in time; Retry-After when the service sent one. 502 rather than 503: InfraAI itself
//   is up, and its 503 means "InfraAI's own store or engine"; a gateway's error is what this is.
// - 502 integration-error: anything else the service answered (a 404 for a wrong base URL, an
//   answer that is not the service's API); the message says what to check.

/** Retry-After when a rate-limited service did not say how long. */
export const DEFAULT_RETRY_AFTER_S = 30;

const DISPLAY: Record<IntegrationName, string> = {
  servicenow: 'ServiceNow',
  github: 'GitHub',
  jira: 'Jira',
  confluence: 'Confluence',
  pagerduty: 'PagerDuty',
  prometheus: 'Prometheus',
};

interface Failure {
  message: string;
  status: number | undefined;
  retryable: boolean;
  retryAfterMs: number | undefined;
  rateLimited: boolean;
  credentialsRefused: boolean;
}

/** The adapters' error classes, read the same way: each port's own classes say what happened. */
function failureOf(err: unknown, now: number): Failure | null {
  if (err instanceof GitHubError) {
    const status = err.status ?? undefined;
    return {
      message: err.message,
      status,
      retryable: err.retryable,
      retryAfterMs: err instanceof GitHubRateLimitError && err.retryAt ? Math.max(0, err.retryAt.getTime() - now) : undefined,
      rateLimited: err instanceof GitHubRateLimitError,
      credentialsRefused: err instanceof GitHubAuthError,
    };
  }
  if (err instanceof JiraError || err instanceof ConfluenceError || err instanceof PagerDutyError) {
    const status = err.status ?? undefined;
    return {
      message: err.message,
      status,
      retryable: err.retryable,
      retryAfterMs: err.retryAfterMs,
      rateLimited: status === 429,
      credentialsRefused: status === 401 || status === 403,
    };
  }
  if (err instanceof MetricsUnavailableError) {
    return {
      message: err.message,
      status: err.status,
      retryable: true,
      retryAfterMs: err.retryAfterMs,
      rateLimited: err.status === 429,
      credentialsRefused: false,
    };
  }
  if (err instanceof MetricsQueryError) {
    return {
      message: err.message,
      status: err.status,
      retryable: false,
      retryAfterMs: undefined,
      rateLimited: false,
      credentialsRefused: err.status === 401 || err.status === 403,
    };
  }
  return null;
}

const retryAfter = (ms: number | undefined): Record<string, string> | undefined =>
  ms === undefined ? undefined : { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) };

/**
 * The problem answering `err` from a call to `integration`, or null when `err` is not one of the
 * integrations' failures (a bug: onError answers 500). `field` is the input the service judged
 * (`q`, `jql`, `cql`, `query`).
 */
export function integrationProblem(integration: IntegrationName, field: string, err: unknown, now = Date.now()): ProblemError | null {
  const name = DISPLAY[integration];
  const configure = `PUT /api/v1/integrations/${integration}/config`;
  if (err instanceof IntegrationSettingsIncompleteError) {
    return new ProblemError(
      409,
      'integration-not-configured',
      `${name} is not completely configured for you: ${configure} with the missing fields.`,
      err.problems,
    );
  }
  if (err instanceof IntegrationNotConfiguredError) {
    return new ProblemError(
      409,
      'integration-not-configured',
      `${name} is not configured for you or your tenant: ${configure} (scope=user, or scope=tenant as an admin) first.`,
    );
  }
  if (err instanceof CorruptIntegrationSecretsError) {
    return new ProblemError(409, 'integration-not-configured', `${err.message} (${configure})`);
  }
  const failure = failureOf(err, now);
  if (!failure) return null;
  if (failure.credentialsRefused) {
    return new ProblemError(
      424,
      'integration-credentials-refused',
      `${name} refused the configured credentials (HTTP ${failure.status ?? '?'}): check the token and its permissions, then ${configure}. ${failure.message}`,
    );
  }
  if (failure.rateLimited) {
    return new ProblemError(
      429,
      'integration-rate-limited',
      `${name} is rate-limiting the configured account; try again after the Retry-After delay. ${failure.message}`,
      undefined,
      retryAfter(failure.retryAfterMs) ?? { 'retry-after': String(DEFAULT_RETRY_AFTER_S) },
    );
  }
  if (failure.retryable) {
    return new ProblemError(
      502,
      'integration-unavailable',
      `${name} could not answer: ${failure.message}`,
      undefined,
      retryAfter(failure.retryAfterMs),
    );
  }
  if (failure.status === undefined || failure.status === 400 || failure.status === 422) {
    return new ProblemError(422, 'integration-query-rejected', `${name} refused the request: ${failure.message}`, [
      { path: field, message: failure.message, code: 'rejected_by_integration' },
    ]);
  }
  return new ProblemError(502, 'integration-error', `${name} answered HTTP ${failure.status}: ${failure.message}`);
}
