import { labTestProblems } from './prerequisites.js';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmdbItemFor } from '../../lab/cli.js';
import { FAULT_SPECS, injectFault } from '../../lab/faults.js';
import { startCount, startLab, type Lab } from '../../lab/lab.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { createTestDatabase } from '../support/postgres.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';
import { testTemporal, testWorkflowBundlePath } from '../support/temporal.js';
import { startWorkerProcess } from '../support/worker-process.js';

// Crash safety on a real host: the worker process is SIGKILLed while a fix runs on the host (inside
// its `sleep 2`), a new worker picks the run up after the heartbeat timeout, and the host shows the
// fix applied exactly once (labsvc records each start).

const problems = labTestProblems();
const secretsKey = randomBytes(32);

describe.skipIf(problems.length > 0)(`crash safety on a lab host${problems.length ? ` (skipped: ${problems.join('; ')})` : ''}`, () => {
  let lab: Lab;
  let database: { url: string; drop(): Promise<void> };
  let store: Store;
  let stack: TestStack;
  const workers: ChildProcess[] = [];

  async function startWorker(): Promise<ChildProcess> {
    const child = await startWorkerProcess({
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: testTemporal().address,
      TEMPORAL_NAMESPACE: testTemporal().namespace,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      INFRAAI_WORKFLOW_BUNDLE: testWorkflowBundlePath(),
      INFRAAI_SECRETS_KEY: secretsKey.toString('base64'),
    });
    workers.push(child);
    return child;
  }

  beforeAll(async () => {
    lab = await startLab({ hosts: 1 });
    database = await createTestDatabase();
    store = await createStore({ kind: 'postgres', url: database.url });
    stack = await startTestStack({ store, secretsKey, remediation: { approvalTimeoutMs: 120_000, autoApproveLowRisk: true } });
    expect(
      (
        await stack.call('POST', '/api/v1/credentials/ssh', {
          body: { name: 'lab', username: 'root', privateKey: await readFile(lab.clientKeyPath, 'utf8') },
        })
      ).status,
    ).toBe(201);
    expect((await stack.call('POST', '/api/v1/cmdb', { body: cmdbItemFor(lab.hosts[0]!) })).status).toBe(201);
  });

  afterAll(async () => {
    for (const child of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await stack?.close();
    await store?.close();
    await database?.drop();
    await lab?.stop();
  });

  it('a worker SIGKILLed during the fix: a new worker completes the run and the fix is applied once', async () => {
    const host = lab.hosts[0]!;
    await injectFault(host, 'port-in-use');
    const starts = await startCount(host);
    const first = await startWorker();
    const created = await stack.call('POST', '/api/v1/incidents', {
      body: { title: 'labsvc cannot start on lab1', description: 'bind: address already in use', severity: 'high', tagId: 'lab1' },
    });
    const { id, workflowId } = (await created.json()) as { id: string; workflowId: string };
    const handle = stack.client.workflow.getHandle(workflowId);

    const waiting = await waitFor(
      async () => {
        const incident = (await (await stack.call('GET', `/api/v1/incidents/${id}`)).json()) as {
          status: string;
          approval: { planHash: string } | null;
        };
        return incident.status === 'awaiting_approval' ? incident : null;
      },
      'the approval request',
      60_000,
    );
    expect((await stack.call('POST', `/api/v1/incidents/${id}/approve`, { body: { planHash: waiting.approval!.planHash } })).status).toBe(
      200,
    );

    // Kill the worker while the fix (kill stray ; sleep 2 ; start) is on the host.
    await waitFor(
      async () =>
        (await handle.query<{ currentStep: string | null }>('incidentState')).currentStep === 'applyRemediationAction' ? true : null,
      'the fix step',
      30_000,
      25,
    );
    await new Promise((resolve) => setTimeout(resolve, 700));
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    await startWorker();
    const done = await waitFor(
      async () => {
        const incident = (await (await stack.call('GET', `/api/v1/incidents/${id}`)).json()) as {
          status: string;
          commands: { phase: string; command: string; exitCode: number | null }[];
          result: { summary: string } | null;
        };
        return ['resolved', 'escalated', 'failed'].includes(incident.status) ? incident : null;
      },
      'the run to finish on the new worker',
      120_000,
    );
    expect(done.status, JSON.stringify(done, null, 2)).toBe('resolved');
    expect((await FAULT_SPECS['port-in-use'].check(host)).healthy).toBe(true);
    expect(await startCount(host)).toBe(starts + 1);
    // The lost attempt recorded nothing; the retry's guard decides. Whether the command the dead
    // worker started ran to its end on the host depends on when sshd noticed the dropped connection,
    // so the record takes one of two forms, and it must agree with the host (one start, above):
    // the guard found the service running and no fix ran again, or it did not and the fix ran once.
    const guards = done.commands.filter((c) => c.phase === 'guard');
    const fixes = done.commands.filter((c) => c.phase === 'fix');
    expect(guards).toEqual([expect.objectContaining({ command: expect.stringContaining('supervisorctl status labsvc') })]);
    if (guards[0]!.exitCode === 0) {
      expect(fixes).toEqual([]);
      expect(done.result?.summary).toContain('already-in-place');
    } else {
      expect(fixes).toEqual([
        expect.objectContaining({ command: expect.stringMatching(/^kill -TERM \d+ ; sleep 2 ; supervisorctl start labsvc$/), exitCode: 0 }),
      ]);
      expect(done.result?.summary).toContain(': applied');
    }

    // The history shows the fix step's first attempt lost with the worker and a second one.
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const retried = events.flatMap((e) => {
      const attempt = e.activityTaskStartedEventAttributes?.attempt ?? 1;
      if (attempt <= 1) return [];
      const scheduledId = String(e.activityTaskStartedEventAttributes!.scheduledEventId);
      const scheduled = events.find((s) => String(s.eventId) === scheduledId);
      return [scheduled?.activityTaskScheduledEventAttributes?.activityType?.name];
    });
    expect(retried).toEqual(['applyRemediationAction']);
  });
});
