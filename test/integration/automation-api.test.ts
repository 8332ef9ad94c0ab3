import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../adapters/store/port.js';
import { addAutomationHost, FakeAnsibleRunner, fakeToolkit, fakeVault } from '../support/automation-fakes.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';

// The automation API through HTTP (app.request) over a real store, the test run's Temporal dev
// server and an in-process worker whose toolkit and runner are fakes.

const runner = new FakeAnsibleRunner();
let stack: TestStack;
let acme: Tenant;
let otherKey: string;
let viewerKey: string;

beforeAll(async () => {
  stack = await startTestStack({
    withWorker: true,
    automation: {
      toolkit: fakeToolkit(runner),
      vault: fakeVault(),
      settings: { approvalTimeoutMs: 60_000, runTimeoutMs: 60_000 },
      precheck: true,
    },
  });
  acme = await stack.store.tenants.ensure('acme');
  const other = await stack.store.tenants.ensure('globex');
  otherKey = await stack.keyFor('globex', 'operator');
  viewerKey = await stack.keyFor('acme', 'viewer');
  await addAutomationHost(stack.store, acme.id, 'web-01', '10.98.0.1');
  await addAutomationHost(stack.store, acme.id, 'web-02', '10.98.0.2');
  await addAutomationHost(stack.store, other.id, 'globex-01', '10.98.1.1');
});

afterAll(async () => {
  await stack?.close();
});

interface Detail {
  id: string;
  status: string;
  artifactsHash: string | null;
  approval: { decision: string; artifactsHash: string } | null;
  [key: string]: unknown;
}

const json = async <T = Record<string, unknown>>(res: Response): Promise<T> => (await res.json()) as T;
const start = (body: unknown, headers: Record<string, string> = {}) => stack.call('POST', '/api/v1/automation', { body, headers });
const detail = async (id: string, key?: string) => json<Detail>(await stack.call('GET', `/api/v1/automation/${id}`, key ? { key } : {}));
const untilStatus = (id: string, status: string) =>
  waitFor(async () => {
    const run = await detail(id);
    return run.status === status ? run : null;
  }, `automation ${id} to be ${status}`);

describe('automation API', () => {
  it('refuses invalid starts with 422 problems: body, unknown and foreign targets, a request nothing covers', async () => {
    for (const body of [
      {},
      { request: 'x', targets: [] },
      { request: ' ', targets: ['web-01'] },
      { request: 'x', targets: ['web-01'], extra: 1 },
    ]) {
      const res = await start(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    }
    const unknown = await start({ request: 'install nginx', targets: ['web-01', 'nope-01'] });
    expect(unknown.status).toBe(422);
    expect((await json<{ errors: unknown[] }>(unknown)).errors).toEqual([
      { path: 'targets.1', message: "no CMDB item with tagId 'nope-01'", code: 'unknown_reference' },
    ]);
    // Another tenant's item is not found either.
    expect((await start({ request: 'install nginx', targets: ['globex-01'] })).status).toBe(422);
    const gibberish = await start({ request: 'gibberish please', targets: ['web-01'] });
    expect(gibberish.status).toBe(422);
    const problem = await json<{ detail: string; errors: { code: string; message: string }[] }>(gibberish);
    expect(problem.detail).toMatch(/not understood/);
    expect(problem.errors).toEqual([
      { path: 'request', message: 'No template matches the request.', code: 'not_understood' },
      { path: 'request', message: 'hosts: web-01', code: 'understood' },
    ]);
    expect((await stack.call('POST', '/api/v1/automation', { key: viewerKey, body: { request: 'x', targets: ['web-01'] } })).status).toBe(
      403,
    );
  });

  it('starts a check-mode run once per Idempotency-Key, shows it from the store, pages its log, streams its events to run.ended', async () => {
    const first = await start({ request: 'install nginx', targets: ['web-01'], checkMode: true }, { 'idempotency-key': 'click-1' });
    expect(first.status).toBe(202);
    const accepted = await json<{ id: string; workflowId: string; status: string }>(first);
    expect(accepted).toMatchObject({ workflowId: `automation-${accepted.id}`, status: 'queued' });
    const again = await start({ request: 'install nginx', targets: ['web-01'], checkMode: true }, { 'idempotency-key': 'click-1' });
    expect(again.status).toBe(200);
    expect((await json<{ id: string }>(again)).id).toBe(accepted.id);

    const run = await untilStatus(accepted.id, 'succeeded');
    expect(run).toMatchObject({
      readFrom: 'projection',
      checkMode: true,
      approval: { decision: 'not_required' },
      recap: { 'web-01': { ok: 2, changed: 0, failed: 0 } },
      findings: [],
      logLines: 120,
      exitCode: 0,
      generation: { source: 'template', template: 'package-present' },
    });
    expect(run.artifactsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(String(run.logTail)).toContain('event 120');
    expect(runner.callsOf(accepted.workflowId)).toHaveLength(1);

    const page1 = await json<{ lines: { n: number }[]; total: number; nextAfter: number | null }>(
      await stack.call('GET', `/api/v1/automation/${accepted.id}/log?limit=50`),
    );
    expect(page1).toMatchObject({ total: 120, nextAfter: 50 });
    expect(page1.lines.map((l) => l.n)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const last = await json<{ lines: { n: number }[]; nextAfter: number | null }>(
      await stack.call('GET', `/api/v1/automation/${accepted.id}/log?after=100&limit=50`),
    );
    expect(last.lines.map((l) => l.n)).toEqual(Array.from({ length: 20 }, (_, i) => i + 101));
    expect(last.nextAfter).toBeNull();
    expect((await stack.call('GET', `/api/v1/automation/${accepted.id}/log?limit=0`)).status).toBe(422);

    const stream = await stack.call('GET', `/api/v1/automation/${accepted.id}/events`);
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    const types = [...(await stream.text()).matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    expect(types[0]).toBe('ready');
    expect(types.at(-1)).toBe('run.ended');
    expect(types).toContain('result.written');
  });

  it('waits for approval: a stale hash answers 409, the right one runs it; a rejected run never runs', async () => {
    const res = await start({ request: 'install nginx', targets: ['web-01', 'web-02'] });
    const { id, workflowId } = await json<{ id: string; workflowId: string }>(res);
    const waiting = await untilStatus(id, 'awaiting_approval');
    expect(waiting.approval).toMatchObject({ decision: 'pending', artifactsHash: waiting.artifactsHash });
    const stale = await stack.call('POST', `/api/v1/automation/${id}/approve`, { body: { artifactsHash: 'b'.repeat(64) } });
    expect(stale.status).toBe(409);
    expect((await json<{ detail: string }>(stale)).detail).toMatch(/artifacts changed/);
    expect((await stack.call('POST', `/api/v1/automation/${id}/approve`, { body: { artifactsHash: 'nothex' } })).status).toBe(422);
    const approved = await stack.call('POST', `/api/v1/automation/${id}/approve`, {
      body: { artifactsHash: waiting.artifactsHash, comment: 'looks right' },
    });
    expect(approved.status).toBe(200);
    expect(await json(approved)).toMatchObject({ decision: 'approved', comment: 'looks right', artifactsHash: waiting.artifactsHash });
    await untilStatus(id, 'succeeded');
    expect(runner.callsOf(workflowId).map((c) => c.input.checkMode)).toEqual([false]);
    expect((await stack.call('POST', `/api/v1/automation/${id}/approve`, { body: { artifactsHash: waiting.artifactsHash } })).status).toBe(
      409,
    );

    const other = await json<{ id: string; workflowId: string }>(await start({ request: 'install nginx', targets: ['web-02'] }));
    const pending = await untilStatus(other.id, 'awaiting_approval');
    expect(
      (await stack.call('POST', `/api/v1/automation/${other.id}/reject`, { body: { artifactsHash: pending.artifactsHash } })).status,
    ).toBe(200);
    await untilStatus(other.id, 'rejected');
    expect(runner.callsOf(other.workflowId)).toHaveLength(0);
  });

  it('cancels a running playbook: the runner is stopped, the run ends cancelled; a second cancel answers 409', async () => {
    const { id, workflowId } = await json<{ id: string; workflowId: string }>(
      await start({ request: 'slow install', targets: ['web-02'], checkMode: true }),
    );
    await waitFor(() => runner.callsOf(workflowId).length === 1, 'the playbook to start');
    const cancel = await stack.call('POST', `/api/v1/automation/${id}/cancel`);
    expect(cancel.status).toBe(202);
    expect(await json(cancel)).toMatchObject({ id, cancelRequested: true });
    await untilStatus(id, 'cancelled');
    expect(runner.callsOf(workflowId)[0]?.aborted).toBe(true);
    expect((await stack.call('POST', `/api/v1/automation/${id}/cancel`)).status).toBe(409);
  });

  it('keeps tenants apart: another tenant’s run is 404 on every route', async () => {
    const { id } = await json<{ id: string }>(await start({ request: 'install nginx', targets: ['web-01'], checkMode: true }));
    const hash = 'c'.repeat(64);
    for (const [method, path, body] of [
      ['GET', `/api/v1/automation/${id}`, undefined],
      ['GET', `/api/v1/automation/${id}/log`, undefined],
      ['GET', `/api/v1/automation/${id}/events`, undefined],
      ['POST', `/api/v1/automation/${id}/approve`, { artifactsHash: hash }],
      ['POST', `/api/v1/automation/${id}/reject`, { artifactsHash: hash }],
      ['POST', `/api/v1/automation/${id}/cancel`, undefined],
    ] as const) {
      expect((await stack.call(method, path, { key: otherKey, ...(body ? { body } : {}) })).status, `${method} ${path}`).toBe(404);
    }
    expect((await stack.call('GET', '/api/v1/automation/not-a-uuid')).status).toBe(404);
    const list = await json<{ items: { id: string }[] }>(await stack.call('GET', '/api/v1/automation', { key: otherKey }));
    expect(list.items).toEqual([]);
    await untilStatus(id, 'succeeded');
  });

  it('lists runs newest first with status and target filters and cursor pages', async () => {
    const all = await json<{ items: { id: string; number: number; status: string; targets: string[] }[]; nextCursor: string | null }>(
      await stack.call('GET', '/api/v1/automation?limit=200'),
    );
    expect(all.items.length).toBeGreaterThanOrEqual(5);
    expect(all.items.map((r) => r.number)).toEqual([...all.items.map((r) => r.number)].sort((a, b) => b - a));
    const rejected = await json<{ items: { status: string }[] }>(await stack.call('GET', '/api/v1/automation?status=rejected'));
    expect(rejected.items.length).toBeGreaterThan(0);
    expect(rejected.items.every((r) => r.status === 'rejected')).toBe(true);
    const web02 = await json<{ items: { targets: string[] }[] }>(await stack.call('GET', '/api/v1/automation?target=web-02'));
    expect(web02.items.length).toBe(all.items.filter((r) => r.targets.includes('web-02')).length);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = await json(
        await stack.call('GET', `/api/v1/automation?limit=2${cursor ? `&cursor=${cursor}` : ''}`),
      );
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.items.map((r) => r.id));
    expect((await stack.call('GET', '/api/v1/automation?status=bogus')).status).toBe(422);
    expect((await stack.call('GET', '/api/v1/automation?cursor=AAAA')).status).toBe(422);
  });
});
