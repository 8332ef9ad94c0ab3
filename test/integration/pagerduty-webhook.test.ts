import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { signPagerDutyBody } from '../../api/webhooks/pagerduty-signature.js';
import { pagerDutyStateQuery, pagerDutyWorkflowId, type PagerDutyRunState } from '../../core/contracts/pagerduty.js';
import type { PagerDutyEventEnvelope } from '../../core/ingress/pagerduty.js';
import { createPagerDutyRelayer, type PagerDutyRelayer } from '../../ingress/pagerduty-relay.js';
import { PAGERDUTY_WEBHOOK_RELAY_TIMEOUT_MS } from '../../api/webhooks/pagerduty.js';
import { FakeHostAccess, scriptSupervisorService } from '../support/fake-host.js';
import { pdEvents, pdIncident } from '../support/pagerduty-events.js';
import { sampleCmdbItem, startTestStack, waitFor, type TestStack } from '../support/stack.js';

// Integration tier: POST /api/v1/webhooks/pagerduty on the API with the test run's Temporal, a
// worker and a real store. PagerDuty signs each delivery (no API key); the relay behind the route is
// the one the SQS bridge uses. A second API, whose Temporal is unreachable, answers 503 in time.

const PATH = '/api/v1/webhooks/pagerduty';
const OLD_SECRET = 'pd-secret-being-rotated-out';
const NEW_SECRET = 'pd-secret-rotated-in';
const TENANT = 'pd-hooks';

let stack: TestStack;
let down: TestStack;
let stalled: TestStack;
let unconfigured: TestStack;
let viewerKey: string;
/** Every relay the webhook made (a repeat answered from memory makes none). */
const relayed: string[] = [];
const hosts = new FakeHostAccess();

beforeAll(async () => {
  stack = await startTestStack({
    withWorker: true,
    hostAccess: hosts,
    pagerDuty: {
      secrets: [OLD_SECRET, NEW_SECRET],
      tenantSlug: TENANT,
      relayer: (client, taskQueue): PagerDutyRelayer => {
        const real = createPagerDutyRelayer(client, { taskQueue, pagerDutyTenantSlug: TENANT, timeoutMs: 3000 });
        return {
          relay(envelope, context) {
            relayed.push(envelope.event.id);
            return real.relay(envelope, context);
          },
        };
      },
    },
  });
  viewerKey = await stack.keyFor(TENANT, 'viewer');
  // The CMDB item of PagerDuty service PWEBHOOK (its tag maps the service to the host).
  const operatorKey = await stack.keyFor(TENANT, 'operator');
  const created = await stack.call('POST', '/api/v1/cmdb', {
    key: operatorKey,
    body: {
      ...sampleCmdbItem('hook-web-01'),
      address: '10.97.0.1',
      serviceManager: 'supervisor',
      tags: { pagerduty_service: 'PWEBHOOK', service: 'web', servicePort: '8080', configFile: '/etc/web/web.conf' },
    },
  });
  expect(created.status).toBe(201);
  scriptSupervisorService(hosts.host('10.97.0.1'), 'web');

  // Temporal unreachable: nothing listens on port 1. The webhook's own 64 KB cap under a 1 MB API limit.
  down = await startTestStack({
    bodyLimitBytes: 1024 * 1024,
    pagerDuty: {
      secrets: [NEW_SECRET],
      tenantSlug: TENANT,
      relayer: (_client, taskQueue) =>
        createPagerDutyRelayer(new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }), {
          taskQueue,
          pagerDutyTenantSlug: TENANT,
          timeoutMs: PAGERDUTY_WEBHOOK_RELAY_TIMEOUT_MS,
        }),
    },
  });
  // A relay that never settles (a starved or wedged Temporal call): the webhook's own deadline answers.
  stalled = await startTestStack({
    pagerDuty: { secrets: [NEW_SECRET], tenantSlug: TENANT, relayer: () => ({ relay: () => new Promise(() => undefined) }) },
  });
  unconfigured = await startTestStack();
});

afterAll(async () => {
  await stack?.close();
  await down?.close();
  await unconfigured?.close();
  await stalled?.close();
});

/** What PagerDuty sends: the raw JSON, signed with the given secrets, with a delivery id. */
function deliver(
  target: TestStack,
  body: string | PagerDutyEventEnvelope,
  { secrets = [NEW_SECRET], webhookId, signature }: { secrets?: string[]; webhookId?: string; signature?: string | null } = {},
): Promise<Response> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'user-agent': 'PagerDuty-Webhook/V3.0', 'x-webhook-subscription': 'PSUB123' };
  const signed = signature === undefined ? signPagerDutyBody(raw, secrets) : signature;
  if (signed !== null) headers['x-pagerduty-signature'] = signed;
  if (webhookId) headers['x-webhook-id'] = webhookId;
  // No API key: PagerDuty has none.
  return target.call('POST', PATH, { key: '', body: raw, headers });
}

async function runExists(workflowId: string): Promise<boolean> {
  try {
    await stack.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

async function expectProblem(response: Response, status: number, type: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(await response.json()).toMatchObject({ status, type: `urn:infraai:problem:${type}` });
}

describe('POST /api/v1/webhooks/pagerduty', () => {
  it('a signed incident.triggered starts pd-<id>, whose incident the API shows like any other', async () => {
    const incident = pdIncident('PWEBHOOK');
    const started = Date.now();
    const response = await deliver(stack, pdEvents.triggered(incident), { webhookId: 'wh-trigger-1' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ outcome: 'started', workflowId: `pd-${incident.id}` });

    const pd = stack.client.workflow.getHandle(pagerDutyWorkflowId(incident.id, null));
    const state = (await pd.result()) as PagerDutyRunState;
    expect(state).toMatchObject({ status: 'completed', via: 'webhook', tagId: 'hook-web-01' });
    // The incident row of the configured tenant: read, listed, its events and timeline as usual.
    const detail = await stack.call('GET', `/api/v1/incidents/${state.incidentId}`, { key: viewerKey });
    expect(detail.status).toBe(200);
    expect(await detail.json()).toMatchObject({
      id: state.incidentId,
      status: 'resolved',
      workflowId: `incident-${state.incidentId}`,
      external: { pagerdutyIncidentId: incident.id },
    });
    const list = (await (await stack.call('GET', '/api/v1/incidents?limit=100', { key: viewerKey })).json()) as {
      items: { id: string; source: string }[];
    };
    expect(list.items.find((i) => i.id === state.incidentId)).toMatchObject({ source: 'pagerduty' });
    expect((await stack.call('GET', `/api/v1/incidents/${state.incidentId}/timeline`, { key: viewerKey })).status).toBe(200);
    // Another tenant does not see it.
    expect((await stack.call('GET', `/api/v1/incidents/${state.incidentId}`)).status).toBe(404);
  });

  it('accepts either secret while one rotates, in whichever order the header lists them', async () => {
    for (const secrets of [[OLD_SECRET], [NEW_SECRET], ['not-a-secret-of-ours', NEW_SECRET], [NEW_SECRET, 'not-a-secret-of-ours']]) {
      const response = await deliver(stack, pdEvents.serviceUpdated(), { secrets });
      expect(response.status, secrets.join(',')).toBe(200);
      expect(await response.json()).toMatchObject({ outcome: 'ignored' });
    }
  });

  it('refuses a missing or wrong signature with 401, and starts nothing', async () => {
    const incident = pdIncident('PWEBHOOK');
    const event = pdEvents.triggered(incident);
    const before = relayed.length;
    await expectProblem(await deliver(stack, event, { signature: null }), 401, 'unauthorized');
    await expectProblem(await deliver(stack, event, { secrets: ['not-a-secret-of-ours'] }), 401, 'unauthorized');
    await expectProblem(await deliver(stack, event, { signature: 'v1=zz' }), 401, 'unauthorized');
    await expectProblem(
      await deliver(stack, event, { signature: `v0=${signPagerDutyBody('x', [NEW_SECRET]).slice(3)}` }),
      401,
      'unauthorized',
    );
    // An API key is no substitute for PagerDuty's signature.
    const withKey = await stack.call('POST', PATH, { body: event });
    await expectProblem(withKey, 401, 'unauthorized');
    expect(relayed.length).toBe(before);
    expect(await runExists(pagerDutyWorkflowId(incident.id, null))).toBe(false);
  });

  it('refuses a body changed after it was signed (the signature is over the raw bytes)', async () => {
    const incident = pdIncident('PWEBHOOK');
    const raw = JSON.stringify(pdEvents.triggered(incident));
    const signature = signPagerDutyBody(raw, [NEW_SECRET]);
    // The same JSON value, re-serialised with other white space, is not what was signed.
    const reformatted = JSON.stringify(JSON.parse(raw), null, 2);
    await expectProblem(await deliver(stack, reformatted, { signature }), 401, 'unauthorized');
    const tampered = raw.replace('"urgency":"high"', '"urgency":"low"');
    expect(tampered).not.toBe(raw);
    await expectProblem(await deliver(stack, tampered, { signature }), 401, 'unauthorized');
    expect(await runExists(pagerDutyWorkflowId(incident.id, null))).toBe(false);
  });

  it('answers 400 for a signed body that is not JSON or not a PagerDuty event', async () => {
    await expectProblem(await deliver(stack, '{"event": {"id": '), 400, 'bad-request');
    await expectProblem(await deliver(stack, JSON.stringify({ messages: [] })), 400, 'bad-request');
    const noIncident = JSON.stringify({ event: { id: 'e1', event_type: 'incident.triggered', resource_type: 'incident' } });
    const response = await deliver(stack, noIncident);
    await expectProblem(response.clone(), 400, 'bad-request');
    expect(((await response.json()) as { detail: string }).detail).toContain('event.occurred_at');
  });

  it('answers a repeated X-Webhook-Id with 200 from memory: no second relay, one run', async () => {
    const incident = pdIncident('PNOSUCHSERVICE');
    const event = pdEvents.triggered(incident);
    const first = await deliver(stack, event, { webhookId: 'wh-repeat-1' });
    expect(await first.json()).toEqual({ outcome: 'started', workflowId: `pd-${incident.id}` });
    const relaysBefore = relayed.length;
    const again = await deliver(stack, event, { webhookId: 'wh-repeat-1' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ outcome: 'duplicate', workflowId: `pd-${incident.id}` });
    expect(relayed.length).toBe(relaysBefore);
    // Another delivery id of the same event (another process, or the id forgotten): the run is joined.
    const other = await deliver(stack, event, { webhookId: 'wh-repeat-2' });
    expect(await other.json()).toEqual({ outcome: 'joined', workflowId: `pd-${incident.id}` });
    const state = await waitFor(async () => {
      const s = await stack.client.workflow.getHandle(pagerDutyWorkflowId(incident.id, null)).query(pagerDutyStateQuery);
      return s.status === 'unmapped' ? s : null;
    }, 'the run to find no CMDB item');
    expect(state.appliedEventIds).toEqual([event.event.id]);
    // A later event of the incident, delivered twice at once: both 200, applied once.
    const note = pdEvents.annotated(incident, 'on it');
    const both = await Promise.all([deliver(stack, note, { webhookId: 'wh-note' }), deliver(stack, note, { webhookId: 'wh-note' })]);
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect((await Promise.all(both.map((r) => r.json()))).map((b) => (b as { outcome: string }).outcome).sort()).toEqual([
      'duplicate',
      'signalled',
    ]);
    await waitFor(async () => {
      const s = await stack.client.workflow.getHandle(pagerDutyWorkflowId(incident.id, null)).query(pagerDutyStateQuery);
      return s.appliedEventIds.length === 2 ? s : null;
    }, 'the note applied');
    await deliver(stack, pdEvents.resolved(incident));
  });

  it('the same event delivered twice at once starts one run', async () => {
    const incident = pdIncident('PNOSUCHSERVICE');
    const event = pdEvents.triggered(incident);
    const responses = await Promise.all([
      deliver(stack, event, { webhookId: 'wh-concurrent-a' }),
      deliver(stack, event, { webhookId: 'wh-concurrent-b' }),
      deliver(stack, event, { secrets: [OLD_SECRET] }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const outcomes = (await Promise.all(responses.map((r) => r.json()))).map((b) => (b as { outcome: string }).outcome).sort();
    expect(outcomes).toEqual(['joined', 'joined', 'started']);
    const state = await stack.client.workflow.getHandle(pagerDutyWorkflowId(incident.id, null)).query(pagerDutyStateQuery);
    expect(state.appliedEventIds).toEqual([event.event.id]);
    await deliver(stack, pdEvents.resolved(incident));
  });

  it('acknowledges an event InfraAI does not act on (200 ignored), and a later event with no run (200 no_run)', async () => {
    const ignored = await deliver(stack, pdEvents.serviceUpdated());
    expect(ignored.status).toBe(200);
    expect(await ignored.json()).toEqual({ outcome: 'ignored', reason: 'service.updated: not an incident event' });
    const unknownType = pdEvents.acknowledged(pdIncident('PWEBHOOK'));
    unknownType.event.event_type = 'incident.custom_field_values.updated';
    expect(await (await deliver(stack, unknownType)).json()).toMatchObject({ outcome: 'ignored' });
    const orphan = pdIncident('PWEBHOOK');
    expect(await (await deliver(stack, pdEvents.acknowledged(orphan))).json()).toMatchObject({
      outcome: 'no_run',
      workflowId: `pd-${orphan.id}`,
    });
  });

  it('answers 503 within PagerDuty’s 5 s when Temporal does not take the event, so PagerDuty retries', async () => {
    // The answer is bounded by the relay's own deadline, set well under PagerDuty's 5 s; the wall
    // clock is not asserted here (a loaded CI machine adds seconds that are not the product's).
    expect(PAGERDUTY_WEBHOOK_RELAY_TIMEOUT_MS).toBeLessThanOrEqual(3000);
    const response = await deliver(down, pdEvents.triggered(pdIncident('PWEBHOOK')), { webhookId: 'wh-down' });
    await expectProblem(response.clone(), 503, 'workflow-engine-unavailable');
    expect(response.headers.get('retry-after')).toBe('5');
    // The failure is not remembered: PagerDuty's retry of the delivery is relayed again.
    const retried = await deliver(down, pdEvents.triggered(pdIncident('PWEBHOOK')), { webhookId: 'wh-down' });
    expect(retried.status).toBe(503);
  });

  it('answers 503 by its own deadline when the relay does not return at all', async () => {
    const response = await deliver(stalled, pdEvents.triggered(pdIncident('PWEBHOOK')), { webhookId: 'wh-stalled' });
    await expectProblem(response.clone(), 503, 'workflow-engine-unavailable');
    expect(response.headers.get('retry-after')).toBe('5');
    // The retry of the same delivery joins the stalled relay and is answered by the deadline too.
    expect((await deliver(stalled, pdEvents.triggered(pdIncident('PWEBHOOK')), { webhookId: 'wh-stalled' })).status).toBe(503);
  });

  it('answers 503 when no signing secret is configured, and 413 for a body over 64 KB', async () => {
    await expectProblem(await deliver(unconfigured, pdEvents.serviceUpdated()), 503, 'webhook-not-configured');
    const big = pdEvents.annotated(pdIncident('PWEBHOOK'), 'x'.repeat(70 * 1024));
    // Over the route's own cap even where the API's general body limit is 1 MB.
    await expectProblem(await deliver(down, big), 413, 'payload-too-large');
    await expectProblem(await deliver(stack, big), 413, 'payload-too-large');
  });

  it('refuses a body that is not JSON by its content type (415)', async () => {
    const raw = JSON.stringify(pdEvents.serviceUpdated());
    const response = await stack.app.request(PATH, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-pagerduty-signature': signPagerDutyBody(raw, [NEW_SECRET]) },
      body: raw,
    });
    await expectProblem(response, 415, 'unsupported-media-type');
  });
});
