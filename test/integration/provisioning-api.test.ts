import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionBranch } from '../../core/contracts/provisioning.js';
import { signGitHubBody } from '../../api/webhooks/github-signature.js';
import { startProvisionRequest } from '../../api/run-starts.js';
import { fakeProvisioningToolkit, InMemoryGitHost } from '../support/provisioning-fakes.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';

// The provisioning API through HTTP (app.request) over a real store, the test run's Temporal dev
// server and an in-process worker; the provisioning core and the git host are test doubles
// (test/support/provisioning-fakes.ts).

const git = new InMemoryGitHost();
const toolkit = fakeProvisioningToolkit();
const SECRETS = ['old-github-secret', 'new-github-secret'];
let stack: TestStack;
let viewerKey: string;
let otherKey: string;

beforeAll(async () => {
  stack = await startTestStack({
    withWorker: true,
    provisioning: {
      toolkit,
      gitHost: git,
      settings: { reviewTimeoutMs: 120_000, reminderBeforeMs: 0, pollIntervalMs: 120_000 },
      localReview: async (_tenantId, number, state) => git.setState(number, state),
      gitHubWebhookSecrets: SECRETS,
    },
  });
  viewerKey = await stack.keyFor('acme', 'viewer');
  otherKey = await stack.keyFor('globex', 'operator');
});

afterAll(async () => {
  await stack?.close();
});

interface Detail {
  id: string;
  status: string;
  stage: string | null;
  branch: string | null;
  pullRequest: { number: number; url: string; state: string } | null;
  files: { path: string; content: string }[];
  findings: { rule: string; severity: string }[];
  [key: string]: unknown;
}

const json = async <T = Record<string, unknown>>(res: Response): Promise<T> => (await res.json()) as T;
const detail = async (id: string, key?: string) => json<Detail>(await stack.call('GET', `/api/v1/provision/${id}`, key ? { key } : {}));
const untilStatus = (id: string, status: string) =>
  waitFor(
    async () => {
      const request = await detail(id);
      return request.status === status ? request : null;
    },
    `provisioning request ${id} to be ${status}`,
    45_000,
  );
const start = async (body: unknown) => {
  const res = await stack.call('POST', '/api/v1/provision', { body });
  expect(res.status, await res.clone().text()).toBe(202);
  return json<{ id: string; workflowId: string; status: string }>(res);
};
const webhook = (event: string, payload: unknown, secret = SECRETS[1]!) => {
  const raw = JSON.stringify(payload);
  return stack.app.request('/api/v1/webhooks/github', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-hub-signature-256': signGitHubBody(raw, secret) },
    body: raw,
  });
};
const closedEvent = (number: number, branch: string, merged: boolean) => ({
  action: 'closed',
  number,
  pull_request: { number, merged, head: { ref: branch }, base: { ref: 'main' } },
  repository: { full_name: 'acme/infra' },
});

describe('provisioning API', () => {
  it('starts a request (202), shows it through GET until its pull request is open, and a signed GitHub webhook completes it', async () => {
    const accepted = await start({ request: 'staging s3 bucket logs', requester: 'dev@example.com' });
    expect(accepted).toEqual({ id: expect.any(String), workflowId: `provision-${accepted.id}`, status: 'queued' });
    const waiting = await untilStatus(accepted.id, 'awaiting_review');
    expect(waiting).toMatchObject({
      requester: 'dev@example.com',
      directory: 'terraform/staging/s3_bucket/logs',
      branch: provisionBranch(accepted.id),
      requirements: { resourceType: 's3_bucket', name: 'logs', environment: 'staging' },
      pullRequest: { state: 'open' },
    });
    expect(waiting.files.map((f) => f.path)).toEqual([
      'terraform/staging/s3_bucket/logs/main.tf',
      'terraform/staging/s3_bucket/logs/variables.tf',
    ]);
    // Another tenant sees nothing.
    expect((await stack.call('GET', `/api/v1/provision/${accepted.id}`, { key: otherKey })).status).toBe(404);

    const bad = await stack.app.request('/api/v1/webhooks/github', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      body: JSON.stringify(closedEvent(waiting.pullRequest!.number, waiting.branch!, true)),
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/);
    const unsigned = await stack.app.request('/api/v1/webhooks/github', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'ping' },
      body: '{}',
    });
    expect(unsigned.status).toBe(401);
    expect((await detail(accepted.id)).status).toBe('awaiting_review');

    // Signed under the old secret still (rotation): ping, then the merge.
    expect(await json(await webhook('ping', { zen: 'Keep it logically awesome.' }, SECRETS[0]))).toEqual({ outcome: 'pong' });
    const merged = await webhook('pull_request', closedEvent(waiting.pullRequest!.number, waiting.branch!, true), SECRETS[0]);
    expect(merged.status).toBe(200);
    expect(await json(merged)).toEqual({ outcome: 'signalled', requestId: accepted.id, workflowId: accepted.workflowId });
    const done = await untilStatus(accepted.id, 'completed');
    expect(done.pullRequest).toMatchObject({ state: 'merged' });
    // Repeated after the run ended: nothing to signal.
    expect(await json(await webhook('pull_request', closedEvent(waiting.pullRequest!.number, waiting.branch!, true)))).toMatchObject({
      outcome: 'no_run',
    });
    expect(await json(await webhook('pull_request', closedEvent(7, 'feature/other', true)))).toMatchObject({ outcome: 'ignored' });
  });

  it('answers 422 listing what is missing for an ambiguous request, and records nothing', async () => {
    const before = await json<{ items: unknown[] }>(await stack.call('GET', '/api/v1/provision?limit=200'));
    const res = await stack.call('POST', '/api/v1/provision', { body: { request: 'make it faster please' } });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await json<{ errors: unknown[] }>(res)).errors).toEqual([
      { path: 'request', message: 'missing: resourceType', code: 'missing' },
    ]);
    const after = await json<{ items: unknown[] }>(await stack.call('GET', '/api/v1/provision?limit=200'));
    expect(after.items).toHaveLength(before.items.length);
  });

  it('answers a repeated Idempotency-Key with the request recorded first (200): one run, one pull request', async () => {
    const headers = { 'idempotency-key': 'ticket-4711' };
    const first = await stack.call('POST', '/api/v1/provision', { body: { request: 'staging s3 bucket retried' }, headers });
    expect(first.status).toBe(202);
    const accepted = await json<{ id: string; workflowId: string }>(first);
    const again = await stack.call('POST', '/api/v1/provision', { body: { request: 'staging s3 bucket retried' }, headers });
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ id: accepted.id, workflowId: accepted.workflowId });
    await untilStatus(accepted.id, 'awaiting_review');
    expect(git.pullRequests.filter((p) => p.head === provisionBranch(accepted.id))).toHaveLength(1);
    // The same key in another tenant is that tenant's own request.
    const other = await stack.call('POST', '/api/v1/provision', { key: otherKey, body: { request: 'staging s3 bucket retried' }, headers });
    expect(other.status).toBe(202);
    expect((await json<{ id: string }>(other)).id).not.toBe(accepted.id);
    expect((await stack.call('POST', '/api/v1/provision', { body: { request: 'x' }, headers: { 'idempotency-key': ' ' } })).status).toBe(
      422,
    );
  });

  it('removes the record when its workflow cannot be started: no half-written request', async () => {
    const tenant = await stack.store.tenants.ensure('acme');
    const down = () => Promise.reject(new Error('Temporal is down'));
    await expect(
      startProvisionRequest(
        { store: stack.store, workflows: { start: down, signalReviewed: down }, toolkit },
        { tenantId: tenant.id, tenantSlug: tenant.slug, subject: 'api-key:test' },
        { request: 'staging s3 bucket orphan', requester: 'orphan@example.com' },
      ),
    ).rejects.toThrow('Temporal is down');
    expect((await stack.store.provisioning.list(tenant.id, { requester: 'orphan@example.com' }, { limit: 10 })).items).toEqual([]);
  });

  it('refuses invalid input with 4xx problems, and viewers may not start', async () => {
    for (const body of [{}, { request: '' }, { request: '   ' }, { request: 'x', environment: 'moon' }, { request: 'x', extra: 1 }]) {
      const res = await stack.call('POST', '/api/v1/provision', { body });
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    expect((await stack.call('POST', '/api/v1/provision', { body: '{"request":' })).status).toBe(400);
    expect((await stack.call('POST', '/api/v1/provision/dry-run', { body: { request: 'x', files: [] } })).status).toBe(422);
    expect((await stack.call('GET', '/api/v1/provision?status=nope')).status).toBe(422);
    expect((await stack.call('GET', '/api/v1/provision?cursor=bm9wZQ')).status).toBe(422);
    expect((await stack.call('GET', '/api/v1/provision/not-a-uuid')).status).toBe(404);
    expect((await stack.call('POST', '/api/v1/provision', { key: viewerKey, body: { request: 'staging s3 bucket v' } })).status).toBe(403);
  });

  it('previews a request with the dry run and writes nothing anywhere (no row, no git call), in both shapes', async () => {
    const before = await json<{ items: unknown[] }>(await stack.call('GET', '/api/v1/provision?limit=200'));
    const gitCalls = git.calls.length;
    const res = await stack.call('POST', '/api/v1/provision/dry-run', {
      body: { request: 'public s3 bucket assets', environment: 'prod' },
    });
    expect(res.status).toBe(200);
    const preview = await json<{ directory: string; blocked: boolean; files: { path: string }[]; findings: { rule: string }[] }>(res);
    expect(preview).toMatchObject({
      requirements: { resourceType: 's3_bucket', name: 'assets', environment: 'production' },
      directory: 'terraform/production/s3_bucket/assets',
      blocked: true,
    });
    expect(preview.findings.map((f) => f.rule)).toEqual(['no_public_buckets']);
    // Asked for, Checkov runs over the preview too, its findings beside the declared rules'.
    const withCheckov = await stack.call('POST', '/api/v1/provision/dry-run', {
      body: { request: 'public s3 bucket assets', environment: 'prod', checkov: true },
    });
    expect(withCheckov.status).toBe(200);
    const checked = await json<{ findings: { rule: string; source: string; line: number }[] }>(withCheckov);
    expect(checked.findings.map((f) => `${f.source}:${f.rule}`).sort()).toEqual(['checkov:CKV_AWS_53', 'rules:no_public_buckets']);
    const reference = await stack.call('POST', '/api/v1/dry-run', { body: { request: 'staging s3 bucket logs' } });
    expect(reference.status).toBe(200);
    const ref = await json<{ terraform_files: Record<string, string>; directory: string; parsed_requirements: { name: string } }>(
      reference,
    );
    expect(Object.keys(ref.terraform_files)).toEqual(['main.tf', 'variables.tf']);
    expect(ref).toMatchObject({ directory: 'terraform/staging/s3_bucket/logs', parsed_requirements: { name: 'logs' } });
    expect((await stack.call('POST', '/api/v1/dry-run', { body: { request: 'make it faster' } })).status).toBe(422);
    const after = await json<{ items: unknown[] }>(await stack.call('GET', '/api/v1/provision?limit=200'));
    expect(after.items).toHaveLength(before.items.length);
    expect(git.calls.length).toBe(gitCalls);
  });

  it('blocks a request the policy refuses, with nothing pushed', async () => {
    const accepted = await start({ request: 'production public s3 bucket media' });
    const blocked = await untilStatus(accepted.id, 'blocked');
    expect(blocked).toMatchObject({ branch: null, pullRequest: null });
    expect(blocked.findings).toEqual([expect.objectContaining({ rule: 'no_public_buckets', severity: 'error' })]);
    expect(git.branches.has(provisionBranch(accepted.id))).toBe(false);
  });

  it('closes the pull request through the local review route: the request ends cancelled', async () => {
    const accepted = await start({ request: 'dev s3 bucket scratch' });
    const waiting = await untilStatus(accepted.id, 'awaiting_review');
    expect(
      (await stack.call('POST', `/api/v1/provision/${accepted.id}/review`, { key: viewerKey, body: { decision: 'closed' } })).status,
    ).toBe(403);
    expect((await stack.call('POST', `/api/v1/provision/${accepted.id}/review`, { body: { decision: 'maybe' } })).status).toBe(422);
    const res = await stack.call('POST', `/api/v1/provision/${accepted.id}/review`, { body: { decision: 'closed' } });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ id: accepted.id, pullRequest: { ...waiting.pullRequest, state: 'closed' }, signalled: true });
    await untilStatus(accepted.id, 'cancelled');
    expect(git.pullRequests.find((p) => p.number === waiting.pullRequest!.number)?.state).toBe('closed');
    expect((await stack.call('POST', `/api/v1/provision/${accepted.id}/review`, { body: { decision: 'merged' } })).status).toBe(409);
  });

  it('lists by requester and status with cursors, and serves reference 004’s aliases', async () => {
    const requester = `list-${Date.now()}@example.com`;
    const ids: string[] = [];
    for (const name of ['a1', 'a2', 'a3']) ids.push((await start({ request: `staging s3 bucket ${name}`, requester })).id);
    const first = await json<{ items: { id: string }[]; nextCursor: string | null }>(
      await stack.call('GET', `/api/v1/provision?requester=${encodeURIComponent(requester)}&limit=2`),
    );
    expect(first.items.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const second = await json<{ items: { id: string }[]; nextCursor: string | null }>(
      await stack.call('GET', `/api/v1/provision?requester=${encodeURIComponent(requester)}&limit=2&cursor=${first.nextCursor}`),
    );
    expect(second).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    const blocked = await json<{ items: { status: string }[] }>(await stack.call('GET', '/api/v1/provision?status=blocked'));
    expect(blocked.items.length).toBeGreaterThanOrEqual(1);
    expect(blocked.items.every((r) => r.status === 'blocked')).toBe(true);

    await untilStatus(ids[0]!, 'awaiting_review');
    const status = await stack.call('GET', `/api/v1/requests/${ids[0]}/status`);
    expect(status.status).toBe(200);
    expect(await json(status)).toMatchObject({
      request_id: ids[0],
      request_text: 'staging s3 bucket a1',
      requester,
      status: 'completed',
      infraai_status: 'awaiting_review',
      branch_name: provisionBranch(ids[0]!),
      pr_number: expect.any(Number),
      completed_at: null,
    });
    const byUser = await json<{ requests: { request_id: string }[] }>(
      await stack.call('GET', `/api/v1/requests?user=${encodeURIComponent(requester)}&limit=20`),
    );
    expect(byUser.requests.map((r) => r.request_id)).toEqual([ids[2], ids[1], ids[0]]);
    expect((await stack.call('GET', `/api/v1/requests/${ids[0]}/status`, { key: otherKey })).status).toBe(404);
  });
});
