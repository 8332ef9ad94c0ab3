import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError, type Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { KubernetesForbiddenError, type KubernetesActions } from '../../adapters/kubernetes/port.js';
import type { AlertNotice, Notifier } from '../../adapters/notify/port.js';
import { createStore } from '../../adapters/store/create.js';
import type { PolicyInput, PolicyJob, Store, Tenant } from '../../adapters/store/port.js';
import {
  ALERT_WORKFLOW_TYPE,
  alertApprovalUpdate,
  alertResolvedSignal,
  alertStateQuery,
  alertWorkflowId,
  type AlertRunProjectionState,
  type AlertRunState,
  type AlertRunStatus,
  type AlertSettings,
  type HandleAlertInput,
} from '../../core/contracts/alerts.js';
import { SEARCH_ATTRIBUTES } from '../../core/contracts/incident.js';
import { DEFAULT_POLICY_BREAKER, DEFAULT_POLICY_LIMITS, type PolicyAlert } from '../../core/policies/model.js';
import { createInfraWorker } from '../../worker.js';
import { addAutomationHost, FakeAnsibleRunner, fakeToolkit, fakeVault } from '../support/automation-fakes.js';
import { FakeHostAccess } from '../support/fake-host.js';
import { ALERT_WORKFLOW_REVISION, saveHistoryFixture } from '../support/histories.js';
import { waitFor } from '../support/stack.js';
import { connectTestClient, connectTestWorker, testTemporal, testWorkflowBundlePath, uniqueTaskQueue } from '../support/temporal.js';

// Workflow tier: the real alert workflow and activities on the test run's Temporal dev server with
// a real (PGlite) store; what is external is fake: the hosts (scripted SSH), the Kubernetes actions,
// the notifiers and the Ansible runner. Each test has its own tenant, so policies never meet.

let dataDir: string;
let store: Store;
let client: Client;
let clientConnection: Connection;
let workerConnection: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
const hosts = new FakeHostAccess();
const runner = new FakeAnsibleRunner();
const taskQueue = uniqueTaskQueue('wf-alert');

const podCalls: string[] = [];
const kubernetesActions: KubernetesActions = {
  async restartPod(namespace, pod) {
    podCalls.push(`${namespace}/${pod}`);
    if (pod.startsWith('locked')) throw new KubernetesForbiddenError(`pods "${pod}" is forbidden: RBAC says no`, 403);
    return { namespace, pod, uid: 'uid-1', owner: { kind: 'ReplicaSet', name: `${pod}-rs` } };
  },
  async scaleDeployment(namespace, deployment, replicas) {
    return { namespace, deployment, previousReplicas: 2, replicas };
  },
  async rolloutRestartDeployment(namespace, deployment) {
    return { namespace, deployment, restartedAt: new Date().toISOString() };
  },
};
const notices: AlertNotice[] = [];
const pager: Notifier = {
  name: 'pager',
  notify: async () => ({ delivered: false, detail: 'not used' }),
  notifyAlert: async (notice) => {
    notices.push(notice);
    return { delivered: true, detail: `paged for ${notice.key}` };
  },
};

/** Short waits: approval 20 s unless a test shortens it, resolution 30 s, verification 3 s. */
const FAST: AlertSettings = {
  remediation: { approvalTimeoutMs: 20_000, autoApproveLowRisk: true },
  resolveWaitMs: 30_000,
  escalateUnmatched: false,
  verifyTimeoutMs: 3_000,
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'infraai-wf-alert-'));
  store = await createStore({ kind: 'pglite', dataDir });
  ({ client, connection: clientConnection } = await connectTestClient());
  workerConnection = await connectTestWorker();
  worker = await createInfraWorker({
    connection: workerConnection,
    namespace: testTemporal().namespace,
    taskQueue,
    store,
    hostAccess: hosts,
    kubernetesActions,
    notifiers: [pager],
    // Every test has a tenant of its own.
    notifyTenants: '*',
    vault: fakeVault(),
    automation: fakeToolkit(runner),
    hostLeaseTtlMs: 3000,
    workflowBundlePath: testWorkflowBundlePath(),
  });
  workerRun = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await workerConnection?.close();
  await clientConnection?.close();
  await store?.close();
  await rm(dataDir, { recursive: true, force: true });
});

let counter = 0;

/** A tenant of its own with one CMDB host at a fresh address; its tagId is also the alert's instance. */
async function world(): Promise<{ tenant: Tenant; tagId: string; address: string }> {
  counter += 1;
  const tenant = await store.tenants.ensure(`wf-alert-${counter}-${randomUUID().slice(0, 4)}`);
  const tagId = `web-${counter}`;
  const address = `10.98.${Math.floor(counter / 200)}.${counter % 200}`;
  await addAutomationHost(store, tenant.id, tagId, address);
  return { tenant, tagId, address };
}

function policy(name: string, action: PolicyInput['action'], extra: Partial<PolicyInput> = {}): PolicyInput {
  return {
    name,
    description: null,
    enabled: true,
    priority: 100,
    condition: { matchers: [{ label: 'alertname', op: '=', value: 'ServiceDown' }], status: 'firing' },
    action,
    hostLabel: 'instance',
    limits: { ...DEFAULT_POLICY_LIMITS, cooldownSeconds: 0 },
    breaker: DEFAULT_POLICY_BREAKER,
    ...extra,
  };
}

function alert(instance: string, labels: Record<string, string> = {}): PolicyAlert {
  counter += 1;
  return {
    status: 'firing',
    labels: { alertname: 'ServiceDown', instance, severity: 'critical', ...labels },
    annotations: { summary: `web is down on ${instance}` },
    fingerprint: randomUUID().replace(/-/g, '').slice(0, 16),
    startsAt: new Date(Date.UTC(2026, 11, 6, 10, 0, counter)).toISOString(),
  };
}

async function start(tenant: Tenant, firing: PolicyAlert, settings: Partial<AlertSettings> = {}): Promise<WorkflowHandle> {
  const input: HandleAlertInput = {
    tenantId: tenant.id,
    tenantSlug: tenant.slug,
    alert: firing,
    source: 'alertmanager',
    receivedAt: new Date().toISOString(),
    settings: { ...FAST, ...settings },
  };
  return client.workflow.start(ALERT_WORKFLOW_TYPE, {
    workflowId: alertWorkflowId(firing),
    taskQueue,
    args: [input],
    typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.tenant, value: tenant.slug }],
  });
}

const stateOf = (handle: WorkflowHandle) => handle.query(alertStateQuery);
const waitForStatus = (handle: WorkflowHandle, status: AlertRunStatus) =>
  waitFor(async () => (await stateOf(handle)).status === status, `status ${status}`);
/**
 * The run's end; when recording histories (`npm run fixtures:histories`), its history is kept as a
 * replay fixture named by how it ended and its action (the first run of each kind).
 */
const resultOf = async (handle: WorkflowHandle) => {
  const state = (await handle.result()) as AlertRunState;
  await record(handle.workflowId, `${state.status}${state.action ? `-${state.action.type}` : ''}`);
  return state;
};
const record = (workflowId: string, scenario: string) =>
  saveHistoryFixture(client, workflowId, scenario, { family: 'alert', revision: ALERT_WORKFLOW_REVISION });
const jobOf = async (tenant: Tenant, state: AlertRunState): Promise<PolicyJob> => (await store.policyJobs.get(tenant.id, state.jobId!))!;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A systemd service on the fake host: restart brings it up (unless it is broken), is-active says so. */
function service(address: string, name: string, { broken = false } = {}): void {
  const host = hosts.host(address);
  host.flags.set(name, false);
  host.on(`systemctl restart ${name}`, { effect: (h) => h.flags.set(name, !broken) });
  host.on(`systemctl is-active ${name}`, (h) => ({ exitCode: h.flag(name) ? 0 : 3, stdout: h.flag(name) ? 'active' : 'inactive' }));
}

describe('handleAlert', () => {
  it('acts: restarts the service under the host lease, verifies it, finishes the job, then closes resolved on the signal', async () => {
    const { tenant, tagId, address } = await world();
    service(address, 'web');
    const restart = await store.policies.create(
      tenant.id,
      policy('restart web', { type: 'ssh_command', params: { command: 'systemctl restart web', verify: 'systemctl is-active web' } }),
    );
    const handle = await start(tenant, alert(`${tagId}:9100`));
    await waitForStatus(handle, 'awaiting_resolution');
    const waiting = await stateOf(handle);
    // The job ended as soon as the action and its verification did, before the alert resolved.
    const job = await jobOf(tenant, waiting);
    expect(job).toMatchObject({ status: 'succeeded', policyId: restart.id, workflowId: handle.workflowId, host: `${tagId}:9100` });
    expect(job.detail).toMatch(
      /ran 'systemctl restart web' on web-\d+\.lab\.internal \(exit 0, allowed by policy:auto-low-risk\); 'systemctl is-active web' passed after 1 attempt/,
    );
    expect(waiting.approval).toMatchObject({ decision: 'not_required', risk: 'low', by: 'policy:auto-low-risk' });
    expect(waiting.commands.map((c) => [c.phase, c.command, c.exitCode])).toEqual([
      ['fix', 'systemctl restart web', 0],
      ['verification', 'systemctl is-active web', 0],
    ]);
    expect(waiting.steps.map((s) => s.name)).toEqual([
      'decideAlert',
      'markAlertJobRunning',
      'prepareAlertCommand',
      'acquireHostLease',
      'runAlertCommand',
      'verifyAlertCommand',
      'releaseHostLease',
      'finishAlertJob',
    ]);
    expect(await store.leases.list(tenant.id)).toEqual([]);

    await handle.signal(alertResolvedSignal, { endsAt: '2026-12-06T10:05:00Z' });
    const state = await resultOf(handle);
    expect(state).toMatchObject({ status: 'resolved', resolvedAt: '2026-12-06T10:05:00Z', outcome: { succeeded: true } });
    const projection = await store.runs.get(tenant.id, 'alert', handle.workflowId);
    expect(projection).toMatchObject({ status: 'resolved', ended: true, workflowId: handle.workflowId });
    expect((projection!.state as unknown as AlertRunProjectionState).run.jobId).toBe(state.jobId);
    const events = await store.runs.eventsOfRun(tenant.id, 'alert', handle.workflowId, 0, 200);
    expect(events.at(-1)?.type).toBe('run.ended');
    expect(events.filter((e) => e.type === 'status.changed').map((e) => e.data.status)).toEqual([
      'waiting_for_host',
      'acting',
      'verifying',
      'awaiting_resolution',
      'resolved',
    ]);
  });

  it('closes unresolved when no resolved notification comes, and fails the job when verification never passes', async () => {
    const { tenant, tagId, address } = await world();
    service(address, 'web', { broken: true });
    await store.policies.create(
      tenant.id,
      policy('restart web', { type: 'ssh_command', params: { command: 'systemctl restart web', verify: 'systemctl is-active web' } }),
    );
    const broken = await resultOf(await start(tenant, alert(tagId)));
    expect(broken.status).toBe('failed');
    const job = await jobOf(tenant, broken);
    expect(job.status).toBe('failed');
    expect(job.detail).toMatch(/verification failed after \d+ attempts: 'systemctl is-active web' exited 3 \(inactive\)/);

    hosts.host(address).flags.set('web', true);
    await store.policies.create(
      tenant.id,
      policy('look', { type: 'ssh_command', params: { command: 'systemctl is-active web' } }, { priority: 1 }),
    );
    const state = await resultOf(await start(tenant, alert(tagId), { resolveWaitMs: 1500 }));
    // Read-only: no approval, no lease.
    expect(state).toMatchObject({ status: 'unresolved', approval: { decision: 'not_required', by: 'policy:read-only' } });
    expect(state.steps.map((s) => s.name)).not.toContain('acquireHostLease');
  });

  it('never runs a command the command policy refuses; the job fails with the reason', async () => {
    const { tenant, tagId, address } = await world();
    await store.policies.create(tenant.id, policy('wipe', { type: 'ssh_command', params: { command: 'rm -rf /' } }));
    const state = await resultOf(await start(tenant, alert(tagId)));
    expect(state.status).toBe('failed');
    expect((await jobOf(tenant, state)).detail).toMatch(
      /^refused by the command policy: 'rm -rf \/' is forbidden \(rm -r removes \/.*nothing was run$/,
    );
    expect(hosts.host(address).commands()).toEqual([]);
  });

  it('waits for approval of a risky command: the wrong hash is refused, approve runs it, reject and timeout never do', async () => {
    const { tenant, tagId, address } = await world();
    const command = 'touch /opt/app/restart.txt';
    hosts.host(address).on(command, { exitCode: 0 });
    await store.policies.create(tenant.id, policy('touch', { type: 'ssh_command', params: { command } }));

    const approved = await start(tenant, alert(tagId));
    await waitForStatus(approved, 'awaiting_approval');
    const waiting = await stateOf(approved);
    expect(waiting.approval).toMatchObject({ decision: 'pending', risk: 'high', commandHash: sha256(command) });
    expect((await jobOf(tenant, waiting)).status).toBe('running');
    const stale = await approved
      .executeUpdate(alertApprovalUpdate, { args: [{ decision: 'approve', commandHash: sha256('rm -rf /'), by: 'tester' }] })
      .catch((err: unknown) => err);
    expect(stale).toBeInstanceOf(WorkflowUpdateFailedError);
    await approved.executeUpdate(alertApprovalUpdate, { args: [{ decision: 'approve', commandHash: sha256(command), by: 'alice' }] });
    await waitForStatus(approved, 'awaiting_resolution');
    expect((await jobOf(tenant, waiting)).detail).toContain('allowed by approval:alice');
    expect(hosts.host(address).commands(command)).toHaveLength(1);
    await approved.cancel();

    const rejected = await start(tenant, alert(tagId));
    await waitForStatus(rejected, 'awaiting_approval');
    await rejected.executeUpdate(alertApprovalUpdate, {
      args: [{ decision: 'reject', commandHash: sha256(command), by: 'bob', comment: 'not now' }],
    });
    const rejectedState = await resultOf(rejected);
    expect(rejectedState.status).toBe('failed');
    expect((await jobOf(tenant, rejectedState)).detail).toBe('rejected by bob: not now; nothing was run');
    await record(rejected.workflowId, 'approval-rejected');

    const timedOut = await resultOf(
      await start(tenant, alert(tagId), { remediation: { approvalTimeoutMs: 1500, autoApproveLowRisk: true } }),
    );
    expect(timedOut.approval?.decision).toBe('timed_out');
    expect((await jobOf(tenant, timedOut)).detail).toMatch(/^approval timed out/);
    await record(timedOut.workflowId, 'approval-timed-out');
    expect(hosts.host(address).commands(command)).toHaveLength(1);

    // A low-risk change waits too when the remediation settings do not auto-approve; cancelled, its job is failed.
    await store.policies.create(
      tenant.id,
      policy('restart', { type: 'ssh_command', params: { command: 'systemctl restart web' } }, { priority: 1 }),
    );
    const strict = await start(tenant, alert(tagId), { remediation: { approvalTimeoutMs: 20_000, autoApproveLowRisk: false } });
    await waitForStatus(strict, 'awaiting_approval');
    const strictState = await stateOf(strict);
    expect(strictState.approval).toMatchObject({ decision: 'pending', risk: 'low' });
    await strict.cancel();
    await expect(strict.result()).rejects.toThrow();
    expect(await jobOf(tenant, strictState)).toMatchObject({ status: 'failed', detail: 'cancelled before the action ended' });
  });

  it('stops without acting when the alert resolves while it waits for approval or for the host lease', async () => {
    const { tenant, tagId, address } = await world();
    const command = 'touch /opt/app/restart.txt';
    await store.policies.create(tenant.id, policy('touch', { type: 'ssh_command', params: { command } }));
    const handle = await start(tenant, alert(tagId));
    await waitForStatus(handle, 'awaiting_approval');
    await handle.signal(alertResolvedSignal, { endsAt: '2026-12-06T10:01:00Z' });
    const state = await resultOf(handle);
    expect(state).toMatchObject({ status: 'resolved_before_action', approval: { decision: 'withdrawn' } });
    const job = await jobOf(tenant, state);
    // Finished, and not a failure: the breaker does not count it.
    expect(job).toMatchObject({ status: 'succeeded', detail: 'the alert resolved while the command waited for approval: nothing was run' });
    expect((await store.policyJobs.breaker(tenant.id, job.policyId!)).consecutiveFailures).toBe(0);

    await store.policies.create(
      tenant.id,
      policy('restart', { type: 'ssh_command', params: { command: 'systemctl restart web' } }, { priority: 1 }),
    );
    await store.leases.acquire({ tenantId: tenant.id, host: address, holder: 'incident-someone-else', ttlMs: 60_000, maxPerTenant: 10 });
    const blocked = await start(tenant, alert(tagId));
    await waitForStatus(blocked, 'waiting_for_host');
    await blocked.signal(alertResolvedSignal, { endsAt: '2026-12-06T10:02:00Z' });
    const blockedState = await resultOf(blocked);
    await record(blocked.workflowId, 'resolved-while-waiting-for-the-host');
    expect(blockedState.status).toBe('resolved_before_action');
    expect((await jobOf(tenant, blockedState)).detail).toMatch(/resolved while the run waited for .*lease: nothing was run/);
    expect(hosts.host(address).commands()).toEqual([]);
    expect(await store.leases.list(tenant.id)).toEqual([expect.objectContaining({ holder: 'incident-someone-else' })]);
  });

  it('records limited (cooldown), unusable and unmatched decisions without acting', async () => {
    const { tenant, tagId, address } = await world();
    service(address, 'web');
    await store.policies.create(
      tenant.id,
      policy(
        'restart',
        { type: 'ssh_command', params: { command: 'systemctl restart ${label.service}' } },
        {
          limits: { ...DEFAULT_POLICY_LIMITS, cooldownSeconds: 600 },
        },
      ),
    );
    const first = await start(tenant, alert(tagId, { service: 'web' }));
    await waitForStatus(first, 'awaiting_resolution');
    const cooling = await resultOf(await start(tenant, alert(tagId, { service: 'web' })));
    expect(cooling.status).toBe('limited');
    expect(await jobOf(tenant, cooling)).toMatchObject({ status: 'limited', limitReason: 'cooldown' });
    await first.cancel();

    const unusable = await resultOf(await start(tenant, alert('web-other', { service: 'web; reboot' })));
    expect(unusable.status).toBe('unusable');
    expect(await jobOf(tenant, unusable)).toMatchObject({ status: 'unusable', workflowId: alertWorkflowId(unusable.alert) });

    const unmatched = await resultOf(await start(tenant, alert(tagId, { alertname: 'DiskFull' })));
    expect(unmatched.status).toBe('unmatched');
    expect(await jobOf(tenant, unmatched)).toMatchObject({ status: 'unmatched', policyId: null, detail: 'no enabled policy matched' });
  });

  it('escalates an unmatched alert to an incident when configured and the host is in the CMDB', async () => {
    const { tenant, tagId } = await world();
    const state = await resultOf(await start(tenant, alert(`${tagId}:9100`, { alertname: 'DiskFull' }), { escalateUnmatched: true }));
    expect(state.status).toBe('escalated');
    expect(state.incidents).toHaveLength(1);
    const [raised] = state.incidents;
    const incident = await store.incidents.get(tenant.id, raised!.incidentId);
    expect(incident).toMatchObject({ tagId, source: 'alert', severity: 'critical' });
    expect(await jobOf(tenant, state)).toMatchObject({ status: 'escalated' });
    expect((await jobOf(tenant, state)).detail).toContain(`incident INC-${incident!.number} raised for ${tagId}`);
    const described = await client.workflow.getHandle(raised!.workflowId).describe();
    expect(described.type).toBe('remediateIncident');

    const nowhere = await resultOf(await start(tenant, alert('not-in-cmdb', { alertname: 'DiskFull' }), { escalateUnmatched: true }));
    expect(nowhere.status).toBe('unmatched');
    expect((await jobOf(tenant, nowhere)).detail).toMatch(/not escalated: no instance\/host\/hostname\/node label names a CMDB item/);
  });

  it('opens the breaker after failures in a row and raises one incident for it; then the breaker stops the policy', async () => {
    const { tenant, tagId, address } = await world();
    hosts.host(address).on('systemctl restart web', { exitCode: 1, stderr: 'Job for web.service failed' });
    await store.policies.create(
      tenant.id,
      policy(
        'restart',
        { type: 'ssh_command', params: { command: 'systemctl restart web' } },
        { breaker: { failureThreshold: 2, openSeconds: 3600 } },
      ),
    );
    const first = await resultOf(await start(tenant, alert(tagId)));
    expect(first).toMatchObject({ status: 'failed', incidents: [] });
    const second = await resultOf(await start(tenant, alert(tagId)));
    expect(second.status).toBe('failed');
    expect(second.incidents).toEqual([expect.objectContaining({ why: 'breaker_opened' })]);
    const job = await jobOf(tenant, second);
    expect(job.detail).toMatch(/exited 1 \(Job for web.service failed\)[\s\S]*\nbreaker opened: incident INC-\d+ raised for web-\d+/);
    await record(second.workflowId, 'breaker-opened-incident');
    const third = await resultOf(await start(tenant, alert(tagId)));
    expect(await jobOf(tenant, third)).toMatchObject({ status: 'limited', limitReason: 'breaker_open' });
    const incidents = await store.incidents.list(tenant.id, {}, { limit: 10 });
    expect(incidents.items.map((i) => [i.source, i.tagId])).toEqual([['policy', tagId]]);
  });

  it('sends a breaker that opens for a host outside the CMDB to the notifiers and says so in the job', async () => {
    const { tenant } = await world();
    await store.policies.create(
      tenant.id,
      policy(
        'restart pod',
        { type: 'restart_pod', params: { namespace: 'web', pod: '${label.pod}' } },
        {
          breaker: { failureThreshold: 1, openSeconds: 3600 },
        },
      ),
    );
    const state = await resultOf(await start(tenant, alert('pod-host-1', { pod: 'locked-1' })));
    expect(state.status).toBe('failed');
    const job = await jobOf(tenant, state);
    expect(job.detail).toMatch(
      /^pods "locked-1" is forbidden: RBAC says no\nbreaker opened; no incident raised \(host 'pod-host-1' is not in the CMDB\): sent to the notifiers/,
    );
    expect(notices.filter((n) => n.key === `policy-job:${job.id}:breaker`)).toHaveLength(1);
    expect((await store.incidents.list(tenant.id, {}, { limit: 10 })).items).toEqual([]);
  });

  it('runs restart_pod, scale_deployment and notify through their adapters; an unconfigured one fails clearly', async () => {
    const { tenant } = await world();
    await store.policies.create(tenant.id, policy('pod', { type: 'restart_pod', params: { namespace: 'web', pod: '${label.pod}' } }));
    const pod = await start(tenant, alert('node-1', { pod: 'web-5d8' }));
    await waitForStatus(pod, 'awaiting_resolution');
    expect((await jobOf(tenant, await stateOf(pod))).detail).toBe(
      'deleted pod web/web-5d8 (uid uid-1); ReplicaSet web-5d8-rs recreates it',
    );
    await pod.signal(alertResolvedSignal, { endsAt: '2026-12-06T10:09:00Z' });
    expect((await resultOf(pod)).status).toBe('resolved');

    await store.policies.create(
      tenant.id,
      policy(
        'scale',
        { type: 'scale_deployment', params: { namespace: 'web', deployment: 'api', replicas: 4 } },
        {
          priority: 1,
          condition: { matchers: [{ label: 'alertname', op: '=', value: 'Saturated' }], status: 'firing' },
        },
      ),
    );
    const scale = await start(tenant, alert('node-2', { alertname: 'Saturated' }), { resolveWaitMs: 500 });
    expect((await jobOf(tenant, await resultOf(scale))).detail).toBe('scaled deployment web/api from 2 to 4');

    await store.policies.create(
      tenant.id,
      policy(
        'page',
        { type: 'notify', params: { message: '${annotation.summary}' } },
        {
          priority: 1,
          condition: { matchers: [{ label: 'alertname', op: '=', value: 'Page' }], status: 'firing' },
        },
      ),
    );
    const paged = await resultOf(await start(tenant, alert('node-3', { alertname: 'Page' }), { resolveWaitMs: 500 }));
    const pagedJob = await jobOf(tenant, paged);
    expect(pagedJob).toMatchObject({ status: 'succeeded', detail: `pager: paged for policy-job:${pagedJob.id}` });
    expect(notices.find((n) => n.key === `policy-job:${pagedJob.id}`)).toMatchObject({
      summary: 'web is down on node-3',
      severity: 'critical',
    });

    await store.policies.create(
      tenant.id,
      policy(
        'vm',
        { type: 'restart_vm', params: { vm: '${label.instance}' } },
        {
          priority: 1,
          condition: { matchers: [{ label: 'alertname', op: '=', value: 'VmHung' }], status: 'firing' },
        },
      ),
    );
    const vm = await resultOf(await start(tenant, alert('vm-1', { alertname: 'VmHung' })));
    expect(vm.status).toBe('failed');
    expect((await jobOf(tenant, vm)).detail).toBe('vSphere (INFRAAI_VSPHERE_URL) is not configured on this worker');
  });

  it('finishes the job even when the run is cancelled mid-action, and releases the host', async () => {
    const { tenant, tagId, address } = await world();
    hosts.host(address).on('systemctl restart slow', { delayMs: 12_000 });
    await store.policies.create(tenant.id, policy('slow', { type: 'ssh_command', params: { command: 'systemctl restart slow' } }));
    const handle = await start(tenant, alert(tagId));
    await waitForStatus(handle, 'acting');
    await waitFor(() => hosts.host(address).commands('systemctl restart slow').length > 0, 'the command to start');
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    const jobs = await store.policyJobs.list(tenant.id, {}, { limit: 5 });
    expect(jobs.items[0]).toMatchObject({ status: 'failed', detail: 'cancelled before the action ended' });
    await record(handle.workflowId, 'cancelled-mid-action');
    expect(await store.leases.list(tenant.id)).toEqual([]);
  });

  it(
    'hands run_playbook to an automation run and remediate_incident to an incident run, judged by how they end',
    { timeout: 120_000 },
    async () => {
      const { tenant, tagId } = await world();
      await store.policies.create(
        tenant.id,
        policy('playbook', { type: 'run_playbook', params: { request: 'install nginx', checkMode: true } }),
      );
      const played = await resultOf(await start(tenant, alert(tagId), { resolveWaitMs: 500 }));
      expect(played.child).toMatchObject({ workflowId: expect.stringMatching(/^automation-/), status: 'succeeded' });
      const playedJob = await jobOf(tenant, played);
      expect(playedJob).toMatchObject({ status: 'succeeded' });
      expect(playedJob.detail).toMatch(/^automation run #\d+ \(automation-[0-9a-f-]+\) on web-\d+\.lab\.internal ended succeeded$/);

      await store.policies.create(
        tenant.id,
        policy('incident', { type: 'remediate_incident', params: { title: 'web down on ${label.instance}' } }, { priority: 1 }),
      );
      const remediated = await resultOf(await start(tenant, alert(tagId), { resolveWaitMs: 500 }));
      expect(remediated.child?.workflowId).toMatch(/^incident-/);
      const incident = await store.incidents.get(tenant.id, remediated.incidents[0]!.incidentId);
      expect(incident).toMatchObject({ title: `web down on ${tagId}`, source: 'policy' });
      // The fake host answers no diagnostic: the incident run escalates, so the action failed.
      expect(remediated).toMatchObject({ status: 'failed', child: { status: 'escalated' } });
      expect((await jobOf(tenant, remediated)).detail).toMatch(/^incident INC-\d+ \(incident-[0-9a-f-]+\) ended escalated: /);
    },
  );
});
