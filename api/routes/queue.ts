import { randomUUID } from 'node:crypto';
import { MAX_MESSAGE_BYTES, QueueMessageNotFoundError, QueueMessageRejectedError, type EventQueue } from '../../adapters/queue/port.js';
import type { Store } from '../../adapters/store/port.js';
import type { Incident } from '../../core/incident.js';
import { incidentIdOf, QUEUED_EVENT_ATTRIBUTES, relayPagerDutyEvent, type PagerDutyEventEnvelope } from '../../core/ingress/pagerduty.js';
import { redact } from '../../core/redact.js';
import { conflict, notFound, ProblemError, unprocessable } from '../problem.js';
import {
  IncidentResultsSchema,
  IncNumberParam,
  PagerDutyEnvelopeSchema,
  QueueAddedSchema,
  QueueRemovedSchema,
  QueueRemoveSchema,
  StoreResultSchema,
} from '../queue-schemas.js';
import { idempotencyKeyHeader } from '../run-routes.js';
import type { RunReadCache } from '../run-read-cache.js';
import { ResultSchema } from '../schemas.js';
import { apiRoute, createRouter, jsonBody, jsonResponse as json } from '../validation.js';
import { toResultResponse, type IncidentDetailRead } from './incidents.js';

// Reference 000's low-level endpoints, kept for its clients: put a PagerDuty event on the queue as
// the webhook-to-SQS relay would, take a message off it, record an incident's result by hand and
// read an incident's results. Mounted under /api/v1.
//
// Tenancy: a message put on the queue carries its tenant as a message attribute (the bridge runs
// it for that tenant), and removal by message id only finds the caller's tenant's messages. A
// receipt handle is a capability of the consumer that received the message: SQS deletes by it
// directly and no tenant can be read from it. This API hands out no receipt handle, so one reaches
// a caller only from a consumer of the queue, which could delete the message itself.

const QueueTags = ['Queue'];
const ResultTags = ['Incidents'];

const IdempotencyHeader = idempotencyKeyHeader(
  'Repeat-safe recording: the same key returns the result recorded first and records nothing.',
);

export interface QueueRouteDeps {
  store: Store;
  /** The configured queue; null: queueAdd and queueRemove answer 503. */
  queue: EventQueue | null;
  /** Incident reads kept in memory: a recorded result drops the incident's entry. */
  incidentReads?: RunReadCache<IncidentDetailRead>;
}

/** JSON text SQS accepts: it refuses U+FFFE and U+FFFF, which JSON may carry escaped. */
function queueText(value: unknown): string {
  return JSON.stringify(value).replace(/[\uFFFE\uFFFF]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16)}`);
}

export function queueRoutes({ store, queue, incidentReads }: QueueRouteDeps) {
  const app = createRouter();

  function configuredQueue(): EventQueue {
    if (queue) return queue;
    throw new ProblemError(503, 'queue-not-configured', 'No event queue is configured in this API process (INFRAAI_SQS_QUEUE_URL).');
  }

  async function incidentByNumber(tenantId: string, incNumber: number): Promise<Incident> {
    const incident = await store.incidents.getByNumber(tenantId, incNumber);
    if (!incident) throw notFound(`Incident ${incNumber}`);
    return incident;
  }

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/queueAdd',
        operationId: 'queueAdd',
        tags: QueueTags,
        summary: 'Put a PagerDuty V3 webhook event on the event queue, as PagerDuty’s webhook-to-SQS relay would',
        description:
          'On a FIFO queue the message group is the PagerDuty incident id (events of one incident stay in order) and the ' +
          'deduplication id is the event id: the same event sent again within 5 minutes is accepted and delivered once.',
        request: { body: jsonBody(PagerDutyEnvelopeSchema) },
        responses: { 202: json(QueueAddedSchema, 'On the queue; the bridge relays it into Temporal') },
      },
      [503],
    ),
    async (c) => {
      const target = configuredQueue();
      const envelope = c.req.valid('json') as PagerDutyEventEnvelope;
      const principal = c.get('principal');
      const body = queueText(envelope);
      if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) {
        throw new ProblemError(413, 'payload-too-large', `The event is larger than a queue message may be (${MAX_MESSAGE_BYTES} bytes).`);
      }
      // Both carry the caller's tenant: another tenant's message naming the same incident or event id must
      // neither wait in this tenant's group nor be dropped by SQS as a repeat of this tenant's event.
      const scope = `@${principal.tenantId}`;
      const groupId = target.fifo ? `${incidentIdOf(envelope) ?? envelope.event.resource_type}${scope}` : null;
      const deduplicationId = target.fifo ? `${envelope.event.id}${scope}` : null;
      try {
        const sent = await target.send(body, {
          ...(groupId ? { groupId } : {}),
          ...(deduplicationId ? { deduplicationId } : {}),
          attributes: {
            [QUEUED_EVENT_ATTRIBUTES.tenant]: principal.tenantId,
            [QUEUED_EVENT_ATTRIBUTES.sentBy]: principal.subject || 'unknown',
          },
        });
        return c.json(
          {
            messageId: sent.messageId,
            queued: true as const,
            queueType: target.fifo ? ('fifo' as const) : ('standard' as const),
            groupId,
            deduplicationId,
            // Only the kind is answered, and it does not depend on the tenant (the bridge picks the run's id).
            relay: relayPagerDutyEvent(envelope, { tenantScope: null }).kind,
          },
          202,
        );
      } catch (err) {
        if (err instanceof QueueMessageRejectedError) {
          throw unprocessable('The queue refused the event.', [{ path: '(body)', message: err.message, code: 'rejected_by_queue' }]);
        }
        throw err;
      }
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/queueRemove',
        operationId: 'queueRemove',
        tags: QueueTags,
        summary: 'Take a message off the event queue, by receipt handle or by message id',
        description:
          'By receipt handle SQS deletes the delivery directly. By message id the API receives the visible messages in a ' +
          'bounded scan (at most 100) and deletes the one with that id that your tenant sent; every other scanned message is ' +
          'made visible again at once, but its receive count has gone up by one (it counts toward the redrive policy). A ' +
          'message in flight with a consumer, delayed, beyond the scan, or behind another of its group on a FIFO queue is ' +
          'not seen: 404.',
        request: { body: jsonBody(QueueRemoveSchema) },
        responses: { 200: json(QueueRemovedSchema, 'Removed') },
      },
      [404, 503],
    ),
    async (c) => {
      const target = configuredQueue();
      const body = c.req.valid('json');
      const tenantId = c.get('principal').tenantId;
      if (body.receiptHandle !== undefined) {
        try {
          await target.delete(body.receiptHandle);
        } catch (err) {
          if (err instanceof QueueMessageNotFoundError || err instanceof QueueMessageRejectedError) {
            throw notFound('A delivery with this receipt handle');
          }
          throw err;
        }
        return c.json({ removed: true as const, by: 'receiptHandle' as const }, 200);
      }
      const removed = await target.removeById(body.messageId!, { match: { [QUEUED_EVENT_ATTRIBUTES.tenant]: tenantId } });
      if (!removed) {
        throw new ProblemError(
          404,
          'not-found',
          `Message ${body.messageId} was not seen among the visible messages of your tenant (it may be gone, in flight with a consumer, or beyond the scan).`,
        );
      }
      return c.json({ removed: true as const, by: 'messageId' as const }, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/storeResult',
        operationId: 'storeResult',
        tags: ResultTags,
        summary: 'Record a resolution result for an incident by hand',
        description:
          'The result joins the incident’s results (GET /api/v1/getResults/{incNumber}, GET /api/v1/incidents/{id}/result ' +
          'shows the latest) and its timeline, by time. It is a record: the incident’s status stays what its run sets.',
        request: { body: jsonBody(StoreResultSchema), headers: IdempotencyHeader },
        responses: {
          201: json(ResultSchema, 'Recorded'),
          200: json(ResultSchema, 'Repeat of an Idempotency-Key: the result recorded first'),
        },
      },
      [404, 409],
    ),
    async (c) => {
      const body = c.req.valid('json');
      const { 'idempotency-key': idempotencyKey } = c.req.valid('header');
      const principal = c.get('principal');
      const incident = await incidentByNumber(principal.tenantId, body.incNumber);
      const id = randomUUID();
      const key = `manual:${idempotencyKey ?? id}`;
      // Operator text lands in results and the timeline: a pasted token is redacted as a run's would be.
      const result = await store.results.write(principal.tenantId, {
        id,
        incidentId: incident.id,
        idempotencyKey: key,
        status: body.status,
        summary: redact(body.summary),
        details: { manual: { recordedBy: principal.subject, note: body.details === undefined ? null : redact(body.details) } },
      });
      const created = result.id === id;
      if (!created && result.incidentId !== incident.id) {
        throw conflict(`This Idempotency-Key recorded a result of incident ${result.incidentNumber}, not of incident ${incident.number}.`);
      }
      await store.jobLogs.append(principal.tenantId, {
        incidentId: incident.id,
        idempotencyKey: key,
        action: 'incident.result.manual',
        target: `incident:${incident.number}`,
        status: 'succeeded',
        detail: { status: result.status, resultId: result.id, by: principal.subject },
      });
      incidentReads?.invalidate(principal.tenantId, 'incident', incident.id);
      c.header('location', `/api/v1/getResults/${incident.number}`);
      return c.json(toResultResponse(result), created ? 201 : 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/getResults/{incNumber}',
        operationId: 'getResults',
        tags: ResultTags,
        summary: 'Every result of an incident, by its number, oldest first',
        request: { params: IncNumberParam },
        responses: { 200: json(IncidentResultsSchema, 'The incident’s results') },
      },
      [404],
    ),
    async (c) => {
      const tenantId = c.get('principal').tenantId;
      const incident = await incidentByNumber(tenantId, Number(c.req.valid('param').incNumber));
      const results = await store.results.listForIncident(tenantId, incident.id);
      return c.json({ incidentId: incident.id, incNumber: incident.number, results: results.map(toResultResponse) }, 200);
    },
  );

  return app;
}
