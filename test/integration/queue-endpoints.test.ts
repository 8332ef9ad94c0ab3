import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../adapters/queue/port.js';
import { ensureMoto } from '../support/moto.js';
import { startMotoSqs, type LocalQueue, type LocalSqs } from '../support/local-sqs.js';
import { sampleCmdbItem, startTestStack, type TestStack } from '../support/stack.js';

// Reference 000's low-level endpoints over the test stack (real store, the test run's Temporal, no
// worker: a started run waits on its queue) and a FIFO queue on moto's SQS: queueAdd puts the event
// on the queue as the relay would, queueRemove takes it off, storeResult and getResults record and
// read an incident's results. Tenancy, roles and validation as the rest of the API.

const moto = await ensureMoto();
if ('error' in moto) {
  if (process.env.CI === 'true') throw new Error(`moto is required under CI (npm ci installs it): ${moto.error}`);
  console.warn(`queue endpoint tests skipped: ${moto.error.split('\n')[0]}`);
}

let sqs: LocalSqs;
let fifo: LocalQueue;
let stack: TestStack;
let acmeId: string;
let globexKey: string;
let viewerKey: string;

beforeAll(async () => {
  if ('error' in moto) return;
  sqs = await startMotoSqs(moto.executable);
  fifo = await sqs.createQueue({ fifo: true });
  stack = await startTestStack({ queue: fifo.queue });
  acmeId = (await stack.store.tenants.getBySlug('acme'))!.id;
  globexKey = await stack.keyFor('globex', 'operator');
  viewerKey = await stack.keyFor('acme', 'viewer');
  expect((await stack.call('POST', '/api/v1/cmdb', { body: sampleCmdbItem('web-01') })).status).toBe(201);
});

afterAll(async () => {
  await stack?.close();
  await sqs?.stop();
});

let sequence = 0;

/** A PagerDuty V3 incident.triggered envelope, as PagerDuty sends it (fields InfraAI does not read included). */
function triggered(incidentId: string, eventId = `01EVT${Date.now()}${++sequence}`) {
  return {
    event: {
      id: eventId,
      event_type: 'incident.triggered',
      resource_type: 'incident',
      occurred_at: '2026-12-06T10:00:00.123Z',
      agent: {
        html_url: 'https://acme.pagerduty.com/users/PLH1HKV',
        id: 'PLH1HKV',
        self: null,
        summary: 'Tenex Engineer',
        type: 'user_reference',
      },
      client: { name: 'PagerDuty' },
      data: {
        id: incidentId,
        type: 'incident',
        number: 2,
        title: 'web-01 is down',
        status: 'triggered',
        urgency: 'high',
        service: { id: 'PF9KMXH', type: 'service_reference', summary: 'API Service' },
        conference_bridge: { conference_number: '', conference_url: '' },
      },
    },
  };
}

/** Everything on the queue now, received and made visible again (the test's view, not a consumer's). */
async function onQueue(): Promise<ReceivedMessage[]> {
  const seen: ReceivedMessage[] = [];
  for (;;) {
    const batch = await fifo.queue.receive({ max: 10, waitSeconds: 0, visibilitySeconds: 30 });
    if (batch.length === 0) break;
    seen.push(...batch);
  }
  for (const message of seen) await fifo.queue.extendVisibility(message.receiptHandle, 0);
  return seen;
}

/** Empties the queue between cases. */
async function drain(): Promise<void> {
  for (;;) {
    const batch = await fifo.queue.receive({ max: 10, waitSeconds: 0, visibilitySeconds: 30 });
    if (batch.length === 0) return;
    for (const message of batch) await fifo.queue.delete(message.receiptHandle);
  }
}

async function problem(response: Response, status: number, type: string): Promise<{ errors?: { path: string; code: string }[] }> {
  expect(response.status, await response.clone().text()).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = (await response.json()) as { type: string; errors?: { path: string; code: string }[] };
  expect(body.type).toBe(`urn:infraai:problem:${type}`);
  return body;
}

describe.skipIf('error' in moto)('POST /api/v1/queueAdd and /api/v1/queueRemove', () => {
  it('puts the event on the FIFO queue: group = PagerDuty incident id, dedup = event id (each @ the tenant), the tenant as an attribute', async () => {
    await drain();
    const envelope = triggered('PGR0VU2');
    const response = await stack.call('POST', '/api/v1/queueAdd', { body: envelope });
    expect(response.status).toBe(202);
    const added = (await response.json()) as { messageId: string };
    expect(added).toEqual({
      messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      queued: true,
      queueType: 'fifo',
      groupId: `PGR0VU2@${acmeId}`,
      deduplicationId: `${envelope.event.id}@${acmeId}`,
      relay: 'start',
    });
    const [message, ...rest] = await onQueue();
    expect(rest).toEqual([]);
    expect(message).toMatchObject({
      messageId: added.messageId,
      groupId: `PGR0VU2@${acmeId}`,
      deduplicationId: `${envelope.event.id}@${acmeId}`,
    });
    // The envelope as sent, fields InfraAI does not read included.
    expect(JSON.parse(message!.body)).toEqual(envelope);
    expect(message!.attributes).toMatchObject({ 'infraai.tenant': acmeId, 'infraai.sentBy': expect.stringMatching(/^api-key:/) });
  });

  it('delivers the same event sent twice within 5 minutes once (SQS deduplication)', async () => {
    await drain();
    const envelope = triggered('PDUP001');
    expect((await stack.call('POST', '/api/v1/queueAdd', { body: envelope })).status).toBe(202);
    expect((await stack.call('POST', '/api/v1/queueAdd', { body: envelope })).status).toBe(202);
    // Another event of the same incident is a message of its own.
    expect((await stack.call('POST', '/api/v1/queueAdd', { body: triggered('PDUP001') })).status).toBe(202);
    const messages = await onQueue();
    expect(messages.filter((m) => m.deduplicationId === `${envelope.event.id}@${acmeId}`)).toHaveLength(1);
    expect(messages).toHaveLength(2);
    // Another tenant's message with the same event id is not taken for a repeat, nor put in acme's group.
    await drain();
    const shared = triggered('PDUP002');
    expect((await stack.call('POST', '/api/v1/queueAdd', { body: shared })).status).toBe(202);
    expect((await stack.call('POST', '/api/v1/queueAdd', { key: globexKey, body: shared })).status).toBe(202);
    const globexId = (await stack.store.tenants.getBySlug('globex'))!.id;
    expect((await onQueue()).map((m) => m.groupId).sort()).toEqual([`PDUP002@${acmeId}`, `PDUP002@${globexId}`].sort());
  });

  it('groups an event about an incident by data.incident.id, and says the bridge signals the run', async () => {
    await drain();
    const response = await stack.call('POST', '/api/v1/queueAdd', {
      body: {
        event: {
          id: 'NOTE0001',
          event_type: 'incident.annotated',
          resource_type: 'incident',
          occurred_at: '2026-12-06T10:05:00Z',
          data: { incident: { id: 'PGR0VU2', type: 'incident_reference' }, id: 'N1', type: 'incident_note', content: 'looking' },
        },
      },
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ groupId: `PGR0VU2@${acmeId}`, deduplicationId: `NOTE0001@${acmeId}`, relay: 'signal' });
  });

  it('removes a message by the receipt handle a consumer got, and 404s a handle SQS does not know', async () => {
    await drain();
    const { messageId } = (await (await stack.call('POST', '/api/v1/queueAdd', { body: triggered('PREM001') })).json()) as {
      messageId: string;
    };
    const [delivery] = await fifo.queue.receive({ max: 1, waitSeconds: 1, visibilitySeconds: 30 });
    expect(delivery!.messageId).toBe(messageId);
    const removed = await stack.call('POST', '/api/v1/queueRemove', { body: { receiptHandle: delivery!.receiptHandle } });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({ removed: true, by: 'receiptHandle' });
    expect(await fifo.queue.stats()).toMatchObject({ visible: 0, inFlight: 0 });
    await problem(await stack.call('POST', '/api/v1/queueRemove', { body: { receiptHandle: 'no-such-handle' } }), 404, 'not-found');
  });

  it('removes a message by id for its own tenant only; another tenant gets 404 and the message stays', async () => {
    await drain();
    const { messageId } = (await (await stack.call('POST', '/api/v1/queueAdd', { body: triggered('PREM002') })).json()) as {
      messageId: string;
    };
    await problem(await stack.call('POST', '/api/v1/queueRemove', { key: globexKey, body: { messageId } }), 404, 'not-found');
    // Still there, and visible at once (the scan released it).
    expect((await onQueue()).map((m) => m.messageId)).toEqual([messageId]);
    const removed = await stack.call('POST', '/api/v1/queueRemove', { body: { messageId } });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({ removed: true, by: 'messageId' });
    expect(await onQueue()).toEqual([]);
    await problem(await stack.call('POST', '/api/v1/queueRemove', { body: { messageId } }), 404, 'not-found');
  });

  it('validates the envelope and the removal field by field (422), and lets a viewer do neither (403)', async () => {
    await drain();
    const bad = await problem(
      await stack.call('POST', '/api/v1/queueAdd', {
        body: { event: { event_type: 'triggered', resource_type: 'incident', occurred_at: 'yesterday', data: {} } },
      }),
      422,
      'validation-error',
    );
    expect([...new Set(bad.errors!.map((e) => e.path))].sort()).toEqual(['event.event_type', 'event.id', 'event.occurred_at']);
    const noIncident = await problem(
      await stack.call('POST', '/api/v1/queueAdd', {
        body: { event: { ...triggered('X').event, data: { id: 'has spaces', type: 'incident' } } },
      }),
      422,
      'validation-error',
    );
    expect(noIncident.errors!.map((e) => e.path)).toEqual(['event.data.id']);
    for (const body of [{}, { messageId: '5fea7756-0ea4-451a-a703-a558b933e274', receiptHandle: 'h' }]) {
      const both = await problem(await stack.call('POST', '/api/v1/queueRemove', { body }), 422, 'validation-error');
      expect(both.errors!.map((e) => e.path)).toEqual(['receiptHandle']);
    }
    const badId = await problem(await stack.call('POST', '/api/v1/queueRemove', { body: { messageId: 'nope' } }), 422, 'validation-error');
    expect(badId.errors!.map((e) => e.path)).toEqual(['messageId']);
    await problem(await stack.call('POST', '/api/v1/queueAdd', { key: viewerKey, body: triggered('PVIEW01') }), 403, 'forbidden');
    expect(await onQueue()).toEqual([]);
  });

  it('answers 503 when no queue is configured', async () => {
    const bare = await startTestStack({ store: stack.store });
    try {
      await problem(await bare.call('POST', '/api/v1/queueAdd', { body: triggered('PNOQ001') }), 503, 'queue-not-configured');
      await problem(
        await bare.call('POST', '/api/v1/queueRemove', { body: { messageId: '5fea7756-0ea4-451a-a703-a558b933e274' } }),
        503,
        'queue-not-configured',
      );
    } finally {
      await bare.close();
    }
  });
});

describe.skipIf('error' in moto)('POST /api/v1/storeResult and GET /api/v1/getResults/{incNumber}', () => {
  let incident: { id: string; number: number };

  beforeAll(async () => {
    if ('error' in moto) return;
    const created = await stack.call('POST', '/api/v1/incidents', { body: { title: 'web-01 down', severity: 'high', tagId: 'web-01' } });
    expect(created.status).toBe(201);
    incident = (await created.json()) as { id: string; number: number };
  });

  it('records a result by hand: in getResults, the incident’s result and its timeline; repeat-safe by Idempotency-Key', async () => {
    const body = { incNumber: incident.number, status: 'resolved', summary: 'Restarted nginx by hand', details: 'systemctl restart nginx' };
    const headers = { 'idempotency-key': `store-${incident.id}` };
    const first = await stack.call('POST', '/api/v1/storeResult', { body, headers });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe(`/api/v1/getResults/${incident.number}`);
    const result = (await first.json()) as { id: string };
    expect(result).toMatchObject({
      incidentId: incident.id,
      incidentNumber: incident.number,
      status: 'resolved',
      summary: 'Restarted nginx by hand',
      details: { manual: { recordedBy: expect.stringMatching(/^api-key:/), note: 'systemctl restart nginx' } },
    });

    const again = await stack.call('POST', '/api/v1/storeResult', { body, headers });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(result.id);

    const second = await stack.call('POST', '/api/v1/storeResult', {
      body: { incNumber: incident.number, status: 'escalated', summary: 'Handed to the database team' },
    });
    expect(second.status).toBe(201);

    const listed = await stack.call('GET', `/api/v1/getResults/${incident.number}`, { key: viewerKey });
    expect(listed.status).toBe(200);
    const { results, ...rest } = (await listed.json()) as { results: { id: string; status: string }[] };
    expect(rest).toEqual({ incidentId: incident.id, incNumber: incident.number });
    expect(results.map((r) => r.status)).toEqual(['resolved', 'escalated']);
    expect(results[0]!.id).toBe(result.id);

    const latest = await stack.call('GET', `/api/v1/incidents/${incident.id}/result`);
    expect(((await latest.json()) as { status: string; summary: string }).summary).toBe('Handed to the database team');

    const timeline = (await (await stack.call('GET', `/api/v1/incidents/${incident.id}/timeline`)).json()) as {
      entries: { step: string; kind: string; input: { summary?: string } }[];
    };
    const manual = timeline.entries.filter((e) => e.kind === 'manual');
    expect(manual.map((e) => e.input.summary)).toEqual(['Restarted nginx by hand', 'Handed to the database team']);
    // The run started before anything was recorded: its start comes first.
    expect(timeline.entries[0]!.step).toBe('workflowStarted');

    // A record, not a transition: the incident's status is its run's.
    const row = (await (await stack.call('GET', `/api/v1/incidents/${incident.id}`)).json()) as { status: string };
    expect(row.status).not.toBe('escalated');
  });

  it('refuses the same Idempotency-Key for another incident (409)', async () => {
    const other = (await (
      await stack.call('POST', '/api/v1/incidents', { body: { title: 'other', severity: 'low', tagId: 'web-01' } })
    ).json()) as { number: number };
    const headers = { 'idempotency-key': `shared-${incident.id}` };
    expect(
      (await stack.call('POST', '/api/v1/storeResult', { headers, body: { incNumber: incident.number, status: 'failed', summary: 'a' } }))
        .status,
    ).toBe(201);
    await problem(
      await stack.call('POST', '/api/v1/storeResult', { headers, body: { incNumber: other.number, status: 'failed', summary: 'a' } }),
      409,
      'conflict',
    );
  });

  it('keeps tenants apart: another tenant’s incident number is unknown (404), for reading and recording', async () => {
    await problem(await stack.call('GET', `/api/v1/getResults/${incident.number}`, { key: globexKey }), 404, 'not-found');
    await problem(
      await stack.call('POST', '/api/v1/storeResult', {
        key: globexKey,
        body: { incNumber: incident.number, status: 'resolved', summary: 'not mine' },
      }),
      404,
      'not-found',
    );
    const acmeResults = (await (await stack.call('GET', `/api/v1/getResults/${incident.number}`)).json()) as {
      results: { summary: string }[];
    };
    expect(acmeResults.results.map((r) => r.summary)).not.toContain('not mine');
  });

  it('validates field by field (422), 404s an unknown number, and lets a viewer read but not record', async () => {
    const bad = await problem(
      await stack.call('POST', '/api/v1/storeResult', { body: { incNumber: 0, status: 'open', summary: '   ', extra: 1 } }),
      422,
      'validation-error',
    );
    expect([...new Set(bad.errors!.map((e) => e.path))].sort()).toEqual(['extra', 'incNumber', 'status', 'summary']);
    await problem(await stack.call('GET', '/api/v1/getResults/INC-1'), 422, 'validation-error');
    await problem(await stack.call('GET', '/api/v1/getResults/999999'), 404, 'not-found');
    await problem(
      await stack.call('POST', '/api/v1/storeResult', { body: { incNumber: 999999, status: 'resolved', summary: 'x' } }),
      404,
      'not-found',
    );
    await problem(
      await stack.call('POST', '/api/v1/storeResult', {
        key: viewerKey,
        body: { incNumber: incident.number, status: 'resolved', summary: 'x' },
      }),
      403,
      'forbidden',
    );
  });
});
