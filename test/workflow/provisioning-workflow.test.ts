import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createStore } from '../../adapters/store/create.js';
import type { Store, Tenant } from '../../adapters/store/port.js';
import { SEARCH_ATTRIBUTES } from '../../core/contracts/incident.js';
import {
  PROVISION_WORKFLOW_TYPE,
  provisionBranch,
  provisionStateQuery,
  provisionWorkflowId,
  pullRequestReviewedSignal,
  type ProvisionInfrastructureInput,
  type ProvisionSettings,
  type ProvisionWorkflowState,
} from '../../core/contracts/provisioning.js';
import { createInfraWorker } from '../../worker.js';
import { saveHistoryFixture } from '../support/histories.js';
import { fakeProvisioningToolkit, InMemoryGitHost } from '../support/provisioning-fakes.js';
import { waitFor } from '../support/stack.js';
import { connectTestClient, connectTestWorker, testTemporal, testWorkflowBundlePath, uniqueTaskQueue } from '../support/temporal.js';

// Workflow tier: the real provisioning workflow and activities on the test run's Temporal dev server
// with a real (PGlite) store; the provisioning core and the git host are test doubles
// (test/support/provisioning-fakes.ts).

let dataDir: string;
let store: Store;
let client: Client;
let clientConnection: Connection;
let workerConnection: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
let tenant: Tenant;
const git = new InMemoryGitHost();
const toolkit = fakeProvisioningToolkit();
const taskQueue = uniqueTaskQueue('wf-provision');
/** Signals end the wait in these tests; polls come only when a test asks for them. */
const FAST: ProvisionSettings = { reviewTimeoutMs: 60_000, reminderBeforeMs: 0, pollIntervalMs: 60_000 };

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'infraai-wf-provision-'));
  store = await createStore({ kind: 'pglite', dataDir });
  tenant = await store.tenants.ensure('wf-provision');
  ({ client, connection: clientConnection } = await connectTestClient());
  workerConnection = await connectTestWorker();
  worker = await createInfraWorker({
    connection: workerConnection,
    namespace: testTemporal().namespace,
    taskQueue,
    store,
    provisioning: toolkit,
    gitHost: git,
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

async function start(request: string, settings = FAST): Promise<{ requestId: string; workflowId: string; handle: WorkflowHandle }> {
  const row = await store.provisioning.create(tenant.id, {
    id: randomUUID(),
    requester: 'dev@example.com',
    request,
    environment: null,
  });
  const input: ProvisionInfrastructureInput = { tenantId: tenant.id, tenantSlug: tenant.slug, requestId: row.id, settings };
  const handle = await client.workflow.start(PROVISION_WORKFLOW_TYPE, {
    workflowId: provisionWorkflowId(row.id),
    taskQueue,
    args: [input],
    typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.tenant, value: tenant.slug }],
  });
  return { requestId: row.id, workflowId: handle.workflowId, handle };
}

const stateOf = (handle: WorkflowHandle) => handle.query(provisionStateQuery);
const waitForReview = (handle: WorkflowHandle) =>
  waitFor(async () => {
    const state = await stateOf(handle);
    return state.status === 'awaiting_review' ? state : null;
  }, 'status awaiting_review');
const pushedFor = (requestId: string) => ({
  branch: git.branches.has(provisionBranch(requestId)),
  commits: git.commits.filter((c) => c.requestId === requestId).length,
  pullRequests: git.pullRequests.filter((p) => p.head === provisionBranch(requestId)).length,
});
const record = (workflowId: string, scenario: string) =>
  saveHistoryFixture(client, workflowId, scenario, { family: 'provisioning', revision: 'initial' });

describe('provisionInfrastructure', () => {
  it('parses, generates, validates, passes the policy, opens one pull request and completes when it is merged', async () => {
    const { requestId, workflowId, handle } = await start('staging s3 bucket logs');
    const waiting = await waitForReview(handle);
    expect(waiting).toMatchObject({
      directory: 'terraform/staging/s3_bucket/logs',
      files: ['terraform/staging/s3_bucket/logs/main.tf', 'terraform/staging/s3_bucket/logs/variables.tf'],
      branch: provisionBranch(requestId),
      pullRequest: { state: 'open' },
      review: { remindedAt: null, via: null },
    });
    const row = await store.provisioning.get(tenant.id, requestId);
    expect(row).toMatchObject({
      status: 'awaiting_review',
      requirements: { resourceType: 's3_bucket', name: 'logs', environment: 'staging' },
      directory: 'terraform/staging/s3_bucket/logs',
      branch: provisionBranch(requestId),
      commitSha: waiting.commitSha,
      prNumber: waiting.pullRequest!.number,
      prState: 'open',
    });
    expect(row!.files!.map((f) => f.path)).toEqual(waiting.files);
    expect(row!.reviewDeadline).not.toBeNull();
    const commit = git.commits.find((c) => c.requestId === requestId)!;
    expect(commit.files).toEqual(row!.files);

    await handle.signal(pullRequestReviewedSignal, { number: waiting.pullRequest!.number + 1000, state: 'closed' });
    await handle.signal(pullRequestReviewedSignal, { number: waiting.pullRequest!.number, state: 'merged' });
    const state = (await handle.result()) as ProvisionWorkflowState;
    expect(state).toMatchObject({ status: 'completed', pullRequest: { state: 'merged' }, review: { via: 'signal' } });
    expect(await store.provisioning.get(tenant.id, requestId)).toMatchObject({
      status: 'completed',
      prState: 'merged',
      stage: 'writeProvisionResult',
    });
    expect(pushedFor(requestId)).toEqual({ branch: true, commits: 1, pullRequests: 1 });
    await record(workflowId, 'merged-by-signal');
  });

  it('blocks a request the policy refuses: findings on the row, nothing pushed', async () => {
    const { requestId, workflowId, handle } = await start('production public s3 bucket assets');
    const state = (await handle.result()) as ProvisionWorkflowState;
    expect(state.status).toBe('blocked');
    expect(state.summary).toMatch(/no_public_buckets/);
    const row = await store.provisioning.get(tenant.id, requestId);
    expect(row).toMatchObject({ status: 'blocked', branch: null, prNumber: null });
    expect(row!.findings).toEqual([expect.objectContaining({ rule: 'no_public_buckets', severity: 'error' })]);
    expect(pushedFor(requestId)).toEqual({ branch: false, commits: 0, pullRequests: 0 });
    await record(workflowId, 'policy-blocked');
  });

  it('ends not_understood when the request cannot be parsed, and generates nothing', async () => {
    const { requestId, handle } = await start('make it faster please');
    const state = (await handle.result()) as ProvisionWorkflowState;
    expect(state.status).toBe('not_understood');
    expect(state.summary).toMatch(/resourceType/);
    expect(await store.provisioning.get(tenant.id, requestId)).toMatchObject({ status: 'not_understood', files: null });
  });

  it('is cancelled when the pull request is closed without merging', async () => {
    const { requestId, workflowId, handle } = await start('dev s3 bucket scratch');
    const waiting = await waitForReview(handle);
    await handle.signal(pullRequestReviewedSignal, { number: waiting.pullRequest!.number, state: 'closed' });
    expect(((await handle.result()) as ProvisionWorkflowState).status).toBe('cancelled');
    expect(await store.provisioning.get(tenant.id, requestId)).toMatchObject({ status: 'cancelled', prState: 'closed' });
    await record(workflowId, 'closed-cancelled');
  });

  it('reminds once before the review deadline, then expires', async () => {
    const { requestId, workflowId, handle } = await start('staging s3 bucket reports', {
      reviewTimeoutMs: 3000,
      reminderBeforeMs: 1500,
      pollIntervalMs: 60_000,
    });
    const state = (await handle.result()) as ProvisionWorkflowState;
    expect(state.status).toBe('expired');
    expect(state.review!.remindedAt).not.toBeNull();
    const row = await store.provisioning.get(tenant.id, requestId);
    // The reminder reached the pull request once, and the expired request's pull request is closed.
    expect(row).toMatchObject({ status: 'expired', remindedAt: state.review!.remindedAt, prState: 'closed' });
    expect(Date.parse(row!.remindedAt!)).toBeLessThan(Date.parse(row!.finishedAt!));
    expect(git.comments.filter((c) => c.number === row!.prNumber)).toEqual([
      { number: row!.prNumber, body: expect.stringContaining(`expires on ${row!.reviewDeadline}`) },
    ]);
    expect((await git.pullRequest(row!.prNumber!)).state).toBe('closed');
    await record(workflowId, 'review-expired');
  });

  it('finds a merge by polling the git host when no webhook arrives', async () => {
    const { requestId, workflowId, handle } = await start('staging s3 bucket polled', {
      reviewTimeoutMs: 60_000,
      reminderBeforeMs: 0,
      pollIntervalMs: 1000,
    });
    const waiting = await waitForReview(handle);
    git.setState(waiting.pullRequest!.number, 'merged');
    const state = (await handle.result()) as ProvisionWorkflowState;
    expect(state).toMatchObject({ status: 'completed', review: { via: 'poll' } });
    expect(state.review!.polls).toBeGreaterThanOrEqual(1);
    expect((await store.provisioning.get(tenant.id, requestId))?.status).toBe('completed');
    await record(workflowId, 'merged-by-polling');
  });

  it('makes one branch, one commit and one pull request when every git step is retried after its write', async () => {
    git.failOnce('ensureBranch');
    git.failOnce('commitFiles');
    git.failOnce('openPullRequest');
    const { requestId, workflowId, handle } = await start('staging s3 bucket retried');
    const waiting = await waitForReview(handle);
    expect(pushedFor(requestId)).toEqual({ branch: true, commits: 1, pullRequests: 1 });
    await handle.signal(pullRequestReviewedSignal, { number: waiting.pullRequest!.number, state: 'merged' });
    expect(((await handle.result()) as ProvisionWorkflowState).status).toBe('completed');
    expect(pushedFor(requestId)).toEqual({ branch: true, commits: 1, pullRequests: 1 });
    await record(workflowId, 'git-steps-retried');
  });

  it('ends cancelled when the run is cancelled while it waits for the review', async () => {
    const { requestId, handle } = await start('staging s3 bucket abandoned');
    await waitForReview(handle);
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    expect(await store.provisioning.get(tenant.id, requestId)).toMatchObject({ status: 'cancelled', summary: 'Cancelled by request.' });
  });
});
