import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Store, Tenant } from '../../adapters/store/port.js';
import { parsePagerDutyEnvelope } from '../../ingress/pagerduty-envelope.js';
import { RelayUnavailableError, type PagerDutyRelayer, type RelayOutcome } from '../../ingress/pagerduty-relay.js';
import { type AuthEnv } from '../auth.js';
import { ProblemError, problemResponse } from '../problem.js';
import { PagerDutyEnvelopeSchema } from '../queue-schemas.js';
import { ProblemSchema, problemResponses } from '../schemas.js';
import { createRouter, jsonResponse } from '../validation.js';
import { verifyPagerDutySignature } from './pagerduty-signature.js';

// POST /api/v1/webhooks/pagerduty: PagerDuty's V3 webhook subscription posts each event here. The
// body is read raw and its `X-PagerDuty-Signature` checked (HMAC-SHA256 under any configured secret)
// before anything parses it; then the one envelope parser and the one relayer the SQS bridge uses too
// (ingress/), so an event has the same effect whichever way it arrives, and one effect if both bring
// it. No API key: PagerDuty signs instead (api/app.ts exempts this path from authentication).
//
// Repeats, two layers: PagerDuty re-delivers with the same `X-Webhook-Id` when it saw no 2xx in
// time; a bounded in-process memory of recent ids answers such a repeat at once, with no Temporal
// call. Behind it, whatever the path and the process, the relay itself is idempotent: the trigger's
// start conflicts on `pd-<incident id>` (joined) and the run applies each event id once.

/** PagerDuty's events are a few KB; anything over this is refused before it is read further (413). */
export const PAGERDUTY_WEBHOOK_BODY_LIMIT = 64 * 1024;
/** The relay's Temporal call gives up after this (PagerDuty waits 5 s for an answer, then retries). */
export const PAGERDUTY_WEBHOOK_RELAY_TIMEOUT_MS = 3000;
/**
 * The webhook answers within this of the request's arrival whatever the relay is doing: the gRPC
 * deadline above bounds the Temporal call, but on a starved process the call can return late. A relay
 * that succeeds after the 503 is harmless: PagerDuty's retry joins the run (same workflow id, same
 * signal request id).
 */
export const PAGERDUTY_WEBHOOK_ANSWER_DEADLINE_MS = 4000;
/** Webhook ids remembered (the newest; oldest forgotten first). */
const RECENT_WEBHOOK_IDS = 2000;
const WEBHOOK_ID = /^[\x21-\x7e]{1,200}$/;

export interface PagerDutyWebhookDeps {
  store: Store;
  /** Null: this API process relays nothing (503). */
  relayer: PagerDutyRelayer | null;
  /** INFRAAI_PAGERDUTY_WEBHOOK_SECRETS; empty: the webhook is not configured (503). */
  secrets: readonly string[];
  /** INFRAAI_PAGERDUTY_TENANT: whose incidents the events become. */
  tenantSlug: string;
}

const OUTCOMES = ['started', 'joined', 'signalled', 'no_run', 'ignored', 'duplicate'] as const;

const WebhookAnswerSchema = z
  .object({
    outcome: z.enum(OUTCOMES).openapi({
      description:
        '`started`: incident.triggered started the run pd-<incident id>; `joined`: that run already existed (a repeat); `signalled`: a later event reached the run; ' +
        '`no_run`: a later event of an incident with no open run; `ignored`: an event InfraAI does not act on; `duplicate`: a repeat of an X-Webhook-Id answered from memory (nothing done)',
    }),
    workflowId: z.string().optional().openapi({ example: 'pd-PGR0VU2' }),
    reason: z.string().optional(),
  })
  .openapi('PagerDutyWebhookAnswer');
type WebhookAnswer = z.infer<typeof WebhookAnswerSchema>;

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });

export const pagerDutyWebhookRoute = createRoute({
  method: 'post',
  path: '/pagerduty',
  operationId: 'receivePagerDutyWebhook',
  tags: ['Webhooks'],
  summary: 'PagerDuty V3 webhook: signed events start and steer the incident’s run',
  description:
    'Signed by PagerDuty (`X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>`, one value per secret while a secret rotates), not by an API key. ' +
    '`incident.triggered` starts the run `pd-<incident id>`, which records an InfraAI incident for the CMDB item tagged `pagerduty_service=<service id>` and remediates it; ' +
    'acknowledged, annotated, escalated, reassigned, resolved… reach that run (each event once, whether by this webhook or the SQS bridge). ' +
    'A repeated `X-Webhook-Id` answers 200 and does nothing. Bodies over 64 KB answer 413.',
  security: [{ pagerDutySignature: [] }],
  request: {
    headers: z.object({
      'x-webhook-id': z.string().optional().openapi({ description: 'PagerDuty’s delivery id; a repeat is answered 200 and does nothing' }),
    }),
    body: { content: { 'application/json': { schema: PagerDutyEnvelopeSchema } }, required: true },
  },
  responses: {
    200: jsonResponse(WebhookAnswerSchema, 'Accepted: Temporal has the event (or it needs nothing)'),
    400: problem('The body is not a PagerDuty V3 event (after a valid signature)'),
    401: problem('X-PagerDuty-Signature is missing or matches no configured secret'),
    413: problem('Body over 64 KB'),
    415: problem('Body is not JSON'),
    ...problemResponses(431),
    503: problem('The webhook is not configured, or Temporal (or the store) did not take the event: PagerDuty retries'),
  },
});

/** A bounded memory of recent deliveries: id → the relay under way or done (a failed one is forgotten). */
class RecentDeliveries {
  private readonly entries = new Map<string, Promise<RelayOutcome>>();

  constructor(private readonly limit: number) {}

  get(id: string): Promise<RelayOutcome> | undefined {
    return this.entries.get(id);
  }

  remember(id: string, relay: Promise<RelayOutcome>): void {
    this.entries.set(id, relay);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
    relay.catch(() => {
      if (this.entries.get(id) === relay) this.entries.delete(id);
    });
  }
}

function answerOf(outcome: RelayOutcome): WebhookAnswer {
  switch (outcome.kind) {
    case 'started':
    case 'joined':
    case 'signalled':
      return { outcome: outcome.kind, workflowId: outcome.workflowId };
    case 'no_run':
      return { outcome: 'no_run', workflowId: outcome.workflowId, reason: outcome.reason };
    case 'ignored':
      return { outcome: 'ignored', reason: outcome.reason };
  }
}

/** The relay's outcome, or RelayUnavailableError once `deadline` (epoch ms) has passed. */
async function beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RelayUnavailableError('Temporal did not answer before the webhook had to answer PagerDuty')),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export function pagerDutyWebhookRoutes({ store, relayer, secrets, tenantSlug }: PagerDutyWebhookDeps) {
  const app = createRouter();
  const recent = new RecentDeliveries(RECENT_WEBHOOK_IDS);
  let tenant: Promise<Tenant> | null = null;
  const tenantOnce = (): Promise<Tenant> => {
    tenant ??= store.tenants.ensure(tenantSlug).catch((err: unknown) => {
      tenant = null;
      throw err;
    });
    return tenant;
  };

  const limit: MiddlewareHandler<AuthEnv> = bodyLimit({
    maxSize: PAGERDUTY_WEBHOOK_BODY_LIMIT,
    onError: (c) => problemResponse(c, 413, 'payload-too-large', `The request body is larger than ${PAGERDUTY_WEBHOOK_BODY_LIMIT} bytes.`),
  });

  // Documented from the route; handled without its validators, which would parse the body before its signature is checked.
  app.openAPIRegistry.registerPath(pagerDutyWebhookRoute);
  app.post('/pagerduty', limit, async (c) => {
    const answerBy = Date.now() + PAGERDUTY_WEBHOOK_ANSWER_DEADLINE_MS;
    if (secrets.length === 0 || !relayer) {
      throw new ProblemError(
        503,
        'webhook-not-configured',
        'The PagerDuty webhook is not configured in this API process (INFRAAI_PAGERDUTY_WEBHOOK_SECRETS).',
      );
    }
    const raw = new Uint8Array(await c.req.arrayBuffer());
    if (!verifyPagerDutySignature(raw, c.req.header('x-pagerduty-signature'), secrets)) {
      return problemResponse(
        c,
        401,
        'unauthorized',
        'X-PagerDuty-Signature is missing or does not match the body under any configured secret.',
      );
    }

    const webhookId = c.req.header('x-webhook-id')?.trim();
    const remembered = webhookId && WEBHOOK_ID.test(webhookId) ? webhookId : null;
    const earlier = remembered ? recent.get(remembered) : undefined;
    if (earlier) {
      // The same delivery again (PagerDuty's retry, or two at once): its first answer, or its failure.
      const first = await beforeDeadline(earlier, answerBy).catch(() => null);
      if (first) return c.json({ ...answerOf(first), outcome: 'duplicate' as const }, 200);
    }

    // Remembered before anything is awaited: the same delivery arriving meanwhile waits for this one.
    const relay = (async () => {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
      } catch {
        throw new ProblemError(400, 'bad-request', 'The body is not UTF-8 text.');
      }
      const parsed = parsePagerDutyEnvelope(text);
      if (!parsed.ok) throw new ProblemError(400, 'bad-request', `The body is ${parsed.reason}.`);
      const { id: tenantId } = await tenantOnce();
      return relayer.relay(parsed.envelope, { tenantId, tenantSlug, via: 'webhook' });
    })();
    if (remembered) recent.remember(remembered, relay);
    // A relay that fails after the deadline answered is not an unhandled rejection.
    relay.catch(() => undefined);
    try {
      return c.json(answerOf(await beforeDeadline(relay, answerBy)), 200);
    } catch (err) {
      if (err instanceof RelayUnavailableError) {
        throw new ProblemError(503, 'workflow-engine-unavailable', 'Temporal did not take the event; PagerDuty will retry.', undefined, {
          'retry-after': '5',
        });
      }
      throw err;
    }
  });
  return app;
}
