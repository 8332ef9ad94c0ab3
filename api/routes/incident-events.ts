import { z } from '@hono/zod-openapi';
import type { RunEventBus } from '../../adapters/events/port.js';
import type { Store } from '../../adapters/store/port.js';
import { isTerminalIncidentStatus } from '../../core/incident.js';
import { notFound } from '../problem.js';
import { streamOneRun, streamRunEvents } from '../run-event-stream.js';
import { IdParam } from '../schemas.js';
import { apiRoute, createRouter } from '../validation.js';

// Live progress of incident runs as Server-Sent Events: one run's events (ids are its seq) and all
// of the tenant's incident events (ids are the tenant's sequence numbers). Mounted before the
// incident routes so that /events is not taken for an incident id.

const tags = ['Incidents'];
const EVENT_ID = /^\d{1,15}$/;

export const StreamHeaders = z.object({
  'last-event-id': z
    .string()
    .regex(EVENT_ID, 'the id of the last event received')
    .optional()
    .openapi({ description: 'Resume after this event (sent by EventSource on reconnect): no gap, no repeat' }),
});
export const StreamQuery = z
  .object({
    after: z
      .string()
      .regex(EVENT_ID, 'the id of the last event received')
      .optional()
      .openapi({ description: 'Same as Last-Event-ID, for clients that cannot set headers; the header wins' }),
  })
  .strict();

export const streamResponse = (description: string) => ({
  description:
    `${description} Each event: \`event: <type>\`, \`id: <id>\`, \`data: <RunEvent JSON>\`; a first \`ready\` event carries no id; ` +
    'comment lines keep an idle stream open. The server closes a stream after INFRAAI_SSE_MAX_STREAM_MS; reconnect with Last-Event-ID.',
  content: {
    'text/event-stream': {
      // Each event of the stream, as an SSE parser hands it over (data is the JSON text).
      schema: z
        .object({
          event: z.string(),
          data: z.string(),
          id: z.string().regex(EVENT_ID).optional(),
          retry: z.number().int().optional(),
        })
        .openapi('ServerSentEvent', { example: { event: 'step.started', id: '3', data: '{"seq":3,"type":"step.started"}' } }),
    },
  },
});

export function lastEventId(header: string | undefined, query: string | undefined): number {
  return Number(header ?? query ?? 0);
}

export function incidentEventRoutes(store: Store, bus: RunEventBus | undefined, maxStreamMs: number) {
  const app = createRouter();

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/events',
        operationId: 'streamIncidentEvents',
        tags,
        summary: 'Live events of every incident run of the tenant (Server-Sent Events)',
        request: { headers: StreamHeaders, query: StreamQuery },
        responses: { 200: streamResponse('The tenant’s incident events from the one after Last-Event-ID (ids: tenantSeq).') },
      },
      [],
    ),
    (c) => {
      const tenantId = c.get('principal').tenantId;
      return streamRunEvents(c, {
        tenantId,
        bus,
        after: lastEventId(c.req.valid('header')['last-event-id'], c.req.valid('query').after),
        idOf: (event) => event.tenantSeq,
        read: (after, limit) => store.runs.eventsOfTenant(tenantId, after, limit, 'incident'),
        concerns: (notice) => notice.family === 'incident',
        maxStreamMs,
      }) as never;
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{id}/events',
        operationId: 'streamIncidentRunEvents',
        tags,
        summary: 'Live events of one incident’s run (Server-Sent Events), ending with run.ended',
        request: { params: IdParam, headers: StreamHeaders, query: StreamQuery },
        responses: {
          200: streamResponse('The run’s events from the one after Last-Event-ID (ids: the run’s seq); the stream ends after run.ended.'),
        },
      },
      [404],
    ),
    async (c) => {
      const tenantId = c.get('principal').tenantId;
      const incident = await store.incidents.get(tenantId, c.req.valid('param').id);
      if (!incident) throw notFound(`Incident '${c.req.valid('param').id}'`);
      return streamOneRun(c, {
        store,
        bus,
        tenantId,
        family: 'incident',
        runId: incident.id,
        after: lastEventId(c.req.valid('header')['last-event-id'], c.req.valid('query').after),
        maxStreamMs,
        // A run that ended before projections existed.
        endedWithoutProjection: async () =>
          isTerminalIncidentStatus((await store.incidents.get(tenantId, incident.id))?.status ?? 'cancelled'),
      }) as never;
    },
  );

  return app;
}
