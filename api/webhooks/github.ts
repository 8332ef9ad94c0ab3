import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Store } from '../../adapters/store/port.js';
import { isFinalProvisionStatus } from '../../core/contracts/provisioning.js';
import type { AuthEnv } from '../auth.js';
import { ProblemError, problemResponse } from '../problem.js';
import { ProblemSchema, problemResponses } from '../schemas.js';
import type { ProvisioningWorkflowGateway } from '../temporal-gateway.js';
import { createRouter, jsonResponse } from '../validation.js';
import { verifyGitHubSignature } from './github-signature.js';

// POST /api/v1/webhooks/github: the repository's webhook (events `pull_request`, and `ping` when the
// hook is made). The raw body's `X-Hub-Signature-256` is checked (HMAC-SHA256 under any configured
// secret) before anything parses it; a pull request closed (merged or not) whose head branch is a
// provisioning request's (`infraai/provision-<id>`) is signalled to that request's run. No API key:
// GitHub signs instead (api/app.ts exempts this path from authentication). A repeated delivery
// signals again; the run takes only the first end of its pull request.

/** Pull-request events carry the repository and the pull request: well under this. */
export const GITHUB_WEBHOOK_BODY_LIMIT = 1024 * 1024;

export interface GitHubWebhookDeps {
  store: Store;
  /** Null: this API process signals no run (503). */
  workflows: ProvisioningWorkflowGateway | null;
  /** INFRAAI_GITHUB_WEBHOOK_SECRETS; empty: the webhook is not configured (503). */
  secrets: readonly string[];
}

const GitHubWebhookAnswerSchema = z
  .object({
    outcome: z.enum(['signalled', 'no_run', 'ignored', 'pong']).openapi({
      description:
        '`signalled`: the request’s run was told its pull request was merged or closed; `no_run`: the request’s run has ended; ' +
        '`ignored`: an event or a pull request InfraAI does not act on; `pong`: the hook’s ping',
    }),
    requestId: z.string().uuid().optional(),
    workflowId: z.string().optional(),
    reason: z.string().optional(),
  })
  .openapi('GitHubWebhookAnswer');
type Answer = z.infer<typeof GitHubWebhookAnswerSchema>;

const PullRequestEvent = z.object({
  action: z.string(),
  pull_request: z.object({
    number: z.number().int().positive(),
    merged: z.boolean().nullable().optional(),
    head: z.object({ ref: z.string() }),
  }),
});

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });

export const gitHubWebhookRoute = createRoute({
  method: 'post',
  path: '/github',
  operationId: 'receiveGitHubWebhook',
  tags: ['Webhooks'],
  summary: 'GitHub webhook: a provisioning pull request merged or closed ends its request’s review',
  description:
    'Signed by GitHub (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`), not by an API key. `pull_request` events with ' +
    'action `closed` for a branch `infraai/provision-<id>` reach that request’s run: merged completes it, closed without merging cancels it. ' +
    '`ping` answers `pong`; other events and branches are ignored (200).',
  security: [{ gitHubSignature: [] }],
  request: {
    headers: z.object({
      'x-github-event': z.string().optional().openapi({ description: 'pull_request, ping, …' }),
      'x-github-delivery': z.string().optional(),
    }),
    body: { content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } }, required: true },
  },
  responses: {
    200: jsonResponse(GitHubWebhookAnswerSchema, 'Accepted'),
    400: problem('The body is not JSON, or not a pull request event (after a valid signature)'),
    401: problem('X-Hub-Signature-256 is missing or matches no configured secret'),
    413: problem('Body over 1 MB'),
    415: problem('Body is not JSON'),
    ...problemResponses(431),
    503: problem('The webhook is not configured, or Temporal did not take the signal: GitHub can redeliver'),
  },
});

export function gitHubWebhookRoutes({ store, workflows, secrets }: GitHubWebhookDeps) {
  const app = createRouter();
  const limit: MiddlewareHandler<AuthEnv> = bodyLimit({
    maxSize: GITHUB_WEBHOOK_BODY_LIMIT,
    onError: (c) => problemResponse(c, 413, 'payload-too-large', `The request body is larger than ${GITHUB_WEBHOOK_BODY_LIMIT} bytes.`),
  });

  // Documented from the route; handled without its validators, which would parse the body before its signature is checked.
  app.openAPIRegistry.registerPath(gitHubWebhookRoute);
  app.post('/github', limit, async (c) => {
    if (secrets.length === 0 || !workflows) {
      throw new ProblemError(
        503,
        'webhook-not-configured',
        'The GitHub webhook is not configured in this API process (INFRAAI_GITHUB_WEBHOOK_SECRETS).',
      );
    }
    const raw = new Uint8Array(await c.req.arrayBuffer());
    if (!verifyGitHubSignature(raw, c.req.header('x-hub-signature-256'), secrets)) {
      return problemResponse(
        c,
        401,
        'unauthorized',
        'X-Hub-Signature-256 is missing or does not match the body under any configured secret.',
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
    } catch {
      throw new ProblemError(400, 'bad-request', 'The body is not UTF-8 JSON.');
    }
    const event = c.req.header('x-github-event') ?? '';
    const answer = (value: Answer) => c.json(value, 200);
    if (event === 'ping') return answer({ outcome: 'pong' });
    if (event !== 'pull_request') return answer({ outcome: 'ignored', reason: `event ${event || '(none)'} is not acted on` });
    const parsed = PullRequestEvent.safeParse(body);
    if (!parsed.success) throw new ProblemError(400, 'bad-request', 'The body is not a pull_request event.');
    const { action, pull_request: pr } = parsed.data;
    if (action !== 'closed') return answer({ outcome: 'ignored', reason: `action ${action} is not acted on` });
    const request = await store.provisioning.findByBranch(pr.head.ref);
    if (!request) return answer({ outcome: 'ignored', reason: `branch ${pr.head.ref} is no provisioning request's` });
    if (request.prNumber !== null && request.prNumber !== pr.number) {
      return answer({
        outcome: 'ignored',
        requestId: request.id,
        reason: `pull request #${pr.number} is not the request's (#${request.prNumber})`,
      });
    }
    const state = pr.merged ? ('merged' as const) : ('closed' as const);
    if (!isFinalProvisionStatus(request.status)) await store.provisioning.update(request.tenantId, request.id, { prState: state });
    const outcome = await workflows.signalReviewed(request.workflowId, { number: pr.number, state });
    return answer({ outcome, requestId: request.id, workflowId: request.workflowId });
  });
  return app;
}
