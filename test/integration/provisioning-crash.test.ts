import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { provisionBranch } from '../../core/contracts/provisioning.js';
import { createTestDatabase } from '../support/postgres.js';
import { fakeProvisioningToolkit, FileGitHost } from '../support/provisioning-fakes.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';
import { testTemporal, testWorkflowBundlePath } from '../support/temporal.js';

// Fault tolerance of provisioning: the worker runs as its own process on PostgreSQL; it is SIGKILLed
// after its pull request step wrote the pull request and before the step answered. A new worker
// retries the step, finds the pull request from the request's branch, and the request goes on: one
// branch, one commit, one pull request.

const WORKER = join(import.meta.dirname, '..', 'support', 'provisioning-worker.ts');
let database: { url: string; drop(): Promise<void> };
let store: Store;
let stack: TestStack;
let dir: string;
let gitFile: string;
const workers: ChildProcess[] = [];

function startWorker(mode: 'hang' | 'normal', onLine: (line: string) => void = () => undefined): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, gitFile, mode], {
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: testTemporal().address,
      TEMPORAL_NAMESPACE: testTemporal().namespace,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      INFRAAI_WORKFLOW_BUNDLE: testWorkflowBundlePath(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line) onLine(line);
      if (output.includes('provisioning worker ready')) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited early (${code}):\n${output}`)));
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  store = await createStore({ kind: 'postgres', url: database.url });
  dir = await mkdtemp(join(tmpdir(), 'infraai-provision-crash-'));
  gitFile = join(dir, 'git.json');
  stack = await startTestStack({
    store,
    provisioning: {
      toolkit: fakeProvisioningToolkit(),
      gitHost: new FileGitHost(gitFile),
      localReview: async (_tenantId, number, state) => new FileGitHost(gitFile).setState(number, state),
    },
  });
});

afterAll(async () => {
  for (const child of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await stack?.close();
  await store?.close();
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('provisioning worker crash between its branch and its pull request', () => {
  it(
    'opens exactly one pull request when the worker dies after writing it, and completes on a new worker',
    { timeout: 240_000 },
    async () => {
      let written = false;
      const first = await startWorker('hang', (line) => {
        if (line.startsWith('pull request written')) written = true;
      });
      const res = await stack.call('POST', '/api/v1/provision', { body: { request: 'staging s3 bucket crash' } });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      await waitFor(() => written, 'the first worker to write the pull request', 60_000);
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));

      const git = () => new FileGitHost(gitFile).load();
      const branch = provisionBranch(id);
      expect(git().pullRequests.filter((p) => p.head === branch)).toHaveLength(1);
      expect((await store.provisioning.get((await store.tenants.getBySlug('acme'))!.id, id))?.prNumber).toBeNull();

      // The killed attempt is retried after the step's start-to-close timeout, on the new worker.
      await startWorker('normal');
      const waiting = await waitFor(
        async () => {
          const detail = (await (await stack.call('GET', `/api/v1/provision/${id}`)).json()) as {
            status: string;
            pullRequest: { number: number } | null;
          };
          return detail.status === 'awaiting_review' ? detail : null;
        },
        'the request to await its review on the new worker',
        150_000,
      );
      expect(git().branches.has(branch)).toBe(true);
      expect(git().commits.filter((c) => c.requestId === id)).toHaveLength(1);
      expect(git().pullRequests.filter((p) => p.head === branch)).toEqual([
        expect.objectContaining({ number: waiting.pullRequest!.number }),
      ]);

      const review = await stack.call('POST', `/api/v1/provision/${id}/review`, { body: { decision: 'merged' } });
      expect(review.status).toBe(200);
      await waitFor(async () => {
        const detail = (await (await stack.call('GET', `/api/v1/provision/${id}`)).json()) as { status: string };
        return detail.status === 'completed';
      }, 'the request to complete');
      expect(git().pullRequests.filter((p) => p.head === branch)).toEqual([expect.objectContaining({ state: 'merged' })]);
    },
  );
});
