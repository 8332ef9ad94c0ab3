import { z } from '@hono/zod-openapi';
import { unprocessable, type FieldError, type ProblemError } from './problem.js';

// What the routes that start runs (incidents, automation, diagnosis, and the families to come)
// share: a repeat-safe start keyed by the client, CMDB references checked before anything is
// written, and no record left behind when its workflow could not start.

/** The `Idempotency-Key` header: visible ASCII without surrounding spaces, what survives HTTP unchanged. */
export function idempotencyKeyHeader(description: string) {
  return z.object({
    'idempotency-key': z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/, 'visible ASCII characters')
      .optional()
      .openapi({ description }),
  });
}

/** The field error for a CMDB tagId the tenant does not have. */
export function unknownCmdbItem(path: string, tagId: string): FieldError {
  return { path, message: `no CMDB item with tagId '${tagId}'`, code: 'unknown_reference' };
}

/** The 422 problem for CMDB tagIds a start named that the tenant does not have. */
export function unknownCmdbItems(err: { unknown: readonly { path: string; tagId: string }[] }): ProblemError {
  return unprocessable(
    'The request body is not valid.',
    err.unknown.map(({ path, tagId }) => unknownCmdbItem(path, tagId)),
  );
}
