import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createHostSessions } from '../../activities/incident/host-session.js';
import { createHostStepActivities, FIX_HEARTBEAT_INTERVAL_MS, type FixProgress } from '../../activities/incident/host-steps.js';
import type { IncidentRunDeps } from '../../activities/incident/deps.js';
import { SshConnectionError, type CommandOutcome, type HostAccess, type SshSession } from '../../adapters/ssh/port.js';
import type { JobLogInput, Store } from '../../adapters/store/port.js';
import { FAILURE } from '../../core/contracts/failures.js';
import type { CmdbItem, JobLog } from '../../core/incident.js';
import type { ProposedAction } from '../../core/remediation.js';

// The fix activity on its own, in Temporal's mock activity context (which records heartbeats):
// it heartbeats before anything slow, names the command that started, and never runs a fix
// without a guard twice when an earlier attempt started it and was lost.

const item = { tagId: 'web-01', hostname: 'web-01.internal', address: '10.0.0.1', port: 22 } as CmdbItem;

function memoryStore(): { store: Store; logs: JobLog[] } {
  const logs: JobLog[] = [];
  const store = {
    cmdb: { get: async () => item },
    jobLogs: {
      append: async (tenantId: string, input: JobLogInput) => {
        const found = logs.find((l) => l.tenantId === tenantId && l.idempotencyKey === input.idempotencyKey);
        if (found) return { log: found, created: false };
        const log: JobLog = { id: String(logs.length + 1), tenantId, ...input, createdAt: new Date().toISOString() };
        logs.push(log);
        return { log, created: true };
      },
    },
  } as unknown as Store;
  return { store, logs };
}

const outcome = (command: string, exitCode: number): CommandOutcome => ({
  command,
  exitCode,
  signal: null,
  stdout: '',
  stderr: '',
  truncated: false,
  timedOut: false,
  durationMs: 1,
});

function activities(store: Store, hostAccess: HostAccess) {
  const deps = { store, hostAccess, runbooks: [], knowledge: null } as unknown as IncidentRunDeps;
  return createHostStepActivities(deps, createHostSessions(deps));
}

const fix = (overrides: Partial<ProposedAction> = {}): ProposedAction => ({
  id: 'start-service',
  source: 'runbook',
  command: 'supervisorctl start web',
  guard: 'supervisorctl status web | grep -q RUNNING',
  risk: 'low',
  reason: 'start it',
  policyReasons: [],
  rollback: null,
  ...overrides,
});

const input = (action: ProposedAction) => ({ tenantId: 't1', tagId: 'web-01', incidentId: 'i1', action, allowedBy: 'approval:alice' });
const inWorkflow = (attempt = 1, heartbeatDetails?: FixProgress) =>
  new MockActivityEnvironment(
    { workflowExecution: { workflowId: 'incident-i1', runId: 'r1' }, attempt, heartbeatDetails },
    // The failures below are the point of the tests: keep them out of the output.
    { logger: new DefaultLogger('ERROR') },
  );

afterEach(() => {
  vi.useRealTimers();
});

describe('applyRemediationAction heartbeats', () => {
  it('heartbeats before it connects, keeps heartbeating while the connect hangs, and names the command that started', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const events: string[] = [];
    let connect!: () => void;
    const connected = new Promise<void>((resolve) => (connect = resolve));
    const session: SshSession = {
      hostKeyFingerprint: 'SHA256:x',
      run: async ([command]) => {
        events.push(`run ${command}`);
        return [outcome(command!, command!.includes('grep') ? 1 : 0)];
      },
      close: () => undefined,
    };
    const hostAccess: HostAccess = {
      connect: async () => {
        events.push('connect');
        await connected;
        return session;
      },
    };
    const env = inWorkflow();
    env.on('heartbeat', (d: FixProgress) => events.push(`heartbeat ${d.action} ${d.phase} ${d.command ?? '-'}`));
    const running = env.run(activities(memoryStore().store, hostAccess).applyRemediationAction, input(fix()));

    await vi.waitFor(() => expect(events).toContain('connect'));
    // A connect slower than the preset's 20 s heartbeat timeout: the beats go on meanwhile.
    vi.advanceTimersByTime(4 * FIX_HEARTBEAT_INTERVAL_MS);
    connect();
    await expect(running).resolves.toMatchObject({ outcome: 'applied' });

    expect(events).toEqual([
      'heartbeat start-service connecting -',
      'connect',
      ...Array<string>(4).fill('heartbeat start-service connecting -'),
      'heartbeat start-service guard supervisorctl status web | grep -q RUNNING',
      'run supervisorctl status web | grep -q RUNNING',
      'heartbeat start-service fix supervisorctl start web',
      'run supervisorctl start web',
    ]);
  });
});

describe('applyRemediationAction without a guard', () => {
  const llmFix = fix({ id: 'llm-1', source: 'llm', command: 'supervisorctl restart web', guard: null, risk: 'high' });

  it('refuses to run the fix again when an earlier attempt started it and was lost', async () => {
    const { store, logs } = memoryStore();
    const ran: string[] = [];
    const hostAccess: HostAccess = {
      connect: async () => ({
        hostKeyFingerprint: 'SHA256:x',
        run: async ([command]) => {
          ran.push(command!);
          throw new SshConnectionError('connection reset while the command ran');
        },
        close: () => undefined,
      }),
    };
    const steps = activities(store, hostAccess);

    const first = await inWorkflow(1)
      .run(steps.applyRemediationAction, input(llmFix))
      .catch((err: unknown) => err);
    expect(first).toBeInstanceOf(ApplicationFailure);
    expect(first).toMatchObject({ type: FAILURE.HostUnreachable, nonRetryable: false });

    const second = await inWorkflow(2, { action: 'llm-1', phase: 'fix', command: 'supervisorctl restart web' })
      .run(steps.applyRemediationAction, input(llmFix))
      .catch((err: unknown) => err);
    expect(second).toMatchObject({ type: FAILURE.FixOutcomeUnknown, nonRetryable: true });
    expect((second as Error).message).toContain('attempt 1 started it');
    expect((second as Error).message).toContain('its last heartbeat: fix');

    expect(ran).toEqual(['supervisorctl restart web']);
    expect(logs).toMatchObject([
      {
        incidentId: 'i1',
        idempotencyKey: 'incident-i1/fix/llm-1',
        action: 'incident.fix-started',
        detail: { actionId: 'llm-1', command: 'supervisorctl restart web', attempt: 1 },
      },
    ]);
  });

  it('runs the fix on a retry when the lost attempt never got as far as starting it', async () => {
    const { store, logs } = memoryStore();
    const ran: string[] = [];
    let connects = 0;
    const hostAccess: HostAccess = {
      connect: async () => {
        connects += 1;
        if (connects === 1) throw new SshConnectionError('connect ETIMEDOUT');
        return {
          hostKeyFingerprint: 'SHA256:x',
          run: async ([command]) => {
            ran.push(command!);
            return [outcome(command!, 0)];
          },
          close: () => undefined,
        };
      },
    };
    const steps = activities(store, hostAccess);
    await expect(inWorkflow(1).run(steps.applyRemediationAction, input(llmFix))).rejects.toMatchObject({ type: FAILURE.HostUnreachable });
    await expect(inWorkflow(2).run(steps.applyRemediationAction, input(llmFix))).resolves.toMatchObject({ outcome: 'applied' });
    expect(ran).toEqual(['supervisorctl restart web']);
    expect(logs).toHaveLength(1);
  });
});
