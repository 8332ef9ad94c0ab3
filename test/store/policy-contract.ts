import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { DuplicateKeyError, InvalidCursorError, type PolicyInput, type Store, type StoredPolicy } from '../../adapters/store/port.js';
import { matchAlert } from '../../core/policies/evaluate.js';
import { DEFAULT_POLICY_BREAKER, DEFAULT_POLICY_LIMITS, type PolicyAlert } from '../../core/policies/model.js';

// The self-healing part of the store contract (migration 0010): policies with optimistic versions,
// the job log whose claims apply the limits atomically, the breaker, and the recorded alerts.

let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter += 1)}`;

export const policyInput = (name: string, extra: Partial<PolicyInput> = {}): PolicyInput => ({
  name,
  description: null,
  enabled: true,
  priority: 100,
  condition: { matchers: [{ label: 'alertname', op: '=', value: 'ServiceDown' }], status: 'firing' },
  action: { type: 'ssh_command', params: { command: 'systemctl restart ${label.service}' } },
  hostLabel: 'instance',
  limits: { ...DEFAULT_POLICY_LIMITS },
  breaker: { ...DEFAULT_POLICY_BREAKER },
  ...extra,
});

export const serviceDown = (instance: string, fingerprint = unique('fp'), startsAt = '2026-12-06T10:00:00.000Z'): PolicyAlert => ({
  status: 'firing',
  labels: { alertname: 'ServiceDown', instance, service: 'nginx' },
  annotations: {},
  fingerprint,
  startsAt,
});

/** Claims a run of `policy` for `alert` at `now`, through matchAlert as the live path does. */
export async function claim(store: Store, tenantId: string, policy: StoredPolicy, alert: PolicyAlert, now: Date) {
  const match = matchAlert(alert, [policy]);
  if (match.kind !== 'act') throw new Error(`the policy does not act on the alert (${match.kind})`);
  return store.policyJobs.claimRun(tenantId, { match, alert, now });
}

export function describePolicyContract(store: () => Store): void {
  const at = (iso: string) => new Date(iso);

  it('keeps policies per tenant: unique names, evaluation order, filters, paging, optimistic versions', async () => {
    const s = store();
    const tenant = await s.tenants.ensure(unique('pol'));
    const other = await s.tenants.ensure(unique('pol-other'));
    const created: StoredPolicy[] = [];
    for (const [i, priority] of [50, 10, 50, 30, 20].entries()) {
      created.push(
        await s.policies.create(
          tenant.id,
          policyInput(`p${i}`, {
            priority,
            enabled: i !== 3,
            ...(i === 4 ? { action: { type: 'notify', params: { message: 'x' } } } : {}),
          }),
        ),
      );
    }
    expect(created[0]).toMatchObject({ name: 'p0', version: 1, tenantId: tenant.id, priority: 50, hostLabel: 'instance' });
    expect(created[0]!.condition).toEqual({ matchers: [{ label: 'alertname', op: '=', value: 'ServiceDown' }], status: 'firing' });
    await expect(s.policies.create(tenant.id, policyInput('p0'))).rejects.toBeInstanceOf(DuplicateKeyError);
    await s.policies.create(other.id, policyInput('p0'));

    const order = (await s.policies.all(tenant.id)).map((p) => p.name);
    expect(order).toEqual(['p1', 'p4', 'p3', 'p0', 'p2']);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await s.policies.list(tenant.id, {}, { limit: 2, cursor });
      paged.push(...page.items.map((p) => p.name));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(order);
    expect((await s.policies.list(tenant.id, { enabled: false }, { limit: 10 })).items.map((p) => p.name)).toEqual(['p3']);
    expect((await s.policies.list(tenant.id, { actionType: 'notify' }, { limit: 10 })).items.map((p) => p.name)).toEqual(['p4']);
    await expect(s.policies.list(tenant.id, {}, { limit: 2, cursor: 'bm9wZQ' })).rejects.toBeInstanceOf(InvalidCursorError);

    const target = created[0]!;
    expect(await s.policies.get(other.id, target.id)).toBeNull();
    expect(await s.policies.get(tenant.id, 'not-a-uuid')).toBeNull();
    const replaced = await s.policies.replace(tenant.id, target.id, policyInput('p0-renamed', { priority: 5 }), 1);
    expect(replaced).toMatchObject({ kind: 'done', policy: { name: 'p0-renamed', priority: 5, version: 2, createdAt: target.createdAt } });
    expect(await s.policies.replace(tenant.id, target.id, policyInput('p0-again'), 1)).toEqual({ kind: 'stale', version: 2 });
    expect(await s.policies.replace(other.id, target.id, policyInput('x'), 2)).toEqual({ kind: 'not_found' });
    await expect(s.policies.replace(tenant.id, target.id, policyInput('p1'), 2)).rejects.toBeInstanceOf(DuplicateKeyError);
    expect(await s.policies.delete(tenant.id, target.id, 1)).toEqual({ kind: 'stale', version: 2 });
    expect(await s.policies.delete(other.id, target.id)).toEqual({ kind: 'not_found' });
    expect(await s.policies.delete(tenant.id, target.id, 2)).toEqual({ kind: 'done', policy: null });
    expect(await s.policies.get(tenant.id, target.id)).toBeNull();
    expect(await s.policies.delete(tenant.id, target.id)).toEqual({ kind: 'not_found' });
  });

  it('claims runs against the limits: host busy, cooldown, hourly; a repeated alert answers its first decision', async () => {
    const s = store();
    const tenant = await s.tenants.ensure(unique('claims'));
    const policy = await s.policies.create(
      tenant.id,
      policyInput('restart', { limits: { ...DEFAULT_POLICY_LIMITS, cooldownSeconds: 300, maxRunsPerHour: 2, maxConcurrent: 5 } }),
    );
    const first = serviceDown('web-01:9100');
    const a = await claim(s, tenant.id, policy, first, at('2026-12-06T10:00:00Z'));
    expect(a).toMatchObject({
      created: true,
      job: {
        status: 'queued',
        policyId: policy.id,
        policyName: 'restart',
        actionType: 'ssh_command',
        host: 'web-01:9100',
        cooldownKey: 'instance=web-01:9100',
        params: { command: 'systemctl restart nginx' },
        labels: first.labels,
        limitReason: null,
        trial: false,
        decidedAt: '2026-12-06T10:00:00.000Z',
      },
    });
    const repeat = await claim(s, tenant.id, policy, first, at('2026-12-06T10:00:05Z'));
    expect(repeat).toMatchObject({ created: false, job: { id: a.job.id, status: 'queued' } });

    const busy = await claim(s, tenant.id, policy, serviceDown('web-01:9100'), at('2026-12-06T10:00:10Z'));
    expect(busy.job).toMatchObject({ status: 'limited', limitReason: 'host_busy' });
    expect((await s.policyJobs.markRunning(tenant.id, a.job.id, 'alert-x', at('2026-12-06T10:00:11Z')))!).toMatchObject({
      status: 'running',
      workflowId: 'alert-x',
      startedAt: '2026-12-06T10:00:11.000Z',
    });
    const done = await s.policyJobs.finishRun(tenant.id, a.job.id, { succeeded: true, detail: 'restarted' }, at('2026-12-06T10:00:20Z'));
    expect(done).toMatchObject({
      job: { status: 'succeeded', detail: 'restarted', finishedAt: '2026-12-06T10:00:20.000Z' },
      breakerOpened: false,
    });
    // Finishing again changes nothing.
    const again = await s.policyJobs.finishRun(tenant.id, a.job.id, { succeeded: false }, at('2026-12-06T10:00:30Z'));
    expect(again).toMatchObject({ job: { status: 'succeeded' }, breaker: null });
    // A line added after the end is kept once, however often it is added; the status stays.
    await s.policyJobs.addDetail(tenant.id, a.job.id, 'incident INC-7 raised');
    expect(await s.policyJobs.addDetail(tenant.id, a.job.id, 'incident INC-7 raised')).toMatchObject({
      status: 'succeeded',
      detail: 'restarted\nincident INC-7 raised',
    });
    expect(await s.policyJobs.addDetail(tenant.id, randomUUID(), 'x')).toBeNull();

    const cooling = await claim(s, tenant.id, policy, serviceDown('web-01:9100'), at('2026-12-06T10:01:00Z'));
    expect(cooling.job).toMatchObject({ status: 'limited', limitReason: 'cooldown' });
    expect(cooling.job.detail).toContain('until 2026-12-06T10:05:00.000Z');
    const other = await claim(s, tenant.id, policy, serviceDown('web-02:9100'), at('2026-12-06T10:01:00Z'));
    expect(other.job.status).toBe('queued');
    const third = await claim(s, tenant.id, policy, serviceDown('web-03:9100'), at('2026-12-06T10:02:00Z'));
    expect(third.job).toMatchObject({ status: 'limited', limitReason: 'hourly' });
    const later = await claim(s, tenant.id, policy, serviceDown('web-03:9100'), at('2026-12-06T11:00:01Z'));
    expect(later.job.status).toBe('queued');
  });

  it('lets exactly one of 20 concurrent claims for one host through', async () => {
    const s = store();
    const tenant = await s.tenants.ensure(unique('race'));
    const policy = await s.policies.create(
      tenant.id,
      policyInput('restart', { limits: { ...DEFAULT_POLICY_LIMITS, cooldownSeconds: 600 } }),
    );
    const now = at('2026-12-06T12:00:00Z');
    const results = await Promise.all(Array.from({ length: 20 }, () => claim(s, tenant.id, policy, serviceDown('db-01'), now)));
    expect(results.filter((r) => r.job.status === 'queued')).toHaveLength(1);
    expect(results.filter((r) => r.job.status === 'limited')).toHaveLength(19);
    expect(new Set(results.map((r) => r.job.id)).size).toBe(20);
    const queued = await s.policyJobs.list(tenant.id, { status: 'queued' }, { limit: 50 });
    expect(queued.items).toHaveLength(1);
  });

  it('opens the breaker after failures in a row, allows one trial after the open period, and closes on success', async () => {
    const s = store();
    const tenant = await s.tenants.ensure(unique('breaker'));
    const policy = await s.policies.create(
      tenant.id,
      policyInput('flaky', { limits: { ...DEFAULT_POLICY_LIMITS, cooldownSeconds: 0 }, breaker: { failureThreshold: 2, openSeconds: 60 } }),
    );
    const run = async (host: string, iso: string, succeeded: boolean) => {
      const { job } = await claim(s, tenant.id, policy, serviceDown(host), at(iso));
      expect(job.status).toBe('queued');
      return s.policyJobs.finishRun(tenant.id, job.id, { succeeded, detail: succeeded ? null : 'exit 1' }, at(iso));
    };
    expect(await run('h1', '2026-12-06T13:00:00Z', false)).toMatchObject({
      breakerOpened: false,
      breaker: { state: 'closed', consecutiveFailures: 1 },
    });
    expect(await run('h1', '2026-12-06T13:00:10Z', false)).toMatchObject({
      job: { status: 'failed', detail: 'exit 1' },
      breakerOpened: true,
      breaker: { state: 'open', consecutiveFailures: 2, openedAt: '2026-12-06T13:00:10.000Z' },
    });
    expect(await s.policyJobs.breaker(tenant.id, policy.id)).toEqual({
      state: 'open',
      consecutiveFailures: 2,
      openedAt: '2026-12-06T13:00:10.000Z',
    });
    const stopped = await claim(s, tenant.id, policy, serviceDown('h2'), at('2026-12-06T13:00:30Z'));
    expect(stopped.job).toMatchObject({ status: 'limited', limitReason: 'breaker_open' });
    const trial = await claim(s, tenant.id, policy, serviceDown('h2'), at('2026-12-06T13:01:11Z'));
    expect(trial.job).toMatchObject({ status: 'queued', trial: true });
    expect((await s.policyJobs.breaker(tenant.id, policy.id)).state).toBe('half_open');
    const during = await claim(s, tenant.id, policy, serviceDown('h3'), at('2026-12-06T13:01:12Z'));
    expect(during.job).toMatchObject({ status: 'limited', limitReason: 'breaker_open' });
    const closed = await s.policyJobs.finishRun(tenant.id, trial.job.id, { succeeded: true }, at('2026-12-06T13:01:20Z'));
    expect(closed).toMatchObject({ breakerOpened: false, breaker: { state: 'closed', consecutiveFailures: 0 } });
    expect((await claim(s, tenant.id, policy, serviceDown('h3'), at('2026-12-06T13:01:30Z'))).job.status).toBe('queued');
  });

  it('records decisions that are not runs, and lists the log newest first with filters and stable cursors, per tenant', async () => {
    const s = store();
    const tenant = await s.tenants.ensure(unique('log'));
    const other = await s.tenants.ensure(unique('log-other'));
    const policy = await s.policies.create(tenant.id, policyInput('restart', { limits: { ...DEFAULT_POLICY_LIMITS, cooldownSeconds: 0 } }));
    const unmatched = await s.policyJobs.record(tenant.id, {
      status: 'unmatched',
      alert: { ...serviceDown('x'), labels: { alertname: 'Other' } },
      policy: null,
      detail: 'no policy matched',
      now: at('2026-12-06T14:00:00Z'),
    });
    expect(unmatched.job).toMatchObject({ status: 'unmatched', policyId: null, host: null, params: null, detail: 'no policy matched' });
    const repeated = await s.policyJobs.record(tenant.id, {
      status: 'unmatched',
      alert: { ...serviceDown('x', unmatched.job.fingerprint), labels: { alertname: 'Other' } },
      policy: null,
      detail: null,
      now: at('2026-12-06T14:00:01Z'),
    });
    expect(repeated).toMatchObject({ created: false, job: { id: unmatched.job.id } });
    for (let i = 0; i < 7; i += 1) {
      await claim(s, tenant.id, policy, serviceDown(`n${i % 3}`), at(`2026-12-06T14:0${i + 1}:00Z`));
    }
    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await s.policyJobs.list(tenant.id, {}, { limit: 3, cursor });
      all.push(...page.items.map((j) => j.decidedAt));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(all).toHaveLength(8);
    expect([...all].sort().reverse()).toEqual(all);
    const onN0 = await s.policyJobs.list(tenant.id, { host: 'n0', policyId: policy.id }, { limit: 10 });
    expect(onN0.items.map((j) => j.status)).toEqual(['limited', 'limited', 'queued']);
    const window = await s.policyJobs.list(tenant.id, { from: '2026-12-06T14:02:00Z', to: '2026-12-06T14:04:00Z' }, { limit: 10 });
    expect(window.items.map((j) => j.decidedAt)).toEqual(['2026-12-06T14:03:00.000Z', '2026-12-06T14:02:00.000Z']);
    expect((await s.policyJobs.list(tenant.id, { status: 'unmatched' }, { limit: 10 })).items).toHaveLength(1);
    expect((await s.policyJobs.list(other.id, {}, { limit: 10 })).items).toEqual([]);
    expect(await s.policyJobs.get(other.id, unmatched.job.id)).toBeNull();
    expect(await s.policyJobs.get(tenant.id, unmatched.job.id)).toMatchObject({ id: unmatched.job.id });
    await expect(s.policyJobs.list(tenant.id, {}, { limit: 3, cursor: 'WyJ4Il0' })).rejects.toBeInstanceOf(InvalidCursorError);
    // The log outlives its policy.
    expect((await s.policies.delete(tenant.id, policy.id)).kind).toBe('done');
    expect((await s.policyJobs.list(tenant.id, { policyId: policy.id }, { limit: 10 })).items).toHaveLength(7);
  });

  it('lists the unfinished jobs of every tenant that have not moved since a time, oldest first', async () => {
    const s = store();
    const tenants = [await s.tenants.ensure(unique('unf')), await s.tenants.ensure(unique('unf'))];
    const ours = new Set(tenants.map((t) => t.id));
    const limits = { ...DEFAULT_POLICY_LIMITS, cooldownSeconds: 0 };
    const ids: string[] = [];
    for (const tenant of tenants) {
      const policy = await s.policies.create(tenant.id, policyInput('restart', { limits }));
      const queued = await claim(s, tenant.id, policy, serviceDown('a:9100'), at('2026-12-06T10:00:00Z'));
      const running = await claim(s, tenant.id, policy, serviceDown('b:9100'), at('2026-12-06T10:00:01Z'));
      await s.policyJobs.markRunning(tenant.id, running.job.id, 'alert-b', at('2026-12-06T10:00:02Z'));
      const done = await claim(s, tenant.id, policy, serviceDown('c:9100'), at('2026-12-06T10:00:03Z'));
      await s.policyJobs.finishRun(tenant.id, done.job.id, { succeeded: true }, at('2026-12-06T10:00:04Z'));
      const busy = await claim(s, tenant.id, policy, serviceDown('a:9100'), at('2026-12-06T10:00:05Z'));
      expect(busy.job.status).toBe('limited');
      ids.push(queued.job.id, running.job.id);
    }
    const later = (await s.policyJobs.unfinished(new Date(Date.now() + 60_000), 10_000)).filter((job) => ours.has(job.tenantId));
    expect(new Set(later.map((job) => job.id))).toEqual(new Set(ids));
    expect(later.map((job) => job.status).sort()).toEqual(['queued', 'queued', 'running', 'running']);
    const stamps = later.map((job) => job.updatedAt);
    expect(stamps).toEqual([...stamps].sort());
    // Nothing of ours has been still for a minute.
    const earlier = await s.policyJobs.unfinished(new Date(Date.now() - 60_000), 10_000);
    expect(earlier.filter((job) => ours.has(job.tenantId))).toEqual([]);
    expect((await s.policyJobs.unfinished(new Date(Date.now() + 60_000), 1)).length).toBe(1);
  });

  it('records alert notifications and lists a window of them oldest first', async () => {
    const s = store();
    const tenant = await s.tenants.ensure(unique('alerts'));
    await s.alertEvents.append(tenant.id, 'alertmanager', at('2026-12-06T15:00:02Z'), [serviceDown('a', 'f2')]);
    const first = await s.alertEvents.append(tenant.id, 'alertmanager', at('2026-12-06T15:00:01Z'), [
      serviceDown('a', 'f1'),
      { ...serviceDown('b', 'f1b'), status: 'resolved', annotations: { summary: 'ok' } },
    ]);
    expect(first.map((e) => e.alert.fingerprint)).toEqual(['f1', 'f1b']);
    await s.alertEvents.append(tenant.id, 'alertmanager', at('2026-12-06T15:00:03Z'), [serviceDown('a', 'f3')]);
    const window = await s.alertEvents.listWindow(tenant.id, { from: '2026-12-06T15:00:00Z', to: '2026-12-06T15:00:03Z' }, 100);
    expect(window.map((e) => e.alert.fingerprint)).toEqual(['f1', 'f1b', 'f2']);
    expect(window[1]).toMatchObject({
      source: 'alertmanager',
      receivedAt: '2026-12-06T15:00:01.000Z',
      alert: { status: 'resolved', annotations: { summary: 'ok' }, startsAt: '2026-12-06T10:00:00.000Z' },
    });
    expect(await s.alertEvents.listWindow(tenant.id, { from: '2026-12-06T15:00:00Z', to: '2026-12-06T16:00:00Z' }, 2)).toHaveLength(2);
  });
}
