import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import type { PolicyJob } from '../../adapters/store/port.js';
import { createTemporalAlertGateway } from '../../api/temporal-gateway.js';
import { RECONCILE_GRACE_MS, reconcileAlertJobs } from '../../ingress/alert-job-reconciler.js';
import { alertStateQuery, alertWorkflowId, type AlertRunState } from '../../core/contracts/alerts.js';
import { FakeHostAccess } from '../support/fake-host.js';
import { sampleCmdbItem, startTestStack, waitFor, type TestStack } from '../support/stack.js';
import { testTemporal } from '../support/temporal.js';

// Alertmanager's webhook through HTTP (app.request) over a real store, the test run's Temporal and
// an in-process worker whose hosts are scripted (FakeHostAccess): authentication as Alertmanager's
// http_config sends it, validation, one run per alert however often it is delivered, resolved
// notifications reaching their runs, the job log, job approvals, and a 503 when Temporal is away.

let stack: TestStack;
const hosts = new FakeHostAccess();
/** sampleCmdbItem's address: every CMDB item of these tests is this fake host. */
const ADDRESS = '10.20.0.7';

beforeAll(async () => {
  stack = await startTestStack({
    withWorker: true,
    hostAccess: hosts,
    alerts: { settings: { resolveWaitMs: 60_000, verifyTimeoutMs: 3000 } },
    remediation: { approvalTimeoutMs: 60_000, autoApproveLowRisk: true },
  });
  const host = hosts.host(ADDRESS);
  host.on(/^systemctl restart /, { effect: (h) => h.flags.set('up', true) });
  host.on(/^systemctl is-active /, (h) => ({ exitCode: h.flag('up') ? 0 : 3 }));
  host.on(/^touch /, { effect: (h) => h.flags.set('up', true) });
});

afterAll(async () => {
  await stack?.close();
});

interface Problem {
  status: number;
  type: string;
  errors?: { path: string; message: string }[];
}
interface Delivery {
  received: number;
  started: number;
  joined: number;
  resolved: number;
  recorded: number;
  truncatedAlerts: number;
  alerts: { fingerprint: string; workflowId: string; outcome: string }[];
}

const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;

/** A tenant of its own (its operator key), with one CMDB item `web-01` and a restart policy. */
async function tenant(command = 'systemctl restart web'): Promise<{ key: string; slug: string }> {
  const slug = `am-${randomUUID().slice(0, 8)}`;
  const key = await stack.keyFor(slug, 'operator');
  const admin = await stack.keyFor(slug, 'admin');
  expect((await stack.call('POST', '/api/v1/cmdb', { key: admin, body: sampleCmdbItem('web-01') })).status).toBe(201);
  const policy = await stack.call('POST', '/api/v1/policies', {
    key,
    body: {
      name: 'restart web',
      condition: { matchers: [{ label: 'alertname', op: '=', value: 'ServiceDown' }] },
      action: { type: 'ssh_command', params: { command, verify: 'systemctl is-active web' } },
      limits: { cooldownSeconds: 0 },
    },
  });
  expect(policy.status).toBe(201);
  return { key, slug };
}

let seconds = 0;
function firing(extra: Record<string, string> = {}) {
  seconds += 1;
  return {
    status: 'firing' as const,
    labels: { alertname: 'ServiceDown', instance: 'web-01:9100', severity: 'critical', ...extra },
    annotations: { summary: 'web is down' },
    startsAt: `2026-12-06T10:00:${String(seconds % 60).padStart(2, '0')}.${String(seconds).padStart(3, '0')}Z`,
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph',
    fingerprint: randomUUID().replace(/-/g, '').slice(0, 16),
  };
}

const payload = (alerts: object[], status: 'firing' | 'resolved' = 'firing') => ({
  version: '4',
  groupKey: '{}:{alertname="ServiceDown"}',
  truncatedAlerts: 0,
  status,
  receiver: 'infraai',
  groupLabels: { alertname: 'ServiceDown' },
  commonLabels: { alertname: 'ServiceDown' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager:9093',
  alerts,
});

const post = (key: string | null, body: unknown, headers: Record<string, string> = {}) =>
  stack.call('POST', '/api/v1/alerts', { key: key ?? '', body, headers });

const stateOf = (workflowId: string) => stack.client.workflow.getHandle(workflowId).query(alertStateQuery);
const waitForStatus = (workflowId: string, status: AlertRunState['status']) =>
  waitFor(async () => (await stateOf(workflowId).catch(() => null))?.status === status, `${workflowId} ${status}`);

describe('POST /api/v1/alerts', () => {
  it('takes a bearer API key or basic auth with the key as password; anything else is 401, a viewer 403', async () => {
    const { key, slug } = await tenant();
    const bearer = await post(key, payload([]));
    expect(bearer.status).toBe(200);
    expect(await json(bearer)).toEqual({ received: 0, started: 0, joined: 0, resolved: 0, recorded: 0, truncatedAlerts: 0, alerts: [] });
    const basic = await post(null, payload([]), { authorization: `Basic ${Buffer.from(`alertmanager:${key}`).toString('base64')}` });
    expect(basic.status).toBe(200);

    for (const authorization of [
      undefined,
      'Basic !!!',
      `Basic ${Buffer.from('alertmanager').toString('base64')}`,
      'Basic ' + Buffer.from(':nope').toString('base64'),
    ]) {
      const res = await post(null, payload([]), authorization ? { authorization } : {});
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    // Basic auth is the webhook's alone.
    const elsewhere = await stack.call('GET', '/api/v1/jobs', {
      key: '',
      headers: { authorization: `Basic ${Buffer.from(`x:${key}`).toString('base64')}` },
    });
    expect(elsewhere.status).toBe(401);
    const viewer = await stack.keyFor(slug, 'viewer');
    expect((await post(viewer, payload([]))).status).toBe(403);
  });

  it('refuses a payload that is not Alertmanager’s version 4 with a problem naming the field', async () => {
    const { key } = await tenant();
    const cases: [unknown, number, string][] = [
      [{ ...payload([]), version: '3' }, 422, 'version'],
      [{ ...payload([]), alerts: undefined }, 422, 'alerts'],
      [payload([{ ...firing(), fingerprint: 'not a fingerprint' }]), 422, 'alerts.0.fingerprint'],
      [payload([{ ...firing(), startsAt: 'yesterday' }]), 422, 'alerts.0.startsAt'],
      [payload([{ ...firing(), status: 'pending' }]), 422, 'alerts.0.status'],
    ];
    for (const [body, status, path] of cases) {
      const res = await post(key, body);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await json<Problem>(res)).errors?.map((e) => e.path)).toContain(path);
    }
    expect((await post(key, '{"version":')).status).toBe(400);
    const tooBig = await post(key, payload([{ ...firing(), annotations: { description: 'x'.repeat(70_000) } }]));
    expect(tooBig.status).toBe(413);
  });

  it('starts one run per alert however often it is delivered, and the resolved notification closes it', async () => {
    const { key, slug } = await tenant();
    hosts.host(ADDRESS).flags.set('up', false);
    const alert = firing();
    const workflowId = alertWorkflowId(alert);
    const first = await json<Delivery>(await post(key, payload([alert])));
    expect(first).toMatchObject({
      received: 1,
      started: 1,
      joined: 0,
      alerts: [{ fingerprint: alert.fingerprint, workflowId, outcome: 'started' }],
    });
    // Alertmanager's retry, and the other member of an HA pair, join the run.
    expect(await json<Delivery>(await post(key, payload([alert])))).toMatchObject({ started: 0, joined: 1 });
    await waitForStatus(workflowId, 'awaiting_resolution');

    const jobs = await json<{ items: PolicyJob[] }>(await stack.call('GET', '/api/v1/jobs', { key }));
    expect(jobs.items).toHaveLength(1);
    const [job] = jobs.items;
    expect(job).toMatchObject({ status: 'succeeded', workflowId, host: 'web-01:9100', actionType: 'ssh_command' });
    // The job shows the run that recorded it, from the run's projection.
    const detail = await waitFor(async () => {
      const one = await json<{ run: { status: string } | null }>(await stack.call('GET', `/api/v1/jobs/${job!.id}`, { key }));
      return one.run?.status === 'awaiting_resolution' ? one : null;
    }, 'the job to show its run');
    expect(detail).toMatchObject({
      id: job!.id,
      workflowId,
      run: {
        workflowId,
        ended: false,
        approval: { decision: 'not_required', risk: 'low' },
        commands: [
          { phase: 'fix', command: 'systemctl restart web', exitCode: 0 },
          { phase: 'verification', command: 'systemctl is-active web', exitCode: 0 },
        ],
      },
    });

    const resolved = await json<Delivery>(
      await post(key, payload([{ ...alert, status: 'resolved', endsAt: '2026-12-06T10:09:00Z' }], 'resolved')),
    );
    expect(resolved).toMatchObject({ resolved: 1, recorded: 0, alerts: [{ outcome: 'resolved' }] });
    const state = (await stack.client.workflow.getHandle(workflowId).result()) as AlertRunState;
    expect(state).toMatchObject({ status: 'resolved', resolvedAt: '2026-12-06T10:09:00Z' });
    // A repeat of the resolved notification, and a resolved alert that never fired here, are only recorded.
    expect(await json<Delivery>(await post(key, payload([{ ...alert, status: 'resolved' }], 'resolved')))).toMatchObject({ recorded: 1 });
    expect(await json<Delivery>(await post(key, payload([{ ...firing(), status: 'resolved' }], 'resolved')))).toMatchObject({
      recorded: 1,
    });
    // A firing repeat after the run closed still joins it: one run per alert episode, ever.
    expect(await json<Delivery>(await post(key, payload([alert])))).toMatchObject({ started: 0, joined: 1 });

    const tenantRow = (await stack.store.tenants.ensure(slug))!;
    const recorded = await stack.store.alertEvents.listWindow(
      tenantRow.id,
      { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' },
      100,
    );
    expect(recorded.filter((e) => e.alert.fingerprint === alert.fingerprint).map((e) => e.alert.status)).toEqual([
      'firing',
      'firing',
      'resolved',
      'resolved',
      'firing',
    ]);
  });

  it('names the run by startsAt as sent and stores it as an instant (nanoseconds, an offset PostgreSQL cannot hold)', async () => {
    const { key, slug } = await tenant();
    const alert = { ...firing({ alertname: 'NothingMatches' }), startsAt: '2026-12-06T10:00:00.123456789+20:43' };
    const delivery = await json<Delivery>(await post(key, payload([alert])));
    expect(delivery.alerts).toEqual([
      expect.objectContaining({ workflowId: `alert-${alert.fingerprint}-2026-12-06T10:00:00.123456789+20:43`, outcome: 'started' }),
    ]);
    const state = (await stack.client.workflow.getHandle(delivery.alerts[0]!.workflowId).result()) as AlertRunState;
    expect(state).toMatchObject({ status: 'unmatched', alert: { startsAt: '2026-12-05T13:17:00.123Z' } });
    const tenantRow = await stack.store.tenants.ensure(slug);
    const [recorded] = await stack.store.alertEvents.listWindow(
      tenantRow.id,
      { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' },
      10,
    );
    expect(recorded?.alert.startsAt).toBe('2026-12-05T13:17:00.123Z');
  });

  it('starts one run when two deliveries of the same alerts arrive at once', async () => {
    const { key } = await tenant();
    const alerts = [firing(), firing({ instance: 'web-01:9200' })];
    const answers = await Promise.all([post(key, payload(alerts)), post(key, payload(alerts)), post(key, payload(alerts))]);
    const deliveries = await Promise.all(answers.map((res) => json<Delivery>(res)));
    expect(answers.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(deliveries.reduce((sum, d) => sum + d.started, 0)).toBe(2);
    expect(deliveries.reduce((sum, d) => sum + d.joined, 0)).toBe(4);
    for (const alert of alerts) await waitForStatus(alertWorkflowId(alert), 'awaiting_resolution');
    const jobs = await json<{ items: PolicyJob[] }>(await stack.call('GET', '/api/v1/jobs', { key }));
    expect(jobs.items.map((j) => j.workflowId).sort()).toEqual(alerts.map(alertWorkflowId).sort());
  });

  it('approves a risky command through POST /api/v1/jobs/{id}/approval, bound to the command the job shows', async () => {
    const command = 'touch /opt/app/restart.txt';
    const { key } = await tenant(command);
    const alert = firing();
    const workflowId = alertWorkflowId(alert);
    await post(key, payload([alert]));
    await waitForStatus(workflowId, 'awaiting_approval');
    const { items } = await json<{ items: PolicyJob[] }>(await stack.call('GET', '/api/v1/jobs', { key }));
    const job = items[0]!;
    expect(job).toMatchObject({ status: 'running', workflowId, params: { command } });
    expect((await stack.call('POST', `/api/v1/jobs/${randomUUID()}/approval`, { key, body: { decision: 'approve' } })).status).toBe(404);
    // What the approver reads: the job's command, and the run waiting on its hash.
    const waiting = await json<{ run: { status: string; approval: { decision: string; commandHash: string } } }>(
      await stack.call('GET', `/api/v1/jobs/${job.id}`, { key }),
    );
    expect(waiting.run).toMatchObject({
      status: 'awaiting_approval',
      approval: { decision: 'pending', commandHash: createHash('sha256').update(command).digest('hex') },
    });
    const bad = await stack.call('POST', `/api/v1/jobs/${job.id}/approval`, { key, body: { decision: 'maybe' } });
    expect(bad.status).toBe(422);

    const approved = await stack.call('POST', `/api/v1/jobs/${job.id}/approval`, { key, body: { decision: 'approve', reason: 'ok' } });
    expect(approved.status).toBe(200);
    expect(await json(approved)).toMatchObject({
      decision: 'approved',
      commandHash: createHash('sha256').update(command).digest('hex'),
      comment: 'ok',
      by: expect.stringMatching(/^api-key:/),
    });
    await waitForStatus(workflowId, 'awaiting_resolution');
    // Nothing waits any more: a second decision is a conflict.
    expect((await stack.call('POST', `/api/v1/jobs/${job.id}/approval`, { key, body: { decision: 'reject' } })).status).toBe(409);
  });

  it('a run terminated while it waits leaves its job running until the reconciler closes it, and the host is free again', async () => {
    const command = 'touch /opt/app/restart.txt';
    const { key } = await tenant(command);
    const alert = firing();
    const workflowId = alertWorkflowId(alert);
    await post(key, payload([alert]));
    await waitForStatus(workflowId, 'awaiting_approval');
    const [job] = (await json<{ items: PolicyJob[] }>(await stack.call('GET', '/api/v1/jobs', { key }))).items;
    expect(job).toMatchObject({ status: 'running', workflowId });
    // Terminated: no finally runs, the job stays running and holds web-01.
    await stack.client.workflow.getHandle(workflowId).terminate('an operator stopped it');
    const gateway = createTemporalAlertGateway(stack.client, { taskQueue: stack.taskQueue });
    expect(await gateway.runStatus(workflowId)).toEqual({ state: 'closed', status: 'TERMINATED' });
    expect(await gateway.runStatus(`alert-missing-${randomUUID()}`)).toEqual({ state: 'not_found' });
    const second = firing();
    await post(key, payload([second]));
    await waitForStatus(alertWorkflowId(second), 'limited');
    const limited = (await json<{ items: PolicyJob[] }>(await stack.call('GET', '/api/v1/jobs', { key }))).items[0]!;
    expect(limited).toMatchObject({ status: 'limited', limitReason: 'host_busy' });

    const runStatus = (id: string) => gateway.runStatus(id);
    // Inside the grace period nothing is touched; past it, the job whose run closed is ended.
    expect((await reconcileAlertJobs({ store: stack.store, runStatus })).closed).toEqual([]);
    const later = () => new Date(Date.now() + RECONCILE_GRACE_MS + 60_000);
    const report = await reconcileAlertJobs({ store: stack.store, runStatus, now: later });
    expect(report.closed).toContainEqual(expect.objectContaining({ jobId: job!.id, workflowId, runStatus: 'terminated' }));
    const closed = await json<PolicyJob>(await stack.call('GET', `/api/v1/jobs/${job!.id}`, { key }));
    expect(closed).toMatchObject({ status: 'failed', detail: expect.stringContaining('(terminated) without closing the job') });
    // A second pass changes nothing; the host takes the next alert's action again.
    expect((await reconcileAlertJobs({ store: stack.store, runStatus, now: later })).closed).not.toContainEqual(
      expect.objectContaining({ jobId: job!.id }),
    );
    const third = firing();
    await post(key, payload([third]));
    await waitForStatus(alertWorkflowId(third), 'awaiting_approval');
    const next = (await json<{ items: PolicyJob[] }>(await stack.call('GET', '/api/v1/jobs', { key }))).items[0]!;
    expect(next).toMatchObject({ status: 'running', workflowId: alertWorkflowId(third) });
    await stack.client.workflow.getHandle(alertWorkflowId(third)).terminate('test cleanup');
  });

  it('answers 503 problem+json when Temporal cannot be reached, so Alertmanager retries', async () => {
    const away = await startTestStack({
      alerts: {
        gateway: (_client, taskQueue) =>
          createTemporalAlertGateway(
            new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }), namespace: testTemporal().namespace }),
            {
              taskQueue,
            },
          ),
      },
    });
    try {
      const key = await away.keyFor('am-away', 'operator');
      const res = await away.call('POST', '/api/v1/alerts', { key, body: payload([firing()]) });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.headers.get('retry-after')).toBe('5');
    } finally {
      await away.close();
    }
  });
});
