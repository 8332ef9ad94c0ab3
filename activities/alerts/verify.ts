import { setTimeout as delay } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE } from '../../core/contracts/failures.js';
import type { HostCommandRun } from '../../core/remediation.js';
import { createHostSessions } from '../incident/host-session.js';
import type { AlertActivityDeps } from './deps.js';

// Verification step of ssh_command: the policy's read-only `verify`, retried on the host until it
// exits 0 or its time is up (rated read-only again here, whatever the policy said when it was saved).

const VERIFY_INTERVAL_MS = 1_000;

export function createAlertVerifyActivities(deps: AlertActivityDeps) {
  const sessions = createHostSessions({ store: deps.store, hostAccess: deps.hostAccess, commandPolicy: deps.commandPolicy ?? {} });
  return {
    /**
     * Runs the read-only `verify` until it exits 0, at most `timeoutMs` (one attempt a second). An
     * unreachable host is one more failed attempt; a changed host key or refused credential ends it.
     */
    async verifyAlertCommand(input: { tenantId: string; tagId: string; verify: string; timeoutMs: number }): Promise<{
      passed: boolean;
      attempts: number;
      runs: HostCommandRun[];
    }> {
      const context = Context.current();
      const deadline = Date.now() + input.timeoutMs;
      const runs: HostCommandRun[] = [];
      for (let attempt = 1; ; attempt += 1) {
        context.heartbeat(attempt);
        let run: HostCommandRun;
        try {
          [run] = (await sessions.runReadOnly(input, 'verification', [{ id: `verify-${attempt}`, command: input.verify }])) as [
            HostCommandRun,
          ];
        } catch (err) {
          if (!(err instanceof ApplicationFailure) || err.type !== FAILURE.HostUnreachable) throw err;
          run = { ...unreachable(input.verify, attempt), output: err.message };
        }
        // The first attempt and the last two are kept: the whole series would only repeat itself.
        runs.push(run);
        if (runs.length > 3) runs.splice(1, 1);
        if (run.exitCode === 0) return { passed: true, attempts: attempt, runs };
        if (Date.now() + VERIFY_INTERVAL_MS > deadline) return { passed: false, attempts: attempt, runs };
        await delay(VERIFY_INTERVAL_MS);
      }
    },
  };
}

function unreachable(command: string, attempt: number): HostCommandRun {
  return {
    phase: 'verification',
    id: `verify-${attempt}`,
    command,
    allowedBy: 'policy:read-only',
    exitCode: null,
    output: '',
    truncated: false,
    timedOut: false,
    durationMs: 0,
    at: new Date().toISOString(),
  };
}
