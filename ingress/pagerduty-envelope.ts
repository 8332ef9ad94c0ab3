import { z } from 'zod';
import type { PagerDutyEventEnvelope } from '../core/ingress/pagerduty.js';

// The one validation of a PagerDuty V3 webhook event, used by the webhook route and the SQS bridge
// alike (so a body one path accepts, the other accepts too). Only what the relay reads is checked;
// PagerDuty's other fields pass through untouched.

const reference = z.looseObject({
  id: z.string().max(200),
  type: z.string().max(200).optional(),
  summary: z.string().max(4000).optional(),
  html_url: z.string().max(2000).optional(),
});

export const PagerDutyEnvelopeSchema = z.looseObject({
  event: z.looseObject({
    id: z.string().min(1).max(200),
    event_type: z.string().min(1).max(200),
    resource_type: z.string().min(1).max(200),
    occurred_at: z.string().min(1).max(100),
    agent: reference.nullable().optional(),
    data: z.record(z.string(), z.unknown()),
  }),
});

export type EnvelopeParse = { ok: true; envelope: PagerDutyEventEnvelope } | { ok: false; reason: string };

/**
 * A PagerDuty event from its raw text: JSON, then the envelope. EventBridge wraps the webhook body
 * in `detail` (`{ "detail-type": …, "detail": { "event": … } }`); that shape is accepted too.
 */
export function parsePagerDutyEnvelope(text: string): EnvelopeParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const candidate =
    json && typeof json === 'object' && 'detail' in json && !('event' in json) ? (json as { detail: unknown }).detail : json;
  const parsed = PagerDutyEnvelopeSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `not a PagerDuty V3 event: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    };
  }
  return { ok: true, envelope: parsed.data as PagerDutyEventEnvelope };
}
