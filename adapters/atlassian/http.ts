import { redactText, truncateText } from '../../core/redact.js';

// The HTTP call the Jira and Confluence adapters share: both are Atlassian Cloud REST APIs with the
// same Basic auth (account email and API token), JSON bodies and error shapes. There is no vendor SDK
// worth a dependency for the few calls made, so they use Node's fetch. A call is one attempt; every
// failure is described once here (kind, status, Retry-After) and each adapter turns it into its own
// named error. Messages carry the service's error text with the token masked, never request headers.

export interface AtlassianAccount {
  /** The site, https://<site>.atlassian.net (no trailing slash). */
  baseUrl: string;
  email: string;
  apiToken: string;
  /** Per request; 15 s by default. */
  timeoutMs?: number;
}

export type FailureKind = 'auth' | 'not_found' | 'invalid' | 'rate_limited' | 'unavailable' | 'other';

export interface HttpFailure {
  kind: FailureKind;
  status: number | null;
  message: string;
  /** From Retry-After on 429 and 503. */
  retryAfterMs?: number;
}

export interface JsonCall {
  /** What is being done, for messages: 'search issues', 'get page 123'. */
  operation: string;
  method: 'GET' | 'POST';
  /** Path under the site, with its query already encoded, e.g. /rest/api/3/search/jql. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal | undefined;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export function createAtlassianHttp(account: AtlassianAccount, product: string, toError: (failure: HttpFailure) => Error) {
  const baseUrl = account.baseUrl.replace(/\/+$/, '');
  const authorization = `Basic ${Buffer.from(`${account.email}:${account.apiToken}`).toString('base64')}`;
  const secrets = [account.apiToken, authorization.slice('Basic '.length)];
  const timeoutMs = account.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return async function requestJson<T>(call: JsonCall): Promise<T> {
    const url = new URL(`${baseUrl}${call.path}`);
    for (const [key, value] of Object.entries(call.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: call.method,
        headers: {
          authorization,
          accept: 'application/json',
          ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal,
        // A redirect (to a login page, another site) is reported, not followed with the credentials.
        redirect: 'manual',
      });
      text = await response.text();
    } catch (err) {
      if (call.signal?.aborted) throw call.signal.reason ?? err;
      const detail = timeout.aborted ? `no answer within ${timeoutMs} ms` : `the request did not reach ${url.origin} (${causeText(err)})`;
      throw toError({ kind: 'unavailable', status: null, message: redactText(`${product} ${call.operation}: ${detail}`, secrets) });
    }
    const body = parse(text);
    if (response.status >= 200 && response.status < 300) return body as T;

    const status = response.status;
    const said = serviceText(body);
    const message = redactText(
      `${product} ${call.operation}: HTTP ${status} (${reason(status)})${said ? `: ${truncateText(said, 300)}` : ''}`,
      secrets,
    );
    const retryAfterMs = retryAfter(response.headers);
    const kind: FailureKind =
      status === 401 || status === 403
        ? 'auth'
        : status === 404
          ? 'not_found'
          : status === 400 || status === 422
            ? 'invalid'
            : status === 429
              ? 'rate_limited'
              : status >= 500 || status === 408
                ? 'unavailable'
                : 'other';
    throw toError({
      kind,
      status,
      message,
      ...(retryAfterMs !== undefined && (kind === 'rate_limited' || kind === 'unavailable') ? { retryAfterMs } : {}),
    });
  };
}

function parse(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The service's own words from the error shapes Atlassian uses: Jira's { errorMessages, errors },
 * Confluence v1's { message, data.errors[].message.translation } and v2's { errors: [{ title, detail }] }.
 */
function serviceText(body: unknown): string | undefined {
  if (typeof body === 'string')
    return (
      body
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim() || undefined
    );
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const parts: string[] = [];
  if (Array.isArray(b.errorMessages)) parts.push(...b.errorMessages.filter((m): m is string => typeof m === 'string'));
  if (b.errors && typeof b.errors === 'object' && !Array.isArray(b.errors)) {
    for (const [field, text] of Object.entries(b.errors as Record<string, unknown>))
      if (typeof text === 'string') parts.push(`${field}: ${text}`);
  }
  if (Array.isArray(b.errors)) {
    for (const e of b.errors as { title?: unknown; detail?: unknown }[]) {
      const text = [e?.title, e?.detail].filter((x): x is string => typeof x === 'string' && x !== '').join(': ');
      if (text) parts.push(text);
    }
  }
  if (typeof b.message === 'string') parts.push(b.message);
  const data = b.data as { errors?: { message?: { translation?: unknown } }[] } | undefined;
  for (const e of data?.errors ?? []) if (typeof e?.message?.translation === 'string') parts.push(e.message.translation);
  return parts.length ? [...new Set(parts)].join('; ') : undefined;
}

function reason(status: number): string {
  if (status >= 300 && status < 400) return 'redirected; check the base URL';
  if (status === 400) return 'request rejected as invalid';
  if (status === 401) return 'email or API token rejected';
  if (status === 403) return 'forbidden for this account';
  if (status === 404) return 'not found, or this account may not see it';
  if (status === 429) return 'rate limited';
  if (status >= 500) return 'server error';
  return 'request rejected';
}

function retryAfter(headers: Headers): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The innermost error code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED…), else the innermost message. */
function causeText(err: unknown): string {
  let text = err instanceof Error ? err.message : String(err);
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    text = typeof code === 'string' ? code : current.message || text;
  }
  return truncateText(text, 200);
}
