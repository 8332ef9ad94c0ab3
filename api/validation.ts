import { OpenAPIHono, type z } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import type { AuthEnv } from './auth.js';
import { type FieldError, ProblemError } from './problem.js';

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

/** Every sub-app is built here so all share one validation hook (422 problem with field errors). */
export function createRouter(): OpenAPIHono<AuthEnv> {
  return new OpenAPIHono<AuthEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === 'json' ? 'body' : result.target;
        throw new ProblemError(422, 'validation-error', `The request ${where} is not valid.`, fieldErrors(result.error as ZodError));
      }
    },
  });
}

/** Every /api/v1 route accepts either scheme (declared in app.ts). */
export const SECURITY: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];

export const jsonBody = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } }, required: true });
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
