import { createRoute, OpenAPIHono, type RouteConfig, type z } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import type { AuthEnv } from './auth.js';
import { type FieldError, ProblemError } from './problem.js';
import { problemResponses } from './schemas.js';

export function fieldErrors(error: ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const unknownKeys = issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys : undefined;
    return {
      path: unknownKeys ? unknownKeys.join(',') : issue.path.map(String).join('.') || '(body)',
      message: unknownKeys ? `unknown field${unknownKeys.length > 1 ? 's' : ''}: ${unknownKeys.join(', ')}` : issue.message,
      code: issue.code,
    };
  });
}

// PostgreSQL text and jsonb cannot hold U+0000, and a lone UTF-16 surrogate has no UTF-8 form (the
// driver would store U+FFFD in its place): both are refused before anything reaches the store.
// eslint-disable-next-line no-control-regex -- NUL is what it finds
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Where in a validated value (query, path, header or body) there is text the store cannot hold. */
export function unstorableText(value: unknown, path: string[] = []): FieldError[] {
  const at = (where: string[]) => where.join('.') || '(body)';
  const problem = (where: string[]) => ({
    path: at(where),
    message: 'text with a NUL character (U+0000) or an unpaired UTF-16 surrogate cannot be stored',
    code: 'invalid_text',
  });
  if (typeof value === 'string') return UNSTORABLE.test(value) ? [problem(path)] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => unstorableText(item, [...path, String(i)]));
  if (value !== null && typeof value === 'object' && !(value instanceof Blob)) {
    return Object.entries(value).flatMap(([key, item]) =>
      UNSTORABLE.test(key) ? [problem([...path, key])] : unstorableText(item, [...path, key]),
    );
  }
  return [];
}

/**
 * Every sub-app is built here so all share one validation hook: a 422 problem with field errors for
 * what the schema refuses, and for text the store cannot hold in any validated input.
 */
export function createRouter(): OpenAPIHono<AuthEnv> {
  return new OpenAPIHono<AuthEnv>({
    defaultHook: (result) => {
      const where = result.target === 'json' || result.target === 'form' ? 'body' : result.target;
      if (!result.success) {
        throw new ProblemError(422, 'validation-error', `The request ${where} is not valid.`, fieldErrors(result.error as ZodError));
      }
      const unstorable = unstorableText(result.data);
      if (unstorable.length > 0) throw new ProblemError(422, 'validation-error', `The request ${where} is not valid.`, unstorable);
    },
  });
}

/** Every /api/v1 route accepts either scheme (declared in app.ts). */
export const SECURITY: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];

const WRITES = new Set(['post', 'put', 'patch', 'delete']);
const BODY_WRITES = new Set(['post', 'put', 'patch']);

/**
 * The problems a route can answer, from what it takes: every route 431, every authenticated route 401 (and 503 while
 * the store behind authentication is unreachable), writes 403 for viewers, anything validated 422,
 * a JSON body 400 (malformed); every POST/PUT 413 and 415 from the body middleware.
 */
function problemStatuses(config: Omit<RouteConfig, 'path'>, extra: readonly number[]): number[] {
  // Any request: the HTTP server refuses a header section over 16 KB (a long query string too).
  const statuses = new Set([...extra, 431]);
  const secured = config.security === undefined || config.security.length > 0;
  if (secured) {
    statuses.add(401).add(503);
    if (WRITES.has(config.method)) statuses.add(403);
    if (BODY_WRITES.has(config.method)) statuses.add(413).add(415);
  }
  const request = config.request;
  if (request?.params || request?.query || request?.headers || request?.body) statuses.add(422);
  if (request?.body) statuses.add(400);
  return [...statuses].sort((a, b) => a - b);
}

/**
 * createRoute with what every operation of the document carries: an operationId, security (the
 * API's two schemes unless the route says `security: []`), and a problem+json response for every
 * status it can answer. `problems` adds the route's own (404, 409, …).
 */
export function apiRoute<P extends string, R extends Omit<RouteConfig, 'path'> & { path: P; operationId: string }>(
  config: R,
  problems: readonly number[] = [],
) {
  const security = config.security ?? SECURITY;
  const withDefaults = { ...config, security };
  return createRoute({
    ...withDefaults,
    responses: { ...config.responses, ...problemResponses(...problemStatuses(withDefaults, problems)) },
  } as R);
}

export const jsonBody = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } }, required: true });
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
