import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { createTestDatabase } from '../support/postgres.js';
import { sampleCmdbItem, startTestStack, waitFor, type TestStack } from '../support/stack.js';
import { testTemporal, testWorkflowBundlePath } from '../support/temporal.js';
import { startWorkerProcess } from '../support/worker-process.js';

// Fault tolerance: the worker runs as its own process (`npm run worker`) on PostgreSQL. While the
// result write is blocked on a table lock, the worker is SIGKILLed; a new worker finishes the run,
// and the idempotency keys keep every side effect single.

let database: { url: string; drop(): Promise<void> };
let store: Store;
let stack: TestStack;
const workers: ChildProcess[] = [];

async function startWorker(taskQueue: string): Promise<ChildProcess> {
  const child = await startWorkerProcess({
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: testTemporal().address,
    TEMPORAL_NAMESPACE: testTemporal().namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    INFRAAI_WORKFLOW_BUNDLE: testWorkflowBundlePath(),
  });
  workers.push(child);
  return child;
}

beforeAll(async () => {
  database = await createTestDatabase();
  store = await createStore({ kind: 'postgres', url: database.url });
  stack = await startTestStack({ store });
});

afterAll(async () => {
  for (const child of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await stack?.close();
  await store?.close();
  await database?.drop();
});

describe('worker crash mid-step', () => {
  it('completes the run on a new worker with no side effect applied twice', async () => {
    expect((await stack.call('POST', '/api/v1/cmdb', { body: sampleCmdbItem('api-01') })).status).toBe(201);

    // Hold a lock that makes the result write wait, so the worker is killed inside that step.
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE results IN SHARE MODE');

    const first = await startWorker(stack.taskQueue);
    const incident = (await (
      await stack.call('POST', '/api/v1/incidents', { body: { title: 'pods restarting', severity: 'high', tagId: 'api-01' } })
    ).json()) as {
      id: string;
      workflowId: string;
    };
    // Observed from another session: pg_stat_activity is snapshotted once per transaction.
    const observer = new pg.Client({ connectionString: database.url });
    await observer.connect();
    await waitFor(async () => {
      const { rows } = await observer.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO results%'`,
      );
      return rows[0].n > 0;
    }, 'the result write to block on the lock');

    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    // The dead worker's statement may still complete once the lock goes: exactly the duplicate risk.
    await blocker.query('COMMIT');
    await blocker.end();
    await observer.end();

    await startWorker(stack.taskQueue);
    await stack.client.workflow.getHandle(incident.workflowId).result();

    const tenant = (await store.tenants.getBySlug('acme'))!;
    expect((await store.incidents.get(tenant.id, incident.id))?.status).toBe('escalated');
    const results = await store.results.listForIncident(tenant.id, incident.id);
    expect(results).toHaveLength(1);
    const logs = await store.jobLogs.listForIncident(tenant.id, incident.id);
    expect(logs.map((log) => log.action)).toEqual(['incident.investigate', 'incident.result']);

    const timeline = (await (await stack.call('GET', `/api/v1/incidents/${incident.id}/timeline`)).json()) as {
      entries: { step: string; attempt: number; outcome: string }[];
    };
    const write = timeline.entries.find((entry) => entry.step === 'writeIncidentResult');
    expect(write).toMatchObject({ outcome: 'completed' });
    // The killed worker's attempt, then the new worker's one.
    expect(write!.attempt).toBe(2);
  });
});
