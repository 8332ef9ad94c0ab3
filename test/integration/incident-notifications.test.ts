import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifiers } from '../../adapters/notify/create.js';
import { FakePagerDuty } from '../support/fake-pagerduty.js';
import { FakeServiceNow } from '../support/fake-servicenow.js';
import { sampleCmdbItem, startTestStack, waitFor, type TestStack } from '../support/stack.js';

// The last step of every incident run: its outcome goes to ServiceNow (work note, or a new record
// whose sys_id is remembered) and PagerDuty (a note on the incident), here local servers speaking
// their protocols. A tool that refuses does not fail the run.

let servicenow: FakeServiceNow;
let pagerduty: FakePagerDuty;
let stack: TestStack;

beforeAll(async () => {
  servicenow = await FakeServiceNow.start({ username: 'infraai', password: 'sn-secret-pw' });
  pagerduty = await FakePagerDuty.start({ apiKey: 'pd-secret-key', users: ['sre@example.test'] });
  const notifiers = createNotifiers({
    servicenow: { instanceUrl: servicenow.url, username: 'infraai', password: 'sn-secret-pw' },
    pagerduty: { apiKey: 'pd-secret-key', fromEmail: 'sre@example.test', apiBaseUrl: pagerduty.url },
  });
  stack = await startTestStack({ withWorker: true, notifiers });
  expect((await stack.call('POST', '/api/v1/cmdb', { body: sampleCmdbItem('notify-01') })).status).toBe(201);
});

afterAll(async () => {
  await stack?.close();
  await servicenow?.close();
  await pagerduty?.close();
});

type View = {
  status: string;
  external: Record<string, string>;
  workflow: { status: string; state: { notifications?: { notifier: string; delivered: boolean; detail: string }[] } };
};
/** The incident once its run closed, read with `key` (the stack's admin key when not given). */
const finished = (id: string, key?: string) =>
  waitFor(
    async () => {
      const incident = (await (await stack.call('GET', `/api/v1/incidents/${id}`, key ? { key } : {})).json()) as View;
      return incident.workflow?.status === 'COMPLETED' ? incident : null;
    },
    'the run to close',
    60_000,
  );

describe('incident notifications', () => {
  it('posts the outcome to the ServiceNow record and the PagerDuty incident the incident names', async () => {
    const sysId = servicenow.addIncident({ short_description: 'nginx down' });
    const pdId = pagerduty.addIncident();
    const created = await stack.call('POST', '/api/v1/incidents', {
      body: {
        title: 'nginx down on notify-01',
        severity: 'high',
        tagId: 'notify-01',
        external: { servicenowSysId: sysId, pagerdutyIncidentId: pdId },
      },
    });
    expect(created.status).toBe(201);
    const { id, number } = (await created.json()) as { id: string; number: number };
    const done = await finished(id);
    expect(done.status).toBe('escalated');
    expect(done.workflow.state.notifications).toEqual([
      expect.objectContaining({ notifier: 'servicenow', delivered: true }),
      expect.objectContaining({ notifier: 'pagerduty', delivered: true }),
    ]);
    const record = servicenow.incident(sysId)!;
    expect(record.workNotes.join('\n')).toContain(`INC-${number}`);
    expect(record.workNotes.join('\n')).toMatch(/escalated/i);
    expect(pagerduty.incident(pdId)!.notes.map((n) => n.from)).toEqual(['sre@example.test']);
    expect(pagerduty.incident(pdId)!.status).toBe('triggered');
    // Secrets stay out of what the tools receive.
    expect(JSON.stringify(servicenow.requests.map((r) => r.body))).not.toContain('sn-secret-pw');
  });

  it('opens a ServiceNow record when the incident has none and remembers its sys_id; a refusing tool does not fail the run', async () => {
    pagerduty.failNext(401);
    const created = await stack.call('POST', '/api/v1/incidents', {
      body: {
        title: 'disk full on notify-01',
        severity: 'medium',
        tagId: 'notify-01',
        external: { pagerdutyIncidentId: pagerduty.addIncident() },
      },
    });
    const { id, number } = (await created.json()) as { id: string; number: number };
    const done = await finished(id);
    expect(done.status).toBe('escalated');
    expect(done.external.servicenowSysId).toMatch(/^[0-9a-f]{32}$/);
    // The record it opened: named after the incident, urgent as an escalation is.
    expect(servicenow.incident(done.external.servicenowSysId!)).toMatchObject({
      short_description: `[InfraAI INC-${number}] disk full on notify-01`,
      urgency: '1',
      impact: '2',
      correlation_id: `infraai:INC-${number}`,
    });
    const pd = done.workflow.state.notifications!.find((n) => n.notifier === 'pagerduty')!;
    expect(pd.delivered).toBe(false);
    expect(pd.detail).toMatch(/401/);
    expect(pd.detail).not.toContain('pd-secret-key');
  });

  it('sends nothing for a tenant the notifiers do not serve, though its incident names the served tenant’s records', async () => {
    const sysId = servicenow.addIncident({ short_description: 'acme: nginx down' });
    const pdId = pagerduty.addIncident();
    const otherKey = await stack.keyFor('globex', 'admin');
    expect((await stack.call('POST', '/api/v1/cmdb', { key: otherKey, body: sampleCmdbItem('notify-01') })).status).toBe(201);
    const serviceNowCalls = servicenow.requests.length;
    const pagerDutyCalls = pagerduty.requests.length;
    const created = await stack.call('POST', '/api/v1/incidents', {
      key: otherKey,
      body: {
        title: 'resolve it for them',
        severity: 'high',
        tagId: 'notify-01',
        external: { servicenowSysId: sysId, pagerdutyIncidentId: pdId },
      },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const done = await finished(id, otherKey);
    const notServed = { delivered: false, detail: "the deployment's notifiers do not serve tenant globex" };
    expect(done.workflow.state.notifications).toEqual([
      { notifier: 'servicenow', ...notServed },
      { notifier: 'pagerduty', ...notServed },
    ]);
    expect(servicenow.requests.length).toBe(serviceNowCalls);
    expect(pagerduty.requests.length).toBe(pagerDutyCalls);
    expect(servicenow.incident(sysId)!.workNotes).toEqual([]);
    expect(pagerduty.incident(pdId)!.notes).toEqual([]);
    expect(done.external).toEqual({ servicenowSysId: sysId, pagerdutyIncidentId: pdId });
  });

  it('rejects malformed external references with a 422', async () => {
    for (const external of [{ servicenowSysId: 'nope' }, { pagerdutyIncidentId: 'has space' }, { jira: 'X-1' }]) {
      expect(
        (await stack.call('POST', '/api/v1/incidents', { body: { title: 'x', severity: 'low', tagId: 'notify-01', external } })).status,
      ).toBe(422);
    }
  });
});
