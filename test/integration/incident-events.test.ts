import type { ChildProcess } from 'node:child_process';
import { EventSource } from 'eventsource';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunEventBus } from '../../adapters/events/create.js';
import type { RunEventBus } from '../../adapters/events/port.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { listen } from '../../api/server.js';
import { createTestDatabase } from '../support/postgres.js';
import { sampleCmdbItem, startTestStack, waitFor, type TestStack } from '../support/stack.js';
import { testTemporal, testWorkflowBundlePath } from '../support/temporal.js';
import { startWorkerProcess } from '../support/worker-process.js';

// Live progress across processes: the worker runs as its own process on PostgreSQL and wakes the
// API's streams through LISTEN/NOTIFY; a real SSE client (eventsource) follows a run, drops its
// connection mid-run, resumes with Last-Event-ID, and ends up with every event once, in order.

interface WireEvent {
  seq: number;
  tenantSeq: number;
  type: string;
  runId: string;
  data: Record<string, unknown>;
}

let database: { url: string; drop(): Promise<void> };
let store: Store;
let bus: RunEventBus;
let stack: TestStack;
let server: Awaited<ReturnType<typeof listen>>['server'];
let base: string;
let worker: ChildProcess | null = null;

beforeAll(async () => {
  database = await createTestDatabase();
  store = await createStore({ kind: 'postgres', url: database.url });
  bus = createRunEventBus({ kind: 'postgres', url: database.url });
  stack = await startTestStack({ store, events: bus, sseMaxStreamMs: 120_000 });
  const served = await listen(stack.app.fetch, '127.0.0.1', 0);
  server = served.server;
  base = `http://127.0.0.1:${served.port}`;
});

afterAll(async () => {
  if (worker && worker.exitCode === null) worker.kill('SIGKILL');
  server?.close();
  (server as unknown as { closeAllConnections?: () => void })?.closeAllConnections?.();
  await stack?.close();
  await bus?.close();
  await store?.close();
  await database?.drop();
});

/** Follows an SSE stream with the admin key; `lastEventId` resumes after that event. */
function follow(path: string, lastEventId?: string) {
  const received: WireEvent[] = [];
  const ids: string[] = [];
  let ended = false;
  const source = new EventSource(`${base}${path}`, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: {
          ...(init?.headers as Record<string, string>),
          authorization: `Bearer ${stack.adminKey}`,
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
      }),
  });
  const types = ['status.changed', 'step.started', 'step.ended', 'approval.requested', 'approval.decided', 'command.ran', 'result.written'];
  for (const type of [...types, 'run.ended']) {
    source.addEventListener(type, (message) => {
      received.push(JSON.parse(message.data) as WireEvent);
      ids.push(message.lastEventId);
      if (type === 'run.ended') ended = true;
    });
  }
  let ready = false;
  source.addEventListener('ready', () => (ready = true));
  return { source, received, ids, isReady: () => ready, hasEnded: () => ended };
}

describe('incident event streams across processes (PostgreSQL LISTEN/NOTIFY)', () => {
  it('streams a run to its end through a reconnect, with no gap and no duplicate, and the tenant stream sees the same events', async () => {
    expect((await stack.call('POST', '/api/v1/cmdb', { body: sampleCmdbItem('sse-01') })).status).toBe(201);
    worker = await startWorkerProcess({
      DATABASE_URL: database.url,
      INFRAAI_EVENT_BUS: 'postgres',
      TEMPORAL_ADDRESS: testTemporal().address,
      TEMPORAL_NAMESPACE: testTemporal().namespace,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      INFRAAI_WORKFLOW_BUNDLE: testWorkflowBundlePath(),
    });
    const tenantStream = follow('/api/v1/incidents/events');
    await waitFor(async () => tenantStream.isReady() || null, 'the tenant stream to open');

    // The result write waits on a lock: the run stays mid-way while the client reconnects.
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE results IN SHARE MODE');
    const incident = (await (
      await stack.call('POST', '/api/v1/incidents', { body: { title: 'api unreachable', severity: 'high', tagId: 'sse-01' } })
    ).json()) as { id: string };

    const first = follow(`/api/v1/incidents/${incident.id}/events`);
    await waitFor(
      async () => first.received.some((e) => e.type === 'step.started' && e.data.name === 'writeIncidentResult') || null,
      'the run to reach its result write',
    );
    first.source.close();
    const resumeAfter = first.ids.at(-1)!;
    expect(Number(resumeAfter)).toBe(first.received.at(-1)!.seq);

    const second = follow(`/api/v1/incidents/${incident.id}/events`, resumeAfter);
    await waitFor(async () => second.isReady() || null, 'the resumed stream to open');
    await blocker.query('COMMIT');
    await blocker.end();
    await waitFor(async () => second.hasEnded() || null, 'the final event', 60_000);
    // The server ends the stream after run.ended; eventsource would reconnect, so close it here.
    second.source.close();

    const streamed = [...first.received, ...second.received];
    const stored = await store.runs.eventsOfRun((await store.tenants.getBySlug('acme'))!.id, 'incident', incident.id, 0, 1000);
    expect(streamed.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    expect(streamed.map((e) => e.seq)).toEqual(streamed.map((_, i) => i + 1));
    expect(streamed.at(-1)).toMatchObject({ type: 'run.ended', data: { status: 'escalated' } });
    expect(second.received[0]!.seq).toBe(Number(resumeAfter) + 1);

    await waitFor(async () => tenantStream.received.some((e) => e.type === 'run.ended') || null, 'the tenant stream’s final event');
    tenantStream.source.close();
    const ofRun = tenantStream.received.filter((e) => e.runId === incident.id);
    expect(ofRun.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    expect(tenantStream.ids.map(Number)).toEqual(tenantStream.received.map((e) => e.tenantSeq));

    // The read path answers from the projection: the same final state, no Temporal call needed.
    const detail = (await (await stack.call('GET', `/api/v1/incidents/${incident.id}`)).json()) as Record<string, unknown>;
    // `source` is the incident's origin, as in the list; how the answer was read is `readFrom`.
    expect(detail).toMatchObject({ status: 'escalated', source: 'api', readFrom: 'projection', projectedVersion: stored.length });
    const live = (await (await stack.call('GET', `/api/v1/incidents/${incident.id}?consistency=live`)).json()) as Record<string, unknown>;
    expect(live).toMatchObject({ status: 'escalated', source: 'api', readFrom: 'live', projectedVersion: null });
    expect((live.workflow as { state: unknown }).state).toEqual((detail.workflow as { state: unknown }).state);
  });

  it('ends a finished run’s stream at once for a client that has everything, and refuses a malformed Last-Event-ID', async () => {
    const tenantId = (await store.tenants.getBySlug('acme'))!.id;
    const finished = (await store.incidents.list(tenantId, { status: 'escalated' }, { limit: 1 })).items[0]!;
    const projection = (await store.runs.get(tenantId, 'incident', finished.id))!;
    const response = await stack.call('GET', `/api/v1/incidents/${finished.id}/events`, {
      headers: { 'last-event-id': String(projection.version) },
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = await response.text();
    expect(body).toContain('event: ready');
    expect(body).not.toContain('id: ');

    // An id past any run event's 32-bit seq is valid and has nothing after it (not a database error).
    const beyond = await stack.call('GET', `/api/v1/incidents/${finished.id}/events?after=999999999999999`);
    expect(beyond.status).toBe(200);
    expect(await beyond.text()).toContain('event: ready');

    const bad = await stack.call('GET', `/api/v1/incidents/${finished.id}/events`, { headers: { 'last-event-id': 'yesterday' } });
    expect(bad.status).toBe(422);
    expect((await stack.call('GET', `/api/v1/incidents/00000000-0000-4000-8000-000000000000/events`)).status).toBe(404);
  });
});
