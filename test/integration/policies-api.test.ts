import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredPolicy, Tenant } from '../../adapters/store/port.js';
import { matchAlert } from '../../core/policies/evaluate.js';
import type { PolicyAlert } from '../../core/policies/model.js';
import { startTestStack, type TestStack } from '../support/stack.js';

// Self-healing policies, their simulation and the job log through HTTP (app.request) over a real
// store; jobs are written through the store's claim API, as the alert runs write them.

let stack: TestStack;
let acme: Tenant;
let otherKey: string;
let viewerKey: string;

beforeAll(async () => {
  stack = await startTestStack();
  acme = await stack.store.tenants.ensure('acme');
  otherKey = await stack.keyFor('globex', 'operator');
  viewerKey = await stack.keyFor('acme', 'viewer');
});

afterAll(async () => {
  await stack?.close();
});

interface Problem {
  status: number;
  type: string;
  detail: string;
  errors?: { path: string; message: string; code: string }[];
}

const json = async <T = Record<string, unknown>>(res: Response): Promise<T> => (await res.json()) as T;

const restartNginx = (extra: Record<string, unknown> = {}) => ({
  name: 'restart nginx',
  condition: { matchers: [{ label: 'alertname', op: '=', value: 'NginxDown' }] },
  action: { type: 'ssh_command', params: { command: 'systemctl restart ${label.service}' } },
  limits: { cooldownSeconds: 300 },
  ...extra,
});

async function expectProblem(res: Response, status: number): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  return json<Problem>(res);
}

const alertOf = (instance: string, fingerprint: string, alertname = 'NginxDown'): PolicyAlert => ({
  status: 'firing',
  labels: { alertname, instance, service: 'nginx' },
  annotations: {},
  fingerprint,
  startsAt: '2026-12-06T09:00:00.000Z',
});

describe('policies API', () => {
  it('creates, reads, lists, replaces and deletes a policy with defaults filled in and versions checked', async () => {
    const created = await stack.call('POST', '/api/v1/policies', { body: restartNginx({ name: 'crud' }) });
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"1"');
    const policy = await json<StoredPolicy>(created);
    expect(created.headers.get('location')).toBe(`/api/v1/policies/${policy.id}`);
    expect(policy).toMatchObject({
      name: 'crud',
      description: null,
      enabled: true,
      priority: 100,
      hostLabel: 'instance',
      version: 1,
      condition: { matchers: [{ label: 'alertname', op: '=', value: 'NginxDown' }], status: 'firing' },
      limits: { maxRunsPerHour: 20, maxRunsPerDay: 100, cooldownSeconds: 300, cooldownLabels: [], maxConcurrent: 5 },
      breaker: { failureThreshold: 3, openSeconds: 1800 },
    });
    expect(policy).not.toHaveProperty('tenantId');

    const read = await stack.call('GET', `/api/v1/policies/${policy.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(await json(read)).toEqual(policy);
    const listed = await json<{ items: StoredPolicy[] }>(await stack.call('GET', '/api/v1/policies?enabled=true'));
    expect(listed.items.map((p) => p.id)).toContain(policy.id);

    // Replace at the version read (If-Match), then a stale one answers 409, none 428.
    const put = await stack.call('PUT', `/api/v1/policies/${policy.id}`, {
      body: restartNginx({ name: 'crud', priority: 5, enabled: false }),
      headers: { 'if-match': '"1"' },
    });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"2"');
    expect(await json(put)).toMatchObject({ version: 2, priority: 5, enabled: false, createdAt: policy.createdAt });
    const stale = await stack.call('PUT', `/api/v1/policies/${policy.id}`, {
      body: restartNginx({ name: 'crud' }),
      headers: { 'if-match': '"1"' },
    });
    expect((await expectProblem(stale, 409)).detail).toMatch(/version 2/);
    expect((await stack.call('PUT', `/api/v1/policies/${policy.id}`, { body: restartNginx({ name: 'crud', version: 1 }) })).status).toBe(
      409,
    );
    await expectProblem(await stack.call('PUT', `/api/v1/policies/${policy.id}`, { body: restartNginx({ name: 'crud' }) }), 428);
    const badEtag = await expectProblem(
      await stack.call('PUT', `/api/v1/policies/${policy.id}`, { body: restartNginx({ name: 'crud' }), headers: { 'if-match': 'abc' } }),
      422,
    );
    expect(badEtag.errors?.[0]?.path).toBe('if-match');
    const viaBody = await stack.call('PUT', `/api/v1/policies/${policy.id}`, { body: restartNginx({ name: 'crud', version: 2 }) });
    expect(await json(viaBody)).toMatchObject({ version: 3, priority: 100, enabled: true });

    // A second policy of the same name is refused, on create and on rename.
    await expectProblem(await stack.call('POST', '/api/v1/policies', { body: restartNginx({ name: 'crud' }) }), 409);
    const second = await json<StoredPolicy>(await stack.call('POST', '/api/v1/policies', { body: restartNginx({ name: 'crud-2' }) }));
    await expectProblem(
      await stack.call('PUT', `/api/v1/policies/${second.id}`, { body: restartNginx({ name: 'crud' }), headers: { 'if-match': '*' } }),
      409,
    );

    await expectProblem(await stack.call('DELETE', `/api/v1/policies/${policy.id}`, { headers: { 'if-match': '"2"' } }), 409);
    expect((await stack.call('DELETE', `/api/v1/policies/${policy.id}`, { headers: { 'if-match': '"3"' } })).status).toBe(204);
    await expectProblem(await stack.call('GET', `/api/v1/policies/${policy.id}`), 404);
    await expectProblem(await stack.call('DELETE', `/api/v1/policies/${policy.id}`), 404);
    expect((await stack.call('DELETE', `/api/v1/policies/${second.id}`)).status).toBe(204);
  });

  it('refuses invalid policies with 422 problems naming each field', async () => {
    const cases: [unknown, string[]][] = [
      [restartNginx({ condition: { matchers: [{ label: 'job', op: '=~', value: 'web(' }] } }), ['condition.matchers.0.value']],
      [restartNginx({ condition: { matchers: [{ label: '1bad', op: '=', value: 'x' }] } }), ['condition.matchers.0.label']],
      [restartNginx({ action: { type: 'ssh_command', params: {} } }), ['action.params.command']],
      [restartNginx({ action: { type: 'ssh_command', params: { command: 'ls', shell: 'bash' } } }), ['action.params.shell']],
      [restartNginx({ action: { type: 'restart_pod', params: { namespace: 'web' } } }), ['action.params.pod']],
      [restartNginx({ action: { type: 'ssh_command', params: { command: 'systemctl restart ${env.HOME}' } } }), ['action.params.command']],
      [
        restartNginx({ action: { type: 'ssh_command', params: { command: 'systemctl restart ${label.service' } } }),
        ['action.params.command'],
      ],
      [
        restartNginx({ action: { type: 'restart_pod', params: { namespace: 'web;rm -rf /', pod: '${label.pod}' } } }),
        ['action.params.namespace'],
      ],
      [
        restartNginx({ action: { type: 'scale_deployment', params: { namespace: 'web', deployment: 'api', replicas: 'many' } } }),
        ['action.params.replicas'],
      ],
      [restartNginx({ action: { type: 'run_playbook', params: { request: 'x', checkMode: 'yes' } } }), ['action.params.checkMode']],
      // Verification only looks: a verify the command policy does not rate read-only is refused.
      [
        restartNginx({
          action: { type: 'ssh_command', params: { command: 'systemctl restart nginx', verify: 'systemctl restart nginx' } },
        }),
        ['action.params.verify'],
      ],
      [restartNginx({ action: { type: 'reboot_everything', params: {} } }), ['action.type']],
      [restartNginx({ limits: { maxRunsPerHour: 0 } }), ['limits.maxRunsPerHour']],
      [restartNginx({ limits: { cooldownSeconds: -1 } }), ['limits.cooldownSeconds']],
      [restartNginx({ limits: { maxConcurrent: 1.5 } }), ['limits.maxConcurrent']],
      [restartNginx({ breaker: { failureThreshold: 101 } }), ['breaker.failureThreshold']],
      [restartNginx({ name: '  ' }), ['name']],
      [restartNginx({ extra: true }), ['extra']],
    ];
    for (const [body, paths] of cases) {
      const problem = await expectProblem(await stack.call('POST', '/api/v1/policies', { body }), 422);
      expect([...new Set(problem.errors?.map((e) => e.path))], JSON.stringify(body)).toEqual(paths);
    }
    const regex = await expectProblem(
      await stack.call('POST', '/api/v1/policies', {
        body: restartNginx({ condition: { matchers: [{ label: 'job', op: '!~', value: '*x' }] } }),
      }),
      422,
    );
    expect(regex.errors?.[0]?.message).toMatch(/not a valid regular expression/);
    // Placeholders and parameters that are right pass.
    const fine = await stack.call('POST', '/api/v1/policies', {
      body: restartNginx({
        name: 'scale',
        action: {
          type: 'scale_deployment',
          params: { namespace: '${label.namespace}', deployment: 'api-${label.app}', replicas: '${annotation.replicas}' },
        },
      }),
    });
    expect(fine.status).toBe(201);
    const verified = await stack.call('POST', '/api/v1/policies', {
      body: restartNginx({
        name: 'verified',
        action: {
          type: 'ssh_command',
          params: { command: 'systemctl restart ${label.service}', verify: 'systemctl is-active ${label.service}' },
        },
      }),
    });
    expect(verified.status).toBe(201);
    expect((await stack.call('DELETE', `/api/v1/policies/${(await json<StoredPolicy>(verified)).id}`)).status).toBe(204);
    expect((await stack.call('DELETE', `/api/v1/policies/${(await json<StoredPolicy>(fine)).id}`)).status).toBe(204);
  });

  it('never shows or changes another tenant’s policy; viewers read only', async () => {
    const mine = await json<StoredPolicy>(await stack.call('POST', '/api/v1/policies', { body: restartNginx({ name: 'tenancy' }) }));
    await expectProblem(await stack.call('GET', `/api/v1/policies/${mine.id}`, { key: otherKey }), 404);
    await expectProblem(
      await stack.call('PUT', `/api/v1/policies/${mine.id}`, {
        key: otherKey,
        body: restartNginx({ name: 'stolen' }),
        headers: { 'if-match': '"1"' },
      }),
      404,
    );
    await expectProblem(await stack.call('DELETE', `/api/v1/policies/${mine.id}`, { key: otherKey }), 404);
    expect((await json<{ items: unknown[] }>(await stack.call('GET', '/api/v1/policies', { key: otherKey }))).items).toEqual([]);
    await expectProblem(await stack.call('GET', '/api/v1/policies/not-a-uuid'), 404);
    expect((await stack.call('GET', `/api/v1/policies/${mine.id}`, { key: viewerKey })).status).toBe(200);
    await expectProblem(await stack.call('POST', '/api/v1/policies', { key: viewerKey, body: restartNginx({ name: 'viewer' }) }), 403);
    expect((await stack.call('DELETE', `/api/v1/policies/${mine.id}`)).status).toBe(204);
  });

  it('simulates inline alerts against a draft set: who would act, where, and what limits stop; nothing is written', async () => {
    const jobsBefore = (await stack.store.policyJobs.list(acme.id, {}, { limit: 200 })).items.length;
    const alerts = Array.from({ length: 10 }, (_, i) => ({
      receivedAt: new Date(Date.UTC(2026, 11, 6, 8, 0, i * 10)).toISOString(),
      labels: { alertname: i === 9 ? 'DiskFull' : 'NginxDown', instance: i % 2 ? 'web-02' : 'web-01', service: 'nginx' },
      fingerprint: `fp-${i}`,
    }));
    const res = await stack.call('POST', '/api/v1/policies/simulate', {
      body: { policies: [restartNginx({ name: 'draft restart', limits: { cooldownSeconds: 300 } })], alerts, actionSeconds: 5 },
    });
    expect(res.status).toBe(200);
    const report = await json<{
      alerts: number;
      wouldAct: number;
      limited: number;
      unmatched: number;
      policies: { policyId: string; name: string; hosts: { host: string; runs: number }[]; limited: Record<string, number> }[];
      decisions: { outcome: string; params?: Record<string, unknown> }[];
    }>(res);
    expect(report).toMatchObject({ alerts: 10, wouldAct: 2, limited: 7, unmatched: 1 });
    expect(report.policies).toEqual([
      expect.objectContaining({
        policyId: 'draft-1',
        name: 'draft restart',
        hosts: [
          { host: 'web-01', runs: 1 },
          { host: 'web-02', runs: 1 },
        ],
        limited: { cooldown: 7 },
      }),
    ]);
    expect(report.decisions[0]).toMatchObject({ outcome: 'would_act', params: { command: 'systemctl restart nginx' } });
    expect((await stack.store.policyJobs.list(acme.id, {}, { limit: 200 })).items.length).toBe(jobsBefore);

    await expectProblem(await stack.call('POST', '/api/v1/policies/simulate', { body: {} }), 422);
    const both = await expectProblem(
      await stack.call('POST', '/api/v1/policies/simulate', { body: { alerts, from: '2026-12-06T00:00:00Z', to: '2026-12-07T00:00:00Z' } }),
      422,
    );
    expect(both.errors?.map((e) => e.path)).toEqual(['alerts']);
    const backwards = await expectProblem(
      await stack.call('POST', '/api/v1/policies/simulate', { body: { from: '2026-12-07T00:00:00Z', to: '2026-12-06T00:00:00Z' } }),
      422,
    );
    expect(backwards.errors?.map((e) => e.path)).toEqual(['to']);
    const badDraft = await expectProblem(
      await stack.call('POST', '/api/v1/policies/simulate', {
        body: { policies: [restartNginx({ condition: { matchers: [{ label: 'a', op: '=~', value: '(' }] } })], alerts },
      }),
      422,
    );
    expect(badDraft.errors?.map((e) => e.path)).toEqual(['policies.0.condition.matchers.0.value']);
  });

  it('simulates a recorded window against the stored policies', async () => {
    const tenant = await stack.store.tenants.ensure('simwin');
    const key = await stack.keyFor('simwin', 'operator');
    expect(
      (
        await stack.call('POST', '/api/v1/policies', {
          key,
          body: restartNginx({ name: 'stored', limits: { cooldownSeconds: 0, maxRunsPerHour: 2 } }),
        })
      ).status,
    ).toBe(201);
    for (let i = 0; i < 4; i += 1) {
      await stack.store.alertEvents.append(tenant.id, 'alertmanager', new Date(Date.UTC(2026, 11, 6, 7, i)), [alertOf(`h${i}`, `w${i}`)]);
    }
    // Outside the window: not replayed.
    await stack.store.alertEvents.append(tenant.id, 'alertmanager', new Date(Date.UTC(2026, 11, 6, 9, 0)), [alertOf('h9', 'w9')]);
    const res = await stack.call('POST', '/api/v1/policies/simulate', {
      key,
      body: { from: '2026-12-06T07:00:00Z', to: '2026-12-06T08:00:00Z' },
    });
    expect(res.status).toBe(200);
    const report = await json<{
      alerts: number;
      wouldAct: number;
      limited: number;
      policies: { name: string; limited: Record<string, number> }[];
    }>(res);
    expect(report).toMatchObject({ alerts: 4, wouldAct: 2, limited: 2 });
    expect(report.policies).toEqual([expect.objectContaining({ name: 'stored', limited: { hourly: 2 } })]);
  });
});

describe('jobs API', () => {
  it('lists the job log newest first with filters and cursors, and reads one job; per tenant', async () => {
    const tenant = await stack.store.tenants.ensure('joblog');
    const key = await stack.keyFor('joblog', 'viewer');
    const policy = await stack.store.policies.create(tenant.id, {
      name: 'restart',
      description: null,
      enabled: true,
      priority: 1,
      condition: { matchers: [{ label: 'alertname', op: '=', value: 'NginxDown' }], status: 'firing' },
      action: { type: 'ssh_command', params: { command: 'systemctl restart ${label.service}' } },
      hostLabel: 'instance',
      limits: { maxRunsPerHour: null, maxRunsPerDay: null, cooldownSeconds: 600, cooldownLabels: [], maxConcurrent: null },
      breaker: { failureThreshold: 3, openSeconds: 60 },
    });
    const claim = (instance: string, fp: string, minute: number) => {
      const alert = alertOf(instance, fp);
      const match = matchAlert(alert, [policy]);
      if (match.kind !== 'act') throw new Error('no match');
      return stack.store.policyJobs.claimRun(tenant.id, { match, alert, now: new Date(Date.UTC(2026, 11, 6, 10, minute)) });
    };
    const first = await claim('web-01', 'j1', 0);
    await stack.store.policyJobs.finishRun(tenant.id, first.job.id, { succeeded: true }, new Date(Date.UTC(2026, 11, 6, 10, 0, 30)));
    await claim('web-01', 'j2', 1); // cooldown
    await claim('web-02', 'j3', 2);
    await claim('web-01', 'j4', 3); // cooldown
    await stack.store.policyJobs.record(tenant.id, {
      status: 'unmatched',
      alert: alertOf('web-03', 'j5', 'Other'),
      policy: null,
      detail: 'no policy matched',
      now: new Date(Date.UTC(2026, 11, 6, 10, 4)),
    });

    type JobPage = {
      items: { id: string; status: string; host: string | null; fingerprint: string; limitReason: string | null }[];
      nextCursor: string | null;
    };
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await stack.call('GET', `/api/v1/jobs?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key });
      expect(res.status).toBe(200);
      const page = await json<JobPage>(res);
      seen.push(...page.items.map((j) => j.fingerprint));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['j5', 'j4', 'j3', 'j2', 'j1']);

    const limited = await json<JobPage>(await stack.call('GET', '/api/v1/jobs?status=limited', { key }));
    expect(limited.items.map((j) => [j.fingerprint, j.limitReason])).toEqual([
      ['j4', 'cooldown'],
      ['j2', 'cooldown'],
    ]);
    const onWeb01 = await json<JobPage>(await stack.call('GET', `/api/v1/jobs?host=web-01&policyId=${policy.id}`, { key }));
    expect(onWeb01.items.map((j) => j.fingerprint)).toEqual(['j4', 'j2', 'j1']);
    const window = await json<JobPage>(await stack.call('GET', '/api/v1/jobs?from=2026-12-06T10:01:00Z&to=2026-12-06T10:03:00Z', { key }));
    expect(window.items.map((j) => j.fingerprint)).toEqual(['j3', 'j2']);

    const one = await stack.call('GET', `/api/v1/jobs/${first.job.id}`, { key });
    expect(one.status).toBe(200);
    expect(await json(one)).toMatchObject({
      id: first.job.id,
      status: 'succeeded',
      policyId: policy.id,
      policyName: 'restart',
      host: 'web-01',
      params: { command: 'systemctl restart nginx' },
      labels: { alertname: 'NginxDown', instance: 'web-01', service: 'nginx' },
      decidedAt: '2026-12-06T10:00:00.000Z',
      finishedAt: '2026-12-06T10:00:30.000Z',
    });
    await expectProblem(await stack.call('GET', `/api/v1/jobs/${first.job.id}`), 404);
    expect((await json<JobPage>(await stack.call('GET', '/api/v1/jobs'))).items.map((j) => j.id)).not.toContain(first.job.id);
    await expectProblem(await stack.call('GET', '/api/v1/jobs?cursor=WyJ4Il0', { key }), 422);
    await expectProblem(await stack.call('GET', '/api/v1/jobs?status=nope', { key }), 422);
    await expectProblem(await stack.call('GET', '/api/v1/jobs?from=0000-01-01T00:00:00Z', { key }), 422);
    await expectProblem(await stack.call('GET', '/api/v1/jobs?policyId=x', { key }), 422);
  });
});
