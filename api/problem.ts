import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** RFC 9457 problem details; every error the API returns has this shape. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
}

export interface FieldError {
  path: string;
  message: string;
  code: string;
}

const TITLES: Record<string, string> = {
  'bad-request': 'Bad request',
  'malformed-json': 'Malformed JSON',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  conflict: 'Conflict',
  'precondition-required': 'Precondition required',
  'payload-too-large': 'Payload too large',
  'headers-too-large': 'Request header fields too large',
  'unsupported-media-type': 'Unsupported media type',
  'validation-error': 'Validation error',
  'workflow-engine-unavailable': 'Workflow engine unavailable',
  'workflow-failed': 'Workflow run failed',
  'workflow-timed-out': 'Workflow run timed out',
  'store-unavailable': 'Store unavailable',
  'cluster-not-configured': 'No Kubernetes cluster configured',
  'cluster-unavailable': 'Kubernetes cluster unavailable',
  'model-unavailable': 'Model endpoint unavailable',
  'queue-not-configured': 'No event queue configured',
  'queue-unavailable': 'Event queue unavailable',
  'webhook-not-configured': 'Webhook not configured',
  'provisioning-not-configured': 'Provisioning not configured',
  'secrets-unavailable': 'Secrets store unavailable',
  'rate-limited': 'Too many requests',
  'integration-not-configured': 'Integration not configured',
  'integration-credentials-refused': 'Integration credentials refused',
  'integration-rate-limited': 'Integration rate limit reached',
  'integration-query-rejected': 'Integration refused the query',
  'integration-unavailable': 'Integration unavailable',
  'integration-error': 'Integration error',
  'internal-error': 'Internal error',
};

export type ProblemKind = keyof typeof TITLES & string;

/** An error that knows its HTTP answer; thrown from handlers and rendered once by onError. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly kind: ProblemKind,
    detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }
}

export const notFound = (what: string) => new ProblemError(404, 'not-found', `${what} was not found.`);
export const conflict = (detail: string) => new ProblemError(409, 'conflict', detail);
export const unprocessable = (detail: string, errors: FieldError[]) => new ProblemError(422, 'validation-error', detail, errors);

export function problemBody(c: Context, status: number, kind: string, detail: string, errors?: FieldError[]): Problem {
  const requestId = c.get('requestId' as never) as string | undefined;
  return {
    type: `urn:infraai:problem:${kind}`,
    title: TITLES[kind] ?? 'Error',
    status,
    detail,
    instance: c.req.path,
    ...(requestId ? { requestId } : {}),
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

export function problemResponse(
  c: Context,
  status: ContentfulStatusCode,
  kind: string,
  detail: string,
  errors?: FieldError[],
  headers?: Record<string, string>,
): Response {
  const body = problemBody(c, status, kind, detail, errors);
  return c.body(JSON.stringify(body), status, { 'content-type': 'application/problem+json', ...headers });
}
