// One JSON-over-HTTPS call on Node's global fetch, shared by the adapters that speak small vendor
// REST APIs directly (ServiceNow's Table API, PagerDuty's REST and Events APIs): the notifiers and
// the chat tools' integrations classify failures the same way, each into its own error class
// (`fail`). 408, 429, 5xx, timeouts and network errors are retryable; any other answer is not.
// Messages are built from the service's own error text with every known secret (and anything
// that looks like one) masked, and never include request headers.

import { redactText, truncateText } from '../../core/redact.js';
import type { ServiceFailure } from './service-error.js';

/** How a call failed, for the caller's error class (a ServiceCallError subclass, or the notifiers' NotifierError). */
export interface HttpFailure extends ServiceFailure {
  /** The caller's signal aborted the call (the activity was cancelled): nothing to retry. */
  cancelled?: boolean;
}

export type FailureFactory = (message: string, failure: HttpFailure) => Error;

export interface JsonRequest {
  /** Service name, for messages: 'servicenow', 'pagerduty'. */
  service: string;
  /** What was being done, for messages: 'update incident', 'list incidents'. */
  operation: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  /** Aborts the call (an activity cancelled); combined with the timeout. */
  signal?: AbortSignal | undefined;
  /** Values that must never appear in an error message (password, token, API key, encoded credentials). */
  secrets: readonly string[];
  /** Pulls the service's own error text from a JSON (or text) error body. */
  errorText: (body: unknown) => string | undefined;
  /** A non-2xx answer this call handles itself (returned instead of thrown). */
  tolerate?: (status: number, body: unknown) => boolean;
  /** Builds the error thrown for a failed call. */
  fail: FailureFactory;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, the raw text when it is not JSON, undefined when empty. */
  body: unknown;
}

export async function requestJson(request: JsonRequest): Promise<JsonResponse> {
  const { service, operation, secrets, fail } = request;
  const target = new URL(request.url);
  const timeout = AbortSignal.timeout(request.timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await fetch(target, {
      method: request.method,
      headers: request.headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: request.signal ? AbortSignal.any([request.signal, timeout]) : timeout,
      // A redirect is reported, not followed: it would replay credentials and turn PATCH into GET.
      redirect: 'manual',
    });
    text = await response.text();
  } catch (err) {
    if (request.signal?.aborted) {
      throw fail(`${service} ${operation} cancelled`, { retryable: false, cancelled: true });
    }
    throw networkError(err, request, target);
  }
  const body = parseBody(text);
  if ((response.status >= 200 && response.status < 300) || request.tolerate?.(response.status, body)) {
    return { status: response.status, headers: response.headers, body };
  }
  const status = response.status;
  const retryable = status === 408 || status === 429 || status >= 500;
  const serviceText = request.errorText(body) ?? (typeof body === 'string' ? body : undefined);
  const message = `${service} ${operation} failed: HTTP ${status} (${reason(status)})${serviceText ? `: ${truncateText(serviceText.replace(/\s+/g, ' ').trim(), 300)}` : ''}`;
  throw fail(redactText(message, secrets), { retryable, status, retryAfterMs: retryable ? retryAfterMs(response.headers) : undefined });
}

function networkError(err: unknown, request: JsonRequest, target: URL): Error {
  const { service, operation, secrets, fail } = request;
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return fail(redactText(`${service} ${operation} failed: no answer from ${target.origin} within ${request.timeoutMs} ms`, secrets), {
      retryable: true,
    });
  }
  // undici reports a failed connection as TypeError('fetch failed') with the socket error as its
  // cause. Any other TypeError is a request fetch refused to build (an invalid header value, say):
  // sending it again cannot help.
  const refused = err instanceof TypeError && err.message !== 'fetch failed';
  const detail = causeText(err);
  return fail(
    redactText(
      `${service} ${operation} failed: ${refused ? 'the request could not be sent' : `the request did not reach ${target.origin}`} (${detail})`,
      secrets,
    ),
    { retryable: !refused },
  );
}

/** The innermost error code (ECONNREFUSED, UND_ERR_SOCKET, CERT_HAS_EXPIRED…), else the innermost message. */
function causeText(err: unknown): string {
  let text = err instanceof Error ? err.message : String(err);
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    text = typeof code === 'string' ? code : current.message || text;
  }
  return truncateText(text, 200);
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function reason(status: number): string {
  if (status >= 300 && status < 400) return 'redirected; check the base URL';
  if (status === 400) return 'request rejected as invalid';
  if (status === 401) return 'credentials rejected';
  if (status === 403) return 'forbidden for this account';
  if (status === 404) return 'not found';
  if (status === 408) return 'request timeout';
  if (status === 429) return 'rate limited';
  if (status >= 500) return 'server error';
  return 'request rejected';
}

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP date. PagerDuty's REST API also (or
 * instead) sends `ratelimit-reset`, the seconds until the rate-limit window resets.
 */
export function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (value) {
    if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
    const at = Date.parse(value);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  const reset = headers.get('ratelimit-reset')?.trim();
  if (reset && /^\d+(\.\d+)?$/.test(reset)) return Math.round(Number(reset) * 1000);
  return undefined;
}

/**
 * Base URL without trailing slashes; rejects non-http(s) URLs and URLs carrying credentials,
 * a query or a fragment (without echoing them), through the caller's error class.
 */
export function normalizeBaseUrl(value: string, what: string, service: string, fail: FailureFactory): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail(`${service}: ${what} is not a valid URL`, { retryable: false });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw fail(`${service}: ${what} must be an http(s) URL`, { retryable: false });
  if (url.username || url.password)
    throw fail(`${service}: ${what} must not carry credentials; configure them separately`, { retryable: false });
  if (url.search || url.hash) throw fail(`${service}: ${what} must not have a query or fragment`, { retryable: false });
  return url.toString().replace(/\/+$/, '');
}
