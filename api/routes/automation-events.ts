import type { RunEventBus } from '../../adapters/events/port.js';
import type { Store } from '../../adapters/store/port.js';
import { isFinalAutomationStatus } from '../../core/contracts/automation.js';
import { notFound } from '../problem.js';
import { streamOneRun } from '../run-event-stream.js';
import { IdParam } from '../schemas.js';
import { apiRoute, createRouter } from '../validation.js';
import { lastEventId, StreamHeaders, StreamQuery, streamResponse } from './incident-events.js';

// Live progress of one automation run as Server-Sent Events (ids: the run's seq), read from the
// projection's event log like the incident streams; the stream ends after run.ended.

const tags = ['Automation'];

export function automationEventRoutes(store: Store, bus: RunEventBus | undefined, maxStreamMs: number) {
  const app = createRouter();

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{id}/events',
        operationId: 'streamAutomationRunEvents',
        tags,
        summary: 'Live events of one automation run (Server-Sent Events), ending with run.ended',
        request: { params: IdParam, headers: StreamHeaders, query: StreamQuery },
        responses: {
          200: streamResponse('The run’s events from the one after Last-Event-ID (ids: the run’s seq); the stream ends after run.ended.'),
        },
      },
      [404],
    ),
    async (c) => {
      const tenantId = c.get('principal').tenantId;
      const run = await store.automation.get(tenantId, c.req.valid('param').id);
      if (!run) throw notFound(`Automation run '${c.req.valid('param').id}'`);
      return streamOneRun(c, {
        store,
        bus,
        tenantId,
        family: 'automation',
        runId: run.id,
        after: lastEventId(c.req.valid('header')['last-event-id'], c.req.valid('query').after),
        maxStreamMs,
        // A run removed, or ended without ever projecting (its workflow never started).
        endedWithoutProjection: async () => isFinalAutomationStatus((await store.automation.get(tenantId, run.id))?.status ?? 'cancelled'),
      }) as never;
    },
  );

  return app;
}
