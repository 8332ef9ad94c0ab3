import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Client, type Connection } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../adapters/queue/port.js';
import { SqsEventQueue } from '../../adapters/queue/sqs.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { DEAD_LETTER_ATTRIBUTES } from '../../bridge/bridge.js';
import type { PagerDutyIncidentInput } from '../../core/contracts/pagerduty.js';
import { QUEUED_EVENT_ATTRIBUTES, type PagerDutyEventEnvelope, type PagerDutyUpdate } from '../../core/ingress/pagerduty.js';
import { createPagerDutyRelayer } from '../../ingress/pagerduty-relay.js';
import { startBridgeProcess, type BridgeLogEntry, type BridgeProcess } from '../support/bridge-process.js';
import { ensureMoto } from '../support/moto.js';
import { LOCAL_SQS_CREDENTIALS, LOCAL_SQS_REGION, startMotoSqs, type LocalQueue, type LocalSqs } from '../support/local-sqs.js';
import { createTestDatabase } from '../support/postgres.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { connectTestClient, testTemporal, testWorkflowBundlePath, uniqueTaskQueue } from '../support/temporal.js';
import { freePort } from '../../launcher/ports.js';
import { startStack } from '../../bench/lib.js';

// Fault injection on the SQS bridge (`npm run bridge`, run here as a real process): moto's SQS server
// mode holds the queues (each test makes its own), the test run's Temporal dev server takes the
// relays, and no worker runs: a started pd-<id> run waits on its task queue, and what the bridge did
// is read from Temporal itself (the runs of an id, the signals in a run's history) and from the
// queues. TCP proxies stand between the bridge and Temporal or SQS where a test takes them away.

const moto = await ensureMoto();
if ('error' in moto) {
  if (process.env.CI === 'true') throw new Error(`moto is required under CI (npm ci installs it): ${moto.error}`);
  console.warn(`SQS bridge tests skipped: ${moto.error.split('\n')[0]}`);
}

let sqs: LocalSqs;
let database: { url: string; drop(): Promise<void> };
let store: Store;
let client: Client;
let connection: Connection;
let defaultTenantId: string;
const bridges: BridgeProcess[] = [];
const proxies: TcpProxy[] = [];

beforeAll(async () => {
  if ('error' in moto) return;
  [sqs, database] = await Promise.all([startMotoSqs(moto.executable), createTestDatabase()]);
  store = await createStore({ kind: 'postgres', url: database.url });
  defaultTenantId = (await store.tenants.ensure('default')).id;
  ({ client, connection } = await connectTestClient());
});

afterEach(async () => {
  if (process.env.DEBUG_BRIDGE) for (const bridge of bridges) console.log(bridge.output());
  await Promise.all(bridges.splice(0).map((bridge) => bridge.kill()));
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

afterAll(async () => {
  await connection?.close();
  await store?.close();
  await database?.drop();
  await sqs?.stop();
});

// ---- events --------------------------------------------------------------------------------------

const newId = (prefix: string) => `${prefix}${randomUUID().replace(/-/g, '').slice(0, 14).toUpperCase()}`;

function triggered(incident: string): PagerDutyEventEnvelope {
  return {
    event: {
      id: newId('01TRG'),
      event_type: 'incident.triggered',
      resource_type: 'incident',
      occurred_at: new Date().toISOString(),
      agent: { id: 'PLH1HKV', type: 'user_reference', summary: 'Tenex Engineer' },
      data: {
        id: incident,
        type: 'incident',
        number: 7,
        title: `${incident} is down`,
        status: 'triggered',
        urgency: 'high',
        service: { id: 'PF9KMXH', type: 'service_reference', summary: 'API Service' },
      },
    },
  };
}

function update(incident: string, eventType: string): PagerDutyEventEnvelope {
  const data =
    eventType === 'incident.annotated'
      ? { id: newId('PNOTE'), type: 'incident_note', content: 'looked at it', incident: { id: incident, type: 'incident_reference' } }
      : { id: incident, type: 'incident', status: eventType === 'incident.resolved' ? 'resolved' : 'acknowledged' };
  return {
    event: {
      id: newId('01UPD'),
      event_type: eventType,
      resource_type: 'incident',
      occurred_at: new Date().toISOString(),
      agent: { id: 'PLH1HKV', type: 'user_reference', summary: 'Tenex Engineer' },
      data,
    },
  };
}

const incidentOf = (envelope: PagerDutyEventEnvelope) => {
  const data = envelope.event.data as { id: string; type: string; incident?: { id: string } };
  return data.type === 'incident' ? data.id : data.incident!.id;
};

/** Puts an event on the queue as PagerDuty's relay would (FIFO: grouped by incident, deduplicated by event id). */
async function send(
  q: LocalQueue,
  envelope: PagerDutyEventEnvelope,
  options: { deduplicationId?: string; attributes?: Record<string, string> } = {},
): Promise<string> {
  const sent = await q.queue.send(JSON.stringify(envelope), {
    groupId: incidentOf(envelope),
    deduplicationId: options.deduplicationId ?? envelope.event.id,
    ...(options.attributes ? { attributes: options.attributes } : {}),
  });
  return sent.messageId;
}

// ---- what Temporal and the queues hold -----------------------------------------------------------

async function runsOf(workflowId: string): Promise<number> {
  let runs = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs += 1;
  return runs;
}

async function exists(workflowId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).describe();
    return true;
  } catch {
    return false;
  }
}

/** The pagerDutyEvent signals in the run's history, in order: what reached the run. */
async function signalsOf(workflowId: string): Promise<{ eventId: string; eventType: string }[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .filter((event) => event.workflowExecutionSignaledEventAttributes)
    .map((event) => {
      const update = defaultPayloadConverter.fromPayload<PagerDutyUpdate>(
        event.workflowExecutionSignaledEventAttributes!.input!.payloads![0]!,
      );
      return { eventId: update.eventId, eventType: update.eventType };
    });
}

async function startInput(workflowId: string): Promise<PagerDutyIncidentInput> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
  return defaultPayloadConverter.fromPayload<PagerDutyIncidentInput>(started.input!.payloads![0]!);
}

const expected = (events: PagerDutyEventEnvelope[]) => events.map((e) => ({ eventId: e.event.id, eventType: e.event.event_type }));

/** Nothing visible, nothing in flight, nothing delayed: every message was deleted. */
async function drained(q: LocalQueue): Promise<boolean> {
  const stats = await q.queue.stats();
  return stats.visible === 0 && stats.inFlight === 0 && stats.delayed === 0;
}

async function deadLettered(q: LocalQueue): Promise<ReceivedMessage[]> {
  const dlq = new SqsEventQueue({
    queueUrl: q.deadLetter!.url,
    region: LOCAL_SQS_REGION,
    endpoint: sqs.server.endpoint,
    credentials: LOCAL_SQS_CREDENTIALS,
  });
  const seen: ReceivedMessage[] = [];
  try {
    for (;;) {
      const batch = await dlq.receive({ max: 10, waitSeconds: 1, visibilitySeconds: 60 });
      if (batch.length === 0) return seen;
      seen.push(...batch);
    }
  } finally {
    dlq.close();
  }
}

async function waitFor<T>(check: () => Promise<T | false | null | undefined> | T | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function metric(bridge: BridgeProcess, name: string): Promise<number> {
  const text = await (await fetch(`${bridge.probesUrl}/metrics`)).text();
  const escaped = name.replace(/[{}"=.]/g, (ch) => `\\${ch}`);
  const found = new RegExp(`^${escaped} ([0-9.e+-]+)$`, 'm').exec(text);
  return found ? Number(found[1]) : NaN;
}

// ---- the bridge ----------------------------------------------------------------------------------

async function startBridge(q: LocalQueue, taskQueue: string, env: Record<string, string> = {}): Promise<BridgeProcess> {
  const bridge = await startBridgeProcess({
    INFRAAI_SQS_QUEUE_URL: q.url,
    ...(q.deadLetter ? { INFRAAI_SQS_DLQ_URL: q.deadLetter.url } : {}),
    INFRAAI_SQS_REGION: LOCAL_SQS_REGION,
    AWS_ENDPOINT_URL: sqs.server.endpoint,
    AWS_ACCESS_KEY_ID: LOCAL_SQS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_SQS_CREDENTIALS.secretAccessKey,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: testTemporal().address,
    TEMPORAL_NAMESPACE: testTemporal().namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    INFRAAI_BRIDGE_PORT: '0',
    INFRAAI_BRIDGE_WAIT_SECONDS: '1',
    INFRAAI_BRIDGE_VISIBILITY_SECONDS: '6',
    ...env,
  });
  bridges.push(bridge);
  return bridge;
}

const relayed = (bridge: BridgeProcess) => bridge.logs().filter((e) => e.msg === 'relayed' || e.msg === 'acknowledged without a run');

function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

describe.skipIf('error' in moto)('the SQS bridge', () => {
  it('relays a FIFO queue in order per incident, incidents side by side', async () => {
    const q = await sqs.createQueue({ fifo: true, deadLetter: { maxReceiveCount: 5 } });
    const taskQueue = uniqueTaskQueue('bridge');
    const a = newId('PA');
    const b = newId('PB');
    const aEvents = [
      triggered(a),
      update(a, 'incident.acknowledged'),
      update(a, 'incident.annotated'),
      update(a, 'incident.annotated'),
      update(a, 'incident.escalated'),
      update(a, 'incident.annotated'),
      update(a, 'incident.resolved'),
    ];
    const bEvents = [
      triggered(b),
      update(b, 'incident.annotated'),
      update(b, 'incident.reassigned'),
      update(b, 'incident.acknowledged'),
      update(b, 'incident.resolved'),
    ];
    // Interleaved on the queue; the bridge starts with all of it waiting, so batches mix both incidents.
    for (let i = 0; i < Math.max(aEvents.length, bEvents.length); i++) {
      if (aEvents[i]) await send(q, aEvents[i]!);
      if (bEvents[i]) await send(q, bEvents[i]!);
    }
    await startBridge(q, taskQueue);

    await waitFor(async () => (await drained(q)) && (await exists(`pd-${a}`)) && (await exists(`pd-${b}`)), 'the queue to drain');
    expect(await signalsOf(`pd-${a}`)).toEqual(expected(aEvents.slice(1)));
    expect(await signalsOf(`pd-${b}`)).toEqual(expected(bEvents.slice(1)));
    expect(await startInput(`pd-${a}`)).toMatchObject({ eventId: aEvents[0]!.event.id, via: 'sqs', tenantSlug: 'default' });
    expect(await waitFor(async () => (await runsOf(`pd-${a}`)) || false, 'the run to be listed')).toBe(1);
    expect(await waitFor(async () => (await runsOf(`pd-${b}`)) || false, 'the run to be listed')).toBe(1);
    expect(await deadLettered(q)).toEqual([]);
  });

  it('gives one run and one signal for an event delivered twice by SQS and once more as the webhook would', async () => {
    const q = await sqs.createQueue({ fifo: true, deadLetter: { maxReceiveCount: 5 } });
    const taskQueue = uniqueTaskQueue('bridge');
    const c = newId('PC');
    const trigger = triggered(c);
    const note = update(c, 'incident.annotated');
    const resolved = update(c, 'incident.resolved');
    // The webhook got there first (the same relay module, `via: webhook`).
    const webhook = createPagerDutyRelayer(client, { taskQueue, pagerDutyTenantSlug: 'default' });
    const context = { tenantId: defaultTenantId, tenantSlug: 'default', via: 'webhook' as const };
    expect((await webhook.relay(trigger, context)).kind).toBe('started');
    expect((await webhook.relay(note, context)).kind).toBe('signalled');
    // Then PagerDuty's relay delivers every event, the trigger and the note twice (new deduplication ids: SQS keeps both).
    await send(q, trigger, { deduplicationId: `${trigger.event.id}-1` });
    await send(q, trigger, { deduplicationId: `${trigger.event.id}-2` });
    await send(q, note, { deduplicationId: `${note.event.id}-1` });
    await send(q, note, { deduplicationId: `${note.event.id}-2` });
    await send(q, resolved);

    const bridge = await startBridge(q, taskQueue);
    await waitFor(async () => relayed(bridge).length === 5 && (await drained(q)), 'five messages relayed and deleted');
    expect(relayed(bridge).map((e) => `${e.event_id as string} ${e.outcome as string}`)).toEqual([
      `${trigger.event.id} joined`,
      `${trigger.event.id} joined`,
      `${note.event.id} signalled`,
      `${note.event.id} signalled`,
      `${resolved.event.id} signalled`,
    ]);
    // Three signal calls for the note, one signal in the history: Temporal drops the repeats by the event's request id.
    expect(await signalsOf(`pd-${c}`)).toEqual(expected([note, resolved]));
    expect(await waitFor(async () => (await runsOf(`pd-${c}`)) || false, 'the run to be listed')).toBe(1);
    expect(await startInput(`pd-${c}`)).toMatchObject({ via: 'webhook' });
  });

  it('moves poison messages to the dead-letter queue with their reason, and relays the rest (standard queue)', async () => {
    const q = await sqs.createQueue({ fifo: false, deadLetter: { maxReceiveCount: 5 } });
    const taskQueue = uniqueTaskQueue('bridge');
    const acme = await store.tenants.ensure(`acme-${randomUUID().slice(0, 6)}`);
    const d = newId('PD');
    const e = newId('PE');
    const dTrigger = triggered(d);
    const dNote = update(d, 'incident.annotated');
    const notJson = await q.queue.send('{"event": {"id": "cut short');
    const notEnvelope = await q.queue.send(JSON.stringify({ 'detail-type': 'PagerDuty Webhook', detail: { hello: 'world' } }));
    const unknownTenant = await send(q, triggered(e), { attributes: { [QUEUED_EVENT_ATTRIBUTES.tenant]: randomUUID() } });
    await send(q, dTrigger, { attributes: { [QUEUED_EVENT_ATTRIBUTES.tenant]: acme.id } });
    const other = {
      event: {
        id: newId('01SVC'),
        event_type: 'service.updated',
        resource_type: 'service',
        occurred_at: new Date().toISOString(),
        data: {},
      },
    };
    await q.queue.send(JSON.stringify(other));
    await send(q, dNote, { attributes: { [QUEUED_EVENT_ATTRIBUTES.tenant]: acme.id } });

    const bridge = await startBridge(q, taskQueue);
    // acme is not the PagerDuty tenant (INFRAAI_PAGERDUTY_TENANT, `default` here): its run of d is its own.
    const dRun = `pd-${d}@${acme.slug}`;
    await waitFor(async () => (await drained(q)) && (await exists(dRun)) && (await signalsOf(dRun)).length === 1, 'the queue to drain');

    const dead = await deadLettered(q);
    const reasons = Object.fromEntries(
      dead.map((m) => [m.attributes[DEAD_LETTER_ATTRIBUTES.sourceMessageId], m.attributes[DEAD_LETTER_ATTRIBUTES.reason]]),
    );
    expect(Object.keys(reasons).sort()).toEqual([notJson.messageId, notEnvelope.messageId, unknownTenant].sort());
    expect(reasons[notJson.messageId]).toMatch(/^unparseable: not JSON/);
    expect(reasons[notEnvelope.messageId]).toMatch(/^unparseable: not a PagerDuty V3 event: event: /);
    expect(reasons[unknownTenant]).toMatch(/^unknown_tenant: the infraai\.tenant attribute names no tenant/);
    expect(dead.find((m) => m.attributes[DEAD_LETTER_ATTRIBUTES.sourceMessageId] === notJson.messageId)!.body).toBe(
      '{"event": {"id": "cut short',
    );

    expect(await startInput(dRun)).toMatchObject({ tenantId: acme.id, tenantSlug: acme.slug, via: 'sqs' });
    expect(await signalsOf(dRun)).toEqual(expected([dNote]));
    expect(await exists(`pd-${d}`)).toBe(false);
    expect(await exists(`pd-${e}`)).toBe(false);
    const moved = bridge.logs().filter((entry) => entry.msg === 'moved to the dead-letter queue');
    expect(moved.map((entry) => entry.reason).sort()).toEqual(['unknown_tenant', 'unparseable', 'unparseable']);
    expect(bridge.logs().find((entry) => entry.event_id === other.event.id)).toMatchObject({
      msg: 'acknowledged without a run',
      outcome: 'ignored',
      reason: 'service.updated: not an incident event',
    });
    // No message body in the log: the poison's text never shows.
    expect(bridge.output()).not.toContain('cut short');
    expect(await metric(bridge, 'infraai_bridge_messages_dead_lettered_total{reason="unparseable"}')).toBe(2);
    expect(await metric(bridge, 'infraai_bridge_messages_dead_lettered_total{reason="unknown_tenant"}')).toBe(1);
    expect(await metric(bridge, 'infraai_bridge_messages_relayed_total{outcome="started"}')).toBe(1);
  });

  it('keeps tenants apart: an event a tenant queues with another tenant’s incident id never reaches that tenant’s run', async () => {
    const q = await sqs.createQueue({ fifo: true, deadLetter: { maxReceiveCount: 5 } });
    const taskQueue = uniqueTaskQueue('bridge');
    const acme = await store.tenants.ensure(`acme-${randomUUID().slice(0, 6)}`);
    const globex = await store.tenants.ensure(`globex-${randomUUID().slice(0, 6)}`);
    const h = newId('PT');
    const k = newId('PU');
    const as = (tenantId: string) => ({ attributes: { [QUEUED_EVENT_ATTRIBUTES.tenant]: tenantId } });
    // The PagerDuty tenant's incident h (PagerDuty's own delivery: no attribute), acme's incidents h and k (queueAdd).
    const pdTrigger = triggered(h);
    const acmeTrigger = triggered(h);
    const acmeK = triggered(k);
    // globex (tenant B) queues what would stop the others' remediations: notes and resolutions of their incident ids.
    const forgedNote = update(h, 'incident.annotated');
    const forgedResolved = update(h, 'incident.resolved');
    const forgedK = update(k, 'incident.resolved');
    // The PagerDuty tenant's own resolution of h (queueAdd by one of its users: its tenant's attribute).
    const pdResolved = update(h, 'incident.resolved');
    await send(q, pdTrigger);
    await send(q, acmeTrigger, as(acme.id));
    await send(q, acmeK, as(acme.id));
    await send(q, forgedNote, as(globex.id));
    await send(q, forgedResolved, as(globex.id));
    await send(q, forgedK, as(globex.id));
    // The very event globex forged, delivered by PagerDuty itself (a deduplication id of its own: SQS keeps both).
    await send(q, forgedResolved, { deduplicationId: `${forgedResolved.event.id}-pd` });
    await send(q, pdResolved, as(defaultTenantId));

    const bridge = await startBridge(q, taskQueue);
    await waitFor(async () => relayed(bridge).length === 8 && (await drained(q)), 'eight messages relayed and deleted');
    const outcomes = (id: string) =>
      relayed(bridge)
        .filter((e) => e.event_id === id)
        .map((e) => `${e.tenant as string} ${e.outcome as string} ${e.workflow_id as string}`);
    // Two tenants, two runs of h: acme's trigger did not join the PagerDuty tenant's run.
    expect(outcomes(pdTrigger.event.id)).toEqual([`default started pd-${h}`]);
    expect(outcomes(acmeTrigger.event.id)).toEqual([`${acme.slug} started pd-${h}@${acme.slug}`]);
    expect(outcomes(acmeK.event.id)).toEqual([`${acme.slug} started pd-${k}@${acme.slug}`]);
    // globex's events find globex's own runs, which do not exist: acknowledged without a run, nothing started.
    expect(outcomes(forgedNote.event.id)).toEqual([`${globex.slug} no_run pd-${h}@${globex.slug}`]);
    expect(outcomes(forgedK.event.id)).toEqual([`${globex.slug} no_run pd-${k}@${globex.slug}`]);
    expect(outcomes(forgedResolved.event.id)).toEqual([`${globex.slug} no_run pd-${h}@${globex.slug}`, `default signalled pd-${h}`]);
    expect(outcomes(pdResolved.event.id)).toEqual([`default signalled pd-${h}`]);
    expect(await exists(`pd-${h}@${globex.slug}`)).toBe(false);
    expect(await exists(`pd-${k}@${globex.slug}`)).toBe(false);
    expect(await exists(`pd-${k}`)).toBe(false);

    // What reached each run: the PagerDuty tenant's run only its own deliveries, acme's runs nothing.
    expect(await signalsOf(`pd-${h}`)).toEqual(expected([forgedResolved, pdResolved]));
    expect(await signalsOf(`pd-${h}@${acme.slug}`)).toEqual([]);
    expect(await signalsOf(`pd-${k}@${acme.slug}`)).toEqual([]);
    expect(await startInput(`pd-${h}`)).toMatchObject({ tenantId: defaultTenantId, tenantSlug: 'default', eventId: pdTrigger.event.id });
    expect(await startInput(`pd-${h}@${acme.slug}`)).toMatchObject({
      tenantId: acme.id,
      tenantSlug: acme.slug,
      eventId: acmeTrigger.event.id,
    });
    expect(await deadLettered(q)).toEqual([]);
  });

  it('leaves a message whose relay keeps failing for redelivery, and dead-letters it after the last attempt', async () => {
    const q = await sqs.createQueue({ fifo: true, deadLetter: { maxReceiveCount: 10 } });
    // A namespace Temporal does not know: every start is refused for good (not "try later").
    const bridge = await startBridge(q, uniqueTaskQueue('bridge'), {
      TEMPORAL_NAMESPACE: `missing-${randomUUID().slice(0, 8)}`,
      INFRAAI_BRIDGE_MAX_ATTEMPTS: '2',
    });
    const event = triggered(newId('PM'));
    const sent = await send(q, event);
    const moved = await bridge.waitForLog((e) => e.msg === 'moved to the dead-letter queue', 'the message dead-lettered', 30_000);
    expect(moved).toMatchObject({ message_id: sent, event_id: event.event.id, receive_count: 2, reason: 'relay_failed' });
    expect(bridge.logs().find((e) => e.msg === 'left on the queue for a later delivery')).toMatchObject({
      message_id: sent,
      receive_count: 1,
      reason: 'relay_error',
      backoff_s: 5,
    });
    const [dead] = await deadLettered(q);
    expect(dead!.attributes[DEAD_LETTER_ATTRIBUTES.reason]).toMatch(/^relay_failed: relay failed: .*(receive 2 of 2)/);
    expect(dead!.groupId).toBe(incidentOf(event));
    expect(await drained(q)).toBe(true);
  });

  it('loses nothing and duplicates nothing when SIGKILLed mid-batch and restarted', async () => {
    const q = await sqs.createQueue({ fifo: true, deadLetter: { maxReceiveCount: 10 } });
    const taskQueue = uniqueTaskQueue('bridge');
    const incidents = Array.from({ length: 10 }, () => newId('PK'));
    const byIncident = new Map(
      incidents.map((id) => [
        id,
        [
          triggered(id),
          update(id, 'incident.acknowledged'),
          update(id, 'incident.annotated'),
          update(id, 'incident.annotated'),
          update(id, 'incident.resolved'),
        ],
      ]),
    );
    for (let i = 0; i < 5; i++) for (const id of incidents) await send(q, byIncident.get(id)![i]!);
    const env = { INFRAAI_BRIDGE_CONCURRENCY: '2', INFRAAI_BRIDGE_VISIBILITY_SECONDS: '4' };

    const first = await startBridge(q, taskQueue, env);
    await first.waitForLog(() => relayed(first).length >= 12, 'a dozen messages relayed');
    first.child.kill('SIGKILL');
    await first.exited;
    const relayedBeforeKill = relayed(first).length;
    expect(relayedBeforeKill).toBeLessThan(50);

    const second = await startBridge(q, taskQueue, env);
    await waitFor(
      async () =>
        (await drained(q)) && (await Promise.all(incidents.map(async (id) => (await signalsOf(`pd-${id}`)).length === 4))).every(Boolean),
      'every event relayed',
      // moto answers a receive in about a second on a loaded machine, and the kill leaves messages invisible for 4 s.
      120_000,
    );

    for (const id of incidents) {
      // Each event once in the run's history, in order: a redelivered start joined, a redelivered signal was dropped by Temporal.
      expect(await signalsOf(`pd-${id}`)).toEqual(expected(byIncident.get(id)!.slice(1)));
      expect(await startInput(`pd-${id}`)).toMatchObject({ eventId: byIncident.get(id)![0]!.event.id });
    }
    expect(await waitFor(async () => (await runsOf(`pd-${incidents[0]}`)) || false, 'the run to be listed')).toBe(1);
    expect(await deadLettered(q)).toEqual([]);
    // The kill hit messages in flight: the second bridge got some of them again (received twice).
    const again = relayed(second).filter((entry: BridgeLogEntry) => Number(entry.receive_count) >= 2);
    expect(again.length).toBeGreaterThan(0);
    expect(relayedBeforeKill + relayed(second).length).toBeGreaterThanOrEqual(50);
    // Two bridge processes, a kill and 50 FIFO messages through moto: well past the default minute on a loaded machine.
  }, 180_000);

  it('holds its messages while Temporal is unreachable, and relays them once it is back: nothing lost, nothing dead-lettered', async () => {
    // A redrive policy that moves a message at its third receive: letting go of messages while Temporal is down would show.
    const q = await sqs.createQueue({ fifo: false, deadLetter: { maxReceiveCount: 2 } });
    const taskQueue = uniqueTaskQueue('bridge');
    const proxy = await startTcpProxy(hostPort(testTemporal().address));
    proxies.push(proxy);
    const bridge = await startBridge(q, taskQueue, { TEMPORAL_ADDRESS: proxy.address, INFRAAI_BRIDGE_VISIBILITY_SECONDS: '3' });

    const f = newId('PF');
    const g = newId('PG');
    await send(q, triggered(f));
    await waitFor(async () => (await exists(`pd-${f}`)) && (await drained(q)), 'the first trigger relayed');

    proxy.setMode('refuse');
    const held = [update(f, 'incident.annotated'), triggered(g), update(g, 'incident.acknowledged'), update(f, 'incident.resolved')];
    for (const event of held) await send(q, event);
    await bridge.waitForLog(
      (e) => e.msg === 'Temporal does not accept relays: holding the messages in flight, no new receives until it answers',
      'the outage noticed',
    );
    // Noticed only once a relay's deadline ran out (10 s): by now, and a little more, a message let go
    // would have come back at least twice (3 s visibility), and the redrive policy would have taken it.
    await sleep(3000);
    expect(await exists(`pd-${g}`)).toBe(false);
    expect(await metric(bridge, 'infraai_bridge_temporal_available')).toBe(0);
    expect(await metric(bridge, 'infraai_bridge_relay_failures_total{kind="unavailable"}')).toBeGreaterThan(0);
    const health = await fetch(`${bridge.probesUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ state: 'paused', temporalAvailable: false });
    const readiness = await fetch(`${bridge.probesUrl}/readyz`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({
      checks: { temporal: { status: 'down' }, queue: { status: 'up' }, store: { status: 'up' } },
    });

    proxy.setMode('forward');
    await waitFor(
      async () =>
        (await drained(q)) &&
        (await exists(`pd-${g}`)) &&
        (await signalsOf(`pd-${f}`)).length === 2 &&
        (await signalsOf(`pd-${g}`)).length === 1,
      'the held events relayed',
      45_000,
    );
    expect(await signalsOf(`pd-${f}`)).toEqual(expected([held[0]!, held[3]!]));
    expect(await signalsOf(`pd-${g}`)).toEqual(expected([held[2]!]));
    expect(await deadLettered(q)).toEqual([]);
    // Held, not let go: every one of them was relayed on its first receive.
    const ids = new Set(held.map((e) => e.event.id));
    const entries = relayed(bridge).filter((e) => ids.has(e.event_id as string));
    expect(entries.map((e) => e.receive_count)).toEqual([1, 1, 1, 1]);
    expect(bridge.logs().some((e) => e.msg === 'Temporal accepts relays again')).toBe(true);
  }, 90_000);

  it('on SIGTERM stops polling, finishes the messages in flight and exits 0', async () => {
    const q = await sqs.createQueue({ fifo: true, deadLetter: { maxReceiveCount: 5 } });
    const taskQueue = uniqueTaskQueue('bridge');
    const proxy = await startTcpProxy(hostPort(testTemporal().address));
    proxies.push(proxy);
    const bridge = await startBridge(q, taskQueue, { TEMPORAL_ADDRESS: proxy.address });
    const warmUp = newId('PW');
    await send(q, triggered(warmUp));
    await waitFor(() => exists(`pd-${warmUp}`), 'the first relay');

    // Temporal's answers held back: the next relays are under way, not finished, when SIGTERM comes.
    proxy.setMode('pause');
    const incidents = [newId('PH'), newId('PH'), newId('PH')];
    for (const id of incidents) await send(q, triggered(id));
    await waitFor(async () => (await metric(bridge, 'infraai_bridge_messages_in_flight')) === 3, 'three messages in flight');
    bridge.child.kill('SIGTERM');
    await bridge.waitForLog((e) => e.msg === 'polling stopped; finishing the messages in flight', 'the poller stopped');
    expect(bridge.logs().find((e) => e.msg === 'polling stopped; finishing the messages in flight')).toMatchObject({ in_flight: 3 });
    await sleep(1000);
    expect(bridge.child.exitCode).toBeNull();

    proxy.setMode('forward');
    expect(await bridge.exited).toEqual({ code: 0, signal: null });
    for (const id of incidents) expect(await exists(`pd-${id}`)).toBe(true);
    expect(await drained(q)).toBe(true);
    expect(bridge.logs().find((e) => e.msg === 'bridge stopped')).toMatchObject({ released: 0 });
  });

  it('runs under npm start when a queue is configured: banner line, events relayed, stopped with the stack', async () => {
    const q = await sqs.createQueue({ fifo: true, deadLetter: { maxReceiveCount: 5 } });
    const dataDir = await mkdtemp(join(tmpdir(), 'infraai-start-bridge-'));
    const bridgePort = await freePort();
    // On the test run's Temporal (no dev server of its own) with the prebuilt workflow bundle: a quick start.
    const stack = await startStack({
      INFRAAI_DATA_DIR: dataDir,
      PORT: String(await freePort()),
      TEMPORAL_ADDRESS: testTemporal().address,
      TEMPORAL_NAMESPACE: testTemporal().namespace,
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('start-bridge'),
      INFRAAI_WORKFLOW_BUNDLE: testWorkflowBundlePath(),
      INFRAAI_API_KEY: `iai_${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '')}`,
      INFRAAI_SQS_QUEUE_URL: q.url,
      INFRAAI_SQS_DLQ_URL: q.deadLetter!.url,
      INFRAAI_SQS_REGION: LOCAL_SQS_REGION,
      AWS_ENDPOINT_URL: sqs.server.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_SQS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_SQS_CREDENTIALS.secretAccessKey,
      INFRAAI_BRIDGE_PORT: String(bridgePort),
      INFRAAI_BRIDGE_WAIT_SECONDS: '1',
    });
    try {
      expect(stack.output()).toContain(`SQS bridge   ${q.url} → Temporal   (health: http://127.0.0.1:${bridgePort}/healthz`);
      const n = newId('PN');
      await send(q, triggered(n));
      await waitFor(async () => (await exists(`pd-${n}`)) && (await drained(q)), 'the event relayed by the stack’s bridge');
      expect((await fetch(`http://127.0.0.1:${bridgePort}/healthz`)).status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${bridgePort}/readyz`)).json()).toMatchObject({ status: 'ready' });
      stack.child.kill('SIGINT');
      await new Promise((resolve) => (stack.child.exitCode !== null ? resolve(null) : stack.child.once('exit', resolve)));
      expect(stack.child.exitCode).toBe(0);
      expect(stack.output()).toContain('"msg":"bridge stopped"');
    } finally {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('fails its liveness check while polling is stalled, and recovers when the queue answers again', async () => {
    const q = await sqs.createQueue({ fifo: false });
    const taskQueue = uniqueTaskQueue('bridge');
    const endpoint = new URL(sqs.server.endpoint);
    const proxy = await startTcpProxy({ host: endpoint.hostname, port: Number(endpoint.port) });
    proxies.push(proxy);
    const bridge = await startBridge(q, taskQueue, { AWS_ENDPOINT_URL: `http://${proxy.address}` });
    const live = async () => (await fetch(`${bridge.probesUrl}/healthz`)).status;
    expect(await live()).toBe(200);

    // The SQS endpoint swallows everything: the long poll hangs, no receive completes.
    proxy.setMode('pause');
    const stalled = Date.now();
    await waitFor(async () => (await live()) === 503, 'liveness to fail', 15_000);
    // Not before the stall threshold (three 1 s waits, at least 5 s) less the last poll's own second.
    expect(Date.now() - stalled).toBeGreaterThanOrEqual(3500);
    const body = (await (await fetch(`${bridge.probesUrl}/healthz`)).json()) as { status: string; state: string };
    expect(body.status).toBe('stalled');
    expect((await fetch(`${bridge.probesUrl}/readyz`)).status).toBe(503);
    const k = newId('PL');
    await send(q, triggered(k)); // straight to moto, past the proxy

    proxy.setMode('forward');
    await waitFor(async () => (await live()) === 200, 'liveness to recover', 30_000);
    await waitFor(() => exists(`pd-${k}`), 'the event sent meanwhile relayed', 30_000);
  }, 90_000);
});
