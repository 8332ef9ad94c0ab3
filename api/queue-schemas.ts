import { z } from '@hono/zod-openapi';
import type { IncidentStatus } from '../core/incident.js';
import { incidentIdOf, type PagerDutyEventEnvelope } from '../core/ingress/pagerduty.js';
import { InstantText } from './policy-schemas.js';
import { orNull } from './remediation-schemas.js';
import { ResultSchema, text } from './schemas.js';

// Reference 000's low-level endpoints as the API takes and shows them: a PagerDuty V3 webhook
// envelope put on the queue, a message taken off it, a result recorded by hand and an incident's
// results read back.

// Letters, digits and the punctuation SQS allows in a deduplication id, without spaces: an event id
// is used as one as it is.
const PagerDutyId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits, . _ : - (PagerDuty’s event id)')
  .openapi({ example: '01DEN2K6T2Y1Q4ZMTZE8SPCHKT' });

const ReferenceSchema = z
  .object({
    id: z.string().max(64).optional(),
    type: z.string().max(64).optional(),
    summary: z.string().max(1024).optional(),
    html_url: z.string().max(2048).optional(),
  })
  .loose()
  .openapi('PagerDutyReference');

/**
 * PagerDuty's V3 webhook envelope (`{ event: { id, event_type, resource_type, occurred_at, agent,
 * client, data } }`). Fields PagerDuty adds over time are kept and travel on the queue as sent.
 */
export const PagerDutyEnvelopeSchema = z
  .object({
    event: z
      .object({
        id: PagerDutyId,
        event_type: z
          .string()
          .max(128)
          .regex(/^[a-z][a-z_]*(?:\.[a-z][a-z_]*)+$/, 'a PagerDuty event type such as incident.triggered')
          .openapi({ example: 'incident.triggered' }),
        resource_type: z
          .string()
          .max(64)
          .regex(/^[a-z][a-z_]*$/, 'a PagerDuty resource type such as incident')
          .openapi({ example: 'incident' }),
        occurred_at: InstantText,
        agent: orNull(ReferenceSchema).optional(),
        client: orNull(z.object({ name: z.string().max(256).optional() }).loose()).optional(),
        data: z.record(z.string(), z.unknown()).openapi({
          description:
            'The incident for most incident events (id, type "incident", number, title, status, service…); an object with incident: { id } for notes, responders and status updates',
        }),
      })
      .loose(),
  })
  .loose()
  .superRefine((envelope, ctx) => {
    if (envelope.event.resource_type !== 'incident') return;
    if (!incidentIdOf(envelope as PagerDutyEventEnvelope)) {
      ctx.addIssue({
        code: 'custom',
        path: ['event', 'data', 'id'],
        message:
          'an incident event names its incident: data.id with data.type "incident", or data.incident.id (1–64 letters, digits, _ or -)',
      });
    }
  })
  .openapi('PagerDutyEventEnvelope', {
    example: {
      event: {
        id: '01DEN2K6T2Y1Q4ZMTZE8SPCHKT',
        event_type: 'incident.triggered',
        resource_type: 'incident',
        occurred_at: '2026-12-06T10:00:00.000Z',
        agent: null,
        data: { id: 'PGR0VU2', type: 'incident', number: 42, title: 'web-01 down', status: 'triggered' },
      },
    },
  });

export const QueueAddedSchema = z
  .object({
    messageId: z.string().openapi({
      description:
        'The queue’s id of the message. On a FIFO queue a repeat of an event id within 5 minutes is accepted and not delivered again (SQS deduplication)',
    }),
    queued: z.literal(true),
    queueType: z.enum(['fifo', 'standard']),
    groupId: z.string().nullable().openapi({
      description:
        'FIFO: the message group, `<PagerDuty incident id>@<your tenant id>` (the resource type for other resources); null on a standard queue',
    }),
    deduplicationId: z
      .string()
      .nullable()
      .openapi({ description: 'FIFO: `<PagerDuty event id>@<your tenant id>`; null on a standard queue' }),
    relay: z.enum(['start', 'signal', 'ignore']).openapi({
      description:
        'What the bridge does with it: start your tenant’s run of the incident (incident.triggered), signal that run (events that change the incident), or acknowledge and ignore it',
    }),
  })
  .openapi('QueueAdded');

// An SQS message id (a UUID) and receipt handle (opaque, printable ASCII).
const MessageId = z
  .string()
  .regex(/^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/, 'an SQS message id (a UUID)')
  .openapi({ example: '5fea7756-0ea4-451a-a703-a558b933e274' });
const ReceiptHandle = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[!-~]+$/, 'an SQS receipt handle (printable ASCII, no spaces)');

export const QueueRemoveSchema = z
  .object({
    receiptHandle: ReceiptHandle.optional().openapi({
      description: 'The handle of a delivery, as the consumer that received the message got it: deleted by SQS directly',
    }),
    messageId: MessageId.optional().openapi({
      description:
        'Found by a bounded receive-and-scan (SQS cannot delete by id): only messages that are visible now, sent by your tenant, within the first 100 scanned',
    }),
  })
  .strict()
  .superRefine((body, ctx) => {
    const given = [body.receiptHandle, body.messageId].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({ code: 'custom', path: ['receiptHandle'], message: 'send exactly one of receiptHandle and messageId' });
    }
  })
  .openapi('QueueRemove');

export const QueueRemovedSchema = z
  .object({ removed: z.literal(true), by: z.enum(['receiptHandle', 'messageId']) })
  .openapi('QueueRemoved');

/** The statuses a result holds: the terminal ones, as writeIncidentResult writes them. */
const RESULT_STATUSES = ['resolved', 'escalated', 'failed', 'cancelled'] as const satisfies readonly IncidentStatus[];

/** Per-tenant incident numbers as the store keeps them (below 10^15, exact in JSON). */
const INC_NUMBER_MAX = 999_999_999_999_999;

export const StoreResultSchema = z
  .object({
    incNumber: z.number().int().min(1).max(INC_NUMBER_MAX).openapi({ description: 'The incident’s number (INC-42 is 42)', example: 42 }),
    status: z.enum(RESULT_STATUSES).openapi({
      description: 'The outcome, as a run records its own: resolved, escalated, failed or cancelled',
    }),
    summary: text({ min: 1, max: 4000, trim: true }),
    details: text({ max: 16_000 }).optional().openapi({ description: 'What was done, in the operator’s words' }),
  })
  .strict()
  .openapi('StoreResult');

export const IncNumberParam = z.object({
  incNumber: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'an incident number (INC-42 is 42)')
    .openapi({ param: { name: 'incNumber', in: 'path' }, example: '42' }),
});

export const IncidentResultsSchema = z
  .object({
    incidentId: z.string().uuid(),
    incNumber: z.number().int(),
    results: z
      .array(ResultSchema)
      .openapi({ description: 'Every result of the incident, oldest first: its runs’ and those recorded by hand' }),
  })
  .openapi('IncidentResults');
