import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, WorkflowUpdateFailedError, type Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createStore } from '../../adapters/store/create.js';
import type { Store, Tenant } from '../../adapters/store/port.js';
import {
  AUTOMATION_WORKFLOW_TYPE,
  automationApprovalUpdate,
  automationStateQuery,
  automationWorkflowId,
  type AutomationRunProjectionState,
  type AutomationSettings,
  type AutomationWorkflowState,
  type RunAutomationInput,
} from '../../core/contracts/automation.js';
import { SEARCH_ATTRIBUTES } from '../../core/contracts/incident.js';
import { createInfraWorker } from '../../worker.js';
import { addAutomationHost, FakeAnsibleRunner, fakeToolkit, fakeVault } from '../support/automation-fakes.js';
import { AUTOMATION_WORKFLOW_REVISION, saveHistoryFixture } from '../support/histories.js';
import { waitFor } from '../support/stack.js';
import { connectTestClient, connectTestWorker, testTemporal, testWorkflowBundlePath, uniqueTaskQueue } from '../support/temporal.js';

// Workflow tier: the real automation workflow and activities on the test run's Temporal dev server
// with a real (PGlite) store; the toolkit (generator, validators, runner) and the vault are fakes.

let dataDir: string;
let store: Store;
let client: Client;
let clientConnection: Connection;
let workerConnection: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
let tenant: Tenant;
const runner = new FakeAnsibleRunner();
const taskQueue = uniqueTaskQueue('wf-automation');
const FAST: AutomationSettings = { approvalTimeoutMs: 60_000, runTimeoutMs: 60_000 };

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'infraai-wf-automation-'));
  store = await createStore({ kind: 'pglite', dataDir });
  tenant = await store.tenants.ensure('wf-automation');
  ({ client, connection: clientConnection } = await connectTestClient());
  workerConnection = await connectTestWorker();
  worker = await createInfraWorker({
    connection: workerConnection,
    namespace: testTemporal().namespace,
    taskQueue,
    store,
    vault: fakeVault(),
    automation: fakeToolkit(runner),
    // Renewal every second: a run of a few seconds renews its leases.
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

let hostCounter = 0;
async function host(extra: { sshUser?: string | null; sshCredential?: string | null } = {}): Promise<{ tagId: string; address: string }> {
  hostCounter += 1;
  const tagId = `auto-${hostCounter}-${randomUUID().slice(0, 4)}`;
  const address = `10.99.${Math.floor(hostCounter / 200)}.${hostCounter % 200}`;
  await addAutomationHost(store, tenant.id, tagId, address, extra);
  return { tagId, address };
}

async function start(
  request: string,
  targets: string[],
  { checkMode = false, settings = FAST, queue = taskQueue }: { checkMode?: boolean; settings?: AutomationSettings; queue?: string } = {},
): Promise<{ runId: string; workflowId: string; handle: WorkflowHandle }> {
  const { run } = await store.automation.create(tenant.id, { id: randomUUID(), request, targets, checkMode, createdBy: 'wf-test' });
  const input: RunAutomationInput = {
    tenantId: tenant.id,
    tenantSlug: tenant.slug,
    runId: run.id,
    runNumber: run.number,
    request,
    targets,
    checkMode,
    settings,
  };
  const handle = await client.workflow.start(AUTOMATION_WORKFLOW_TYPE, {
    workflowId: automationWorkflowId(run.id),
    taskQueue: queue,
    args: [input],
    typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.tenant, value: tenant.slug }],
  });
  return { runId: run.id, workflowId: handle.workflowId, handle };
}

const stateOf = (handle: WorkflowHandle) => handle.query(automationStateQuery);
const waitForStatus = (handle: WorkflowHandle, status: AutomationWorkflowState['status']) =>
  waitFor(async () => (await stateOf(handle)).status === status, `status ${status}`);
const record = (workflowId: string, scenario: string) =>
  saveHistoryFixture(client, workflowId, scenario, { family: 'automation', revision: AUTOMATION_WORKFLOW_REVISION });

describe('runAutomation', () => {
  it('runs check mode without approval, stores the log and the recap, and ends with run.ended in the projection', async () => {
    const web = await host();
    const { runId, workflowId, handle } = await start('install nginx', [web.tagId], { checkMode: true });
    const state = (await handle.result()) as AutomationWorkflowState;
    expect(state.status).toBe('succeeded');
    expect(state.approval).toMatchObject({ decision: 'not_required', artifactsHash: state.artifactsHash });
    expect(state.outcome).toMatchObject({ runnerStatus: 'successful', logLines: 120, recap: { [web.tagId]: { changed: 0 } } });
    expect(state.outcome!.logTail).toContain('event 120');
    const [call] = runner.callsOf(workflowId);
    expect(call!.input).toMatchObject({ runKey: workflowId, checkMode: true, keys: { 'ops-key': '-----KEY ops-key-----' } });
    expect(call!.input.knownHosts).toBe(`${web.address} ssh-ed25519 ${Buffer.from(`key-of-${web.tagId}`).toString('base64')}\n`);

    const row = await store.automation.get(tenant.id, runId);
    expect(row).toMatchObject({ status: 'succeeded', logLines: 120, artifactsHash: state.artifactsHash, findings: [] });
    expect(row!.finishedAt).not.toBeNull();
    expect((await store.automation.readLog(tenant.id, runId, 118, 10)).lines.map((l) => l.n)).toEqual([119, 120]);
    // The stored log is redacted: neither the printed password nor the run's private key is kept.
    const [first] = (await store.automation.readLog(tenant.id, runId, 0, 1)).lines;
    expect(first!.text).toMatch(/^event 1: password=\S*REDACTED/);
    expect(first!.text).not.toMatch(/hunter2|-----KEY/);
    const projection = await store.runs.get(tenant.id, 'automation', runId);
    expect(projection).toMatchObject({ status: 'succeeded', ended: true });
    expect((projection!.state as unknown as AutomationRunProjectionState).workflow.status).toBe('COMPLETED');
    const events = await store.runs.eventsOfRun(tenant.id, 'automation', runId, 0, 500);
    expect(events.at(-1)?.type).toBe('run.ended');
    expect(events.filter((e) => e.type === 'status.changed').map((e) => e.data.status)).toEqual([
      'generating',
      'validating',
      'waiting_for_hosts',
      'running',
      'succeeded',
    ]);
    expect(runner.cleaned).toContain(workflowId);
    expect(await store.leases.list(tenant.id)).toEqual([]);
    await record(workflowId, 'check-mode-succeeded');
  });

  it('waits for approval of the artifacts hash: a stale hash is refused, the right one runs the playbook', async () => {
    const web = await host();
    const { workflowId, handle } = await start('install nginx', [web.tagId]);
    await waitForStatus(handle, 'awaiting_approval');
    const waiting = await stateOf(handle);
    expect(waiting.approval).toMatchObject({ decision: 'pending', artifactsHash: waiting.artifactsHash });
    expect(runner.callsOf(workflowId)).toHaveLength(0);
    const stale = await handle
      .executeUpdate(automationApprovalUpdate, { args: [{ decision: 'approve', artifactsHash: 'a'.repeat(64), by: 'tester' }] })
      .catch((err: unknown) => err);
    expect(stale).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((stale as WorkflowUpdateFailedError).cause?.message).toMatch(/artifacts changed/);
    const approval = await handle.executeUpdate(automationApprovalUpdate, {
      args: [{ decision: 'approve', artifactsHash: waiting.artifactsHash!, by: 'tester', comment: 'go' }],
    });
    expect(approval).toMatchObject({ decision: 'approved', by: 'tester' });
    const state = (await handle.result()) as AutomationWorkflowState;
    expect(state.status).toBe('succeeded');
    expect(runner.callsOf(workflowId).map((c) => c.input.checkMode)).toEqual([false]);
    await record(workflowId, 'approved-succeeded');
  });

  it('never runs a rejected playbook, nor one whose approval timed out', async () => {
    const web = await host();
    const rejected = await start('install nginx', [web.tagId]);
    await waitForStatus(rejected.handle, 'awaiting_approval');
    const hash = (await stateOf(rejected.handle)).artifactsHash!;
    await rejected.handle.executeUpdate(automationApprovalUpdate, { args: [{ decision: 'reject', artifactsHash: hash, by: 'tester' }] });
    expect(((await rejected.handle.result()) as AutomationWorkflowState).status).toBe('rejected');

    const timedOut = await start('install nginx', [web.tagId], { settings: { ...FAST, approvalTimeoutMs: 1500 } });
    const state = (await timedOut.handle.result()) as AutomationWorkflowState;
    expect(state.status).toBe('timed_out');
    expect(state.approval?.decision).toBe('timed_out');
    expect(runner.callsOf(rejected.workflowId)).toHaveLength(0);
    expect(runner.callsOf(timedOut.workflowId)).toHaveLength(0);
    expect((await store.automation.get(tenant.id, timedOut.runId))?.status).toBe('timed_out');
    await record(rejected.workflowId, 'rejected');
    await record(timedOut.workflowId, 'approval-timed-out');
  });

  it('ends invalid on any validation finding (stored on the row) and never runs, check mode included', async () => {
    const web = await host();
    const { runId, workflowId, handle } = await start('run a shell command', [web.tagId], { checkMode: true });
    const state = (await handle.result()) as AutomationWorkflowState;
    expect(state.status).toBe('invalid');
    expect(state.findings).toEqual([{ check: 'module-allowlist', task: 'play[0].tasks[0]', message: 'shell is not on the allowlist' }]);
    expect((await store.automation.get(tenant.id, runId))?.findings).toHaveLength(1);
    const syntax = await start('a syntax-error here', [web.tagId], { checkMode: true });
    expect(((await syntax.handle.result()) as AutomationWorkflowState).findings.map((f) => f.check)).toEqual(['syntax-check']);
    expect(runner.callsOf(workflowId)).toHaveLength(0);
    expect(runner.callsOf(syntax.workflowId)).toHaveLength(0);
    await record(workflowId, 'invalid');
  });

  it('refuses targets that are not usable CMDB items, and requests it cannot understand', async () => {
    const noCredential = await host({ sshCredential: null });
    const targets = await start('install nginx', [noCredential.tagId, 'no-such-item'], { checkMode: true });
    const state = (await targets.handle.result()) as AutomationWorkflowState;
    expect(state.status).toBe('invalid');
    expect(state.findings.map((f) => f.message).join(' ')).toMatch(/no SSH credential.*No CMDB item 'no-such-item'/s);

    const web = await host();
    const unknown = await start('gibberish please', [web.tagId], { checkMode: true });
    const understood = (await unknown.handle.result()) as AutomationWorkflowState;
    expect(understood).toMatchObject({ status: 'not_understood', understood: { hosts: web.tagId } });
    await record(targets.workflowId, 'targets-invalid');
    await record(unknown.workflowId, 'not-understood');
  });

  it('is recap_missing, never a success, when the run leaves no final stats; failed when a host failed', async () => {
    const web = await host();
    const missing = await start('norecap run', [web.tagId], { checkMode: true });
    const state = (await missing.handle.result()) as AutomationWorkflowState;
    expect(state.status).toBe('recap_missing');
    expect(state.summary).toMatch(/not counted as a success/);
    const failed = await start('this fails', [web.tagId], { checkMode: true });
    expect(((await failed.handle.result()) as AutomationWorkflowState).status).toBe('failed');
    await record(missing.workflowId, 'recap-missing');
  });

  it('runs the playbook once when the run step is retried: the retry re-attaches to the first execution', async () => {
    const web = await host();
    const { workflowId, handle } = await start('flaky install', [web.tagId], { checkMode: true });
    const state = (await handle.result()) as AutomationWorkflowState;
    expect(state.status).toBe('succeeded');
    expect(state.outcome?.reattached).toBe(true);
    expect(state.summary).toMatch(/found the first execution; it ran once/);
    expect(runner.callsOf(workflowId)).toHaveLength(2);
    expect(runner.executions.get(workflowId)).toBe(1);
    await record(workflowId, 'retried-run-reattached');
  });

  it('ends lost, not failed or succeeded, when no attempt can follow the runner; a refusal before running is failed', async () => {
    const web = await host();
    const lost = await start('unreachable-runner install', [web.tagId], { checkMode: true });
    const state = (await lost.handle.result()) as AutomationWorkflowState;
    expect(state.status).toBe('lost');
    expect(state.summary).toMatch(/outcome is unknown/);
    expect(runner.callsOf(lost.workflowId)).toHaveLength(4);
    expect(await store.leases.list(tenant.id)).toEqual([]);

    // No trusted host key on record: refused before the runner is asked.
    await store.hostKeys.forget(tenant.id, web.address, 22);
    const refused = await start('install nginx', [web.tagId], { checkMode: true });
    const err = await refused.handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(await store.automation.get(tenant.id, refused.runId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/No trusted host key/),
    });
    expect(runner.callsOf(refused.workflowId)).toHaveLength(0);
    await record(lost.workflowId, 'runner-lost');
  });

  it('holds every host lease while running (renewed), and waits while an incident holds one of the hosts', async () => {
    // Leases are taken in the sorted order of the addresses: a before b. An incident changes b.
    const [a, b] = [await host(), await host()].sort((x, y) => (x.address < y.address ? -1 : 1)) as [
      { tagId: string; address: string },
      { tagId: string; address: string },
    ];
    expect(
      await store.leases.acquire({ tenantId: tenant.id, host: b.address, holder: 'incident-busy', ttlMs: 60_000, maxPerTenant: 5 }),
    ).toMatchObject({
      acquired: true,
    });
    const { workflowId, handle } = await start('slow install', [b.tagId, a.tagId], { checkMode: true });
    await waitForStatus(handle, 'waiting_for_hosts');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(runner.callsOf(workflowId)).toHaveLength(0);
    // a's lease is taken first and kept while b is waited for.
    expect((await store.leases.list(tenant.id)).map((l) => [l.host, l.holder])).toEqual(
      expect.arrayContaining([
        [a.address, workflowId],
        [b.address, 'incident-busy'],
      ]),
    );
    await store.leases.release(tenant.id, b.address, 'incident-busy');
    await waitFor(() => runner.callsOf(workflowId).length === 1, 'the playbook to start');
    const held = await store.leases.list(tenant.id);
    expect(
      held
        .filter((l) => l.holder === workflowId)
        .map((l) => l.host)
        .sort(),
    ).toEqual([a.address, b.address].sort());
    // Past the 3 s TTL the leases are still this run's: renewed while the playbook runs.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect((await store.leases.list(tenant.id)).filter((l) => l.holder === workflowId)).toHaveLength(2);
    runner.release(workflowId);
    expect(((await handle.result()) as AutomationWorkflowState).status).toBe('succeeded');
    expect((await store.leases.list(tenant.id)).filter((l) => l.holder === workflowId)).toEqual([]);
    await record(workflowId, 'waited-for-hosts');
  });

  it('stops the runner when cancelled mid-run, ends cancelled and releases the hosts', async () => {
    const web = await host();
    const { runId, workflowId, handle } = await start('slow install', [web.tagId], { checkMode: true });
    await waitFor(() => runner.callsOf(workflowId).length === 1, 'the playbook to start');
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const [call] = runner.callsOf(workflowId);
    expect(call).toMatchObject({ aborted: true, finished: false });
    expect(await store.automation.get(tenant.id, runId)).toMatchObject({ status: 'cancelled' });
    expect((await store.automation.readLog(tenant.id, runId, 120, 5)).lines.map((l) => l.text)).toEqual(['INTERRUPTED']);
    expect(await store.leases.list(tenant.id)).toEqual([]);
    const projection = await store.runs.get(tenant.id, 'automation', runId);
    expect(projection).toMatchObject({ status: 'cancelled', ended: true });
    expect((projection!.state as unknown as AutomationRunProjectionState).workflow.status).toBe('CANCELLED');
    await record(workflowId, 'cancelled-mid-run');
  });

  it('ends cancelled without running when cancelled while waiting for approval', async () => {
    const web = await host();
    const { runId, workflowId, handle } = await start('install nginx', [web.tagId]);
    await waitForStatus(handle, 'awaiting_approval');
    await handle.cancel();
    await handle.result().catch(() => undefined);
    expect(await store.automation.get(tenant.id, runId)).toMatchObject({
      status: 'cancelled',
      summary: 'Cancelled by request; nothing was run.',
    });
    expect(runner.callsOf(workflowId)).toHaveLength(0);
    await record(workflowId, 'cancelled-awaiting-approval');
  });

  it('fails with a clear reason on a worker without the automation toolkit, and records it', async () => {
    const bareQueue = uniqueTaskQueue('wf-automation-bare');
    const bare = await createInfraWorker({
      connection: workerConnection,
      namespace: testTemporal().namespace,
      taskQueue: bareQueue,
      store,
      workflowBundlePath: testWorkflowBundlePath(),
    });
    const web = await host();
    const { runId, handle } = await bare.runUntil(async () => {
      const started = await start('install nginx', [web.tagId], { checkMode: true, queue: bareQueue });
      await started.handle.result().catch(() => undefined);
      return started;
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(/no automation toolkit/);
    expect(await store.automation.get(tenant.id, runId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/no automation toolkit/),
    });
    const projection = await store.runs.get(tenant.id, 'automation', runId);
    expect(projection).toMatchObject({ status: 'failed', ended: true });
    expect((projection!.state as unknown as AutomationRunProjectionState).workflow.status).toBe('FAILED');
  });
});
