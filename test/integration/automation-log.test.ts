import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPlaybookActivities } from '../../activities/automation/run-playbook.js';
import {
  RunnerExecutionNotFoundError,
  type AnsibleRunner,
  type RunHooks,
  type RunnerEvent,
  type RunnerEventPage,
  type RunnerInput,
  type RunnerOutcome,
} from '../../adapters/ansible-runner/port.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { PrometheusTelemetry } from '../../adapters/telemetry/prometheus.js';
import { FAILURE } from '../../core/contracts/failures.js';
import { addAutomationHost, fakeArtifacts, fakeToolkit, fakeVault, FakeAnsibleRunner, hashArtifacts } from '../support/automation-fakes.js';

// The run step's log while the playbook runs: the runPlaybook activity in Temporal's mock activity
// context over a real (PGlite) store, with a runner whose events appear only when the test says.
// What a user sees is the store's log (what GET /api/v1/automation/{id}/log pages): lines are there
// before the runner answers, a retried attempt adds no line twice, and no attempt writes after it
// answered.

const FOLLOW_MS = 20;

/** One execution per run key whose events the test emits; `run` waits until it is ended or broken. */
class SteppedRunner implements AnsibleRunner {
  readonly kind = 'local' as const;
  private readonly executions = new Map<string, { events: RunnerEvent[]; finished: boolean }>();
  private waiting: { resolve: (outcome: RunnerOutcome) => void; reject: (err: Error) => void; runKey: string } | null = null;

  async run(input: RunnerInput, hooks: RunHooks): Promise<RunnerOutcome> {
    const reattached = this.executions.has(input.runKey);
    if (!reattached) this.executions.set(input.runKey, { events: [], finished: false });
    const execution = this.executions.get(input.runKey)!;
    const outcome = (status: RunnerOutcome['status']): RunnerOutcome => ({
      runKey: input.runKey,
      status,
      exitCode: status === 'successful' ? 0 : null,
      recap: null,
      progress: { tasksDone: 1, tasksTotal: 1, currentTask: null, events: execution.events.length },
      logTail: '',
      eventCount: execution.events.length,
      reattached,
      detail: null,
    });
    if (execution.finished) return outcome('successful');
    return new Promise<RunnerOutcome>((resolve, reject) => {
      this.waiting = { resolve, reject, runKey: input.runKey };
      hooks.signal.addEventListener('abort', () => {
        this.emit(input.runKey, 'INTERRUPTED');
        execution.finished = true;
        resolve(outcome('cancelled'));
      });
    }).then((answer) => (answer.status === 'successful' ? outcome('successful') : answer));
  }

  /** The execution prints one event per text. */
  emit(runKey: string, ...texts: string[]): void {
    const execution = this.executions.get(runKey)!;
    for (const stdout of texts) {
      execution.events.push({
        seq: execution.events.length + 1,
        type: 'verbose',
        uuid: null,
        created: null,
        play: null,
        task: null,
        host: null,
        stdout,
        changed: null,
        failed: null,
      });
    }
  }

  /** The execution ends; the waiting `run` answers. */
  finish(runKey: string): void {
    this.executions.get(runKey)!.finished = true;
    this.waiting?.resolve({ status: 'successful' } as RunnerOutcome);
  }

  /** The waiting `run` loses the execution (the execution goes on). */
  breakConnection(): void {
    this.waiting?.reject(new Error('lost the connection to the runner'));
  }

  async readEvents(runKey: string, cursor: string | null, limit: number): Promise<RunnerEventPage> {
    const execution = this.executions.get(runKey);
    if (!execution) throw new RunnerExecutionNotFoundError(`No execution for run key '${runKey}'.`);
    const from = cursor === null ? 0 : Number(cursor);
    const events = execution.events.slice(from, from + limit);
    const next = from + events.length;
    return { events, cursor: String(next), end: execution.finished && next === execution.events.length };
  }

  async cleanup(): Promise<void> {}
}

let dataDir: string;
let store: Store;
let tenantId: string;
let appendCalls = 0;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'infraai-automation-log-'));
  const opened = await createStore({ kind: 'pglite', dataDir });
  // Counts the log writes: none may come after an attempt answered.
  const appendLog = opened.automation.appendLog.bind(opened.automation);
  opened.automation.appendLog = (...args) => {
    appendCalls += 1;
    return appendLog(...args);
  };
  store = opened;
  tenantId = (await store.tenants.ensure('acme')).id;
  await addAutomationHost(store, tenantId, 'web-01', '10.98.0.1');
});

afterAll(async () => {
  await store?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function approvedRun(): Promise<{ runId: string; workflowId: string; artifactsHash: string }> {
  const hosts = [{ tagId: 'web-01', hostname: 'web-01.lab.internal', address: '10.98.0.1', port: 22, user: 'ops', credential: 'ops-key' }];
  const { run } = await store.automation.create(tenantId, {
    id: crypto.randomUUID(),
    request: 'install nginx',
    targets: ['web-01'],
    checkMode: false,
    createdBy: null,
  });
  const artifacts = fakeArtifacts('install nginx', hosts, false);
  const artifactsHash = hashArtifacts(artifacts);
  await store.automation.update(tenantId, run.id, { artifacts, artifactsHash, status: 'running' });
  return { runId: run.id, workflowId: run.workflowId, artifactsHash };
}

function attempt(runner: AnsibleRunner, workflowId: string, attemptNumber: number, telemetry?: PrometheusTelemetry) {
  const toolkit = { ...fakeToolkit(new FakeAnsibleRunner()), runner };
  const activities = createPlaybookActivities({
    store,
    vault: fakeVault(),
    automation: toolkit,
    automationLogFollowMs: FOLLOW_MS,
    telemetry: telemetry ?? null,
  });
  const env = new MockActivityEnvironment(
    { workflowExecution: { workflowId, runId: `r${attemptNumber}` }, attempt: attemptNumber, scheduledTimestampMs: Date.now() },
    { logger: new DefaultLogger('ERROR') },
  );
  return { env, runPlaybook: activities.runPlaybook };
}

const storedLines = async (runId: string) => (await store.automation.readLog(tenantId, runId, 0, 1000)).lines;
const storedTexts = async (runId: string) => (await storedLines(runId)).map((line) => line.text);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The sample of one series in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('the playbook log while the run goes on', () => {
  it('stores lines before the runner answers, redacted; a retried attempt rewrites none twice and nothing is written after an attempt answered', async () => {
    const runner = new SteppedRunner();
    const telemetry = new PrometheusTelemetry();
    const { runId, workflowId, artifactsHash } = await approvedRun();
    const input = { tenantId, runId, artifactsHash, checkMode: false, timeoutMs: 60_000 };

    // Attempt 1: its events reach the store while `run` has not answered.
    const first = attempt(runner, workflowId, 1, telemetry);
    let settled = false;
    const firstResult = first.env.run(first.runPlaybook, input).finally(() => (settled = true));
    await vi.waitFor(() => expect(runner.readEvents(workflowId, null, 1)).resolves.toBeDefined());
    runner.emit(workflowId, 'PLAY [all] ***', 'TASK [install nginx] ***\nok: [web-01] password=hunter2', 'key=-----KEY ops-key-----');
    await vi.waitFor(async () => expect(await storedTexts(runId)).toHaveLength(4), { timeout: 5000 });
    expect(settled).toBe(false);
    const midRun = await storedTexts(runId);
    expect(midRun.slice(0, 2)).toEqual(['PLAY [all] ***', 'TASK [install nginx] ***']);
    expect(midRun.join('\n')).not.toMatch(/hunter2|-----KEY ops-key-----/);
    expect((await store.automation.get(tenantId, runId))?.logLines).toBe(4);

    // The attempt loses the runner: it fails retryably, and its follower writes nothing afterwards.
    runner.breakConnection();
    const failure = await firstResult.catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe(FAILURE.RunnerUnavailable);
    const writesAtAnswer = appendCalls;
    runner.emit(workflowId, 'TASK [start nginx] ***', 'changed: [web-01]');
    await sleep(FOLLOW_MS * 10);
    expect(appendCalls).toBe(writesAtAnswer);
    expect(await storedTexts(runId)).toHaveLength(4);

    // Attempt 2 re-attaches, reads from the first event again, and catches up before the runner answers.
    const second = attempt(runner, workflowId, 2, telemetry);
    settled = false;
    const secondResult = second.env.run(second.runPlaybook, input).finally(() => (settled = true));
    await vi.waitFor(async () => expect(await storedTexts(runId)).toHaveLength(6), { timeout: 5000 });
    expect(settled).toBe(false);
    runner.emit(workflowId, 'PLAY RECAP ***\nweb-01 : ok=2 changed=1 unreachable=0 failed=0');
    runner.finish(workflowId);
    const outcome = (await secondResult) as Awaited<ReturnType<typeof second.runPlaybook>>;

    expect(outcome).toMatchObject({ runnerStatus: 'successful', logLines: 8 });
    expect(outcome.logTail).toMatch(/PLAY RECAP \*\*\*\nweb-01 : ok=2/);
    const lines = await storedLines(runId);
    expect(lines.map((line) => line.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(lines.map((line) => line.text)).toEqual([
      'PLAY [all] ***',
      'TASK [install nginx] ***',
      midRun[2],
      midRun[3],
      'TASK [start nginx] ***',
      'changed: [web-01]',
      'PLAY RECAP ***',
      'web-01 : ok=2 changed=1 unreachable=0 failed=0',
    ]);
    expect((await store.automation.get(tenantId, runId))?.logLines).toBe(8);
    const writesAtEnd = appendCalls;
    await sleep(FOLLOW_MS * 10);
    expect(appendCalls).toBe(writesAtEnd);

    // Metrics: every line counted once across both attempts; the playbook timed once, by the runner's status.
    const { body } = await telemetry.render();
    expect(sample(body, 'infraai_automation_log_lines_stored_total')).toBe(8);
    expect(sample(body, 'infraai_automation_playbook_duration_seconds_count{status="successful"}')).toBe(1);
  });

  it('a cancelled attempt stores the log to the runner’s last line, then reports the cancellation and writes nothing more', async () => {
    const runner = new SteppedRunner();
    const { runId, workflowId, artifactsHash } = await approvedRun();
    const only = attempt(runner, workflowId, 1);
    const result = only.env.run(only.runPlaybook, { tenantId, runId, artifactsHash, checkMode: false, timeoutMs: 60_000 });
    await vi.waitFor(() => expect(runner.readEvents(workflowId, null, 1)).resolves.toBeDefined());
    runner.emit(workflowId, 'TASK [sleep] ***');
    await vi.waitFor(async () => expect(await storedTexts(runId)).toEqual(['TASK [sleep] ***']), { timeout: 5000 });
    only.env.cancel('CANCELLED');
    await expect(result).rejects.toBeInstanceOf(CancelledFailure);
    expect(await storedTexts(runId)).toEqual(['TASK [sleep] ***', 'INTERRUPTED']);
    const writes = appendCalls;
    await sleep(FOLLOW_MS * 10);
    expect(appendCalls).toBe(writes);
  });
});
