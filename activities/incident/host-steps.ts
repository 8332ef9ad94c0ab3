import { ApplicationFailure, Context } from '@temporalio/activity';
import type { CommandOutcome } from '../../adapters/ssh/port.js';
import { classifyCommand, policyForItem } from '../../core/command-policy.js';
import { FAILURE } from '../../core/contracts/failures.js';
import type { HostCommandRun, ProposedAction } from '../../core/remediation.js';
import type { IncidentRunDeps, TargetRef } from './deps.js';
import { FIX_TIMEOUT_MS, OUTPUT_CAP_BYTES, READ_TIMEOUT_MS, toRun, type HostSessions } from './host-session.js';

// Host step group: read-only diagnostics, the guarded fixes, and verification, each over one SSH
// session and each checked by the command policy again, whatever the plan said.

export function createHostStepActivities({ commandPolicy = {} }: IncidentRunDeps, { itemOf, withSession, runReadOnly }: HostSessions) {
  return {
    /** Runs read-only diagnostics concurrently on the target over SSH. */
    async runDiagnostics(input: TargetRef & { commands: { id: string; command: string }[] }): Promise<HostCommandRun[]> {
      return runReadOnly(input, 'diagnostic', input.commands);
    },

    /**
     * Applies one fix. Its guard runs first: when the fix is already in place (a retry after a
     * crash, or a concurrent fix) nothing is run twice. The policy is checked again here.
     */
    async applyRemediationAction(
      input: TargetRef & { action: ProposedAction; allowedBy: string },
    ): Promise<{ outcome: 'applied' | 'already-in-place' | 'failed'; runs: HostCommandRun[] }> {
      const { action, allowedBy } = input;
      const item = await itemOf(input);
      // Writes are rated by destination: the CMDB item's data and log paths may be low, nothing else.
      const verdict = classifyCommand(action.command, policyForItem(commandPolicy, item));
      if (verdict.risk === 'forbidden')
        throw ApplicationFailure.nonRetryable(
          `Refused forbidden command '${action.command}': ${verdict.reasons.join('; ')}`,
          FAILURE.CommandRefused,
        );
      if ((verdict.risk === 'high' || action.risk === 'high') && !allowedBy.startsWith('approval:')) {
        throw ApplicationFailure.nonRetryable(`'${action.command}' is high risk and was not approved`, FAILURE.ApprovalRequired);
      }
      if (action.guard && classifyCommand(action.guard, commandPolicy).risk !== 'read-only') {
        throw ApplicationFailure.nonRetryable(`Guard '${action.guard}' is not read-only`, FAILURE.CommandRefused);
      }
      return withSession(input, item, async (session) => {
        const runs: HostCommandRun[] = [];
        if (action.guard) {
          const [guard] = await session.run([action.guard], { timeoutMs: READ_TIMEOUT_MS, maxOutputBytes: OUTPUT_CAP_BYTES });
          runs.push(toRun('guard', action.id, 'policy:read-only', guard!));
          if (guard!.exitCode === 0) return { outcome: 'already-in-place', runs };
        }
        // Heartbeats while the fix runs: a worker that dies mid-fix is noticed within the heartbeat
        // timeout (not the five-minute step timeout), and the retry's guard sees what was done.
        const context = Context.current();
        context.heartbeat({ action: action.id });
        const beat = setInterval(() => context.heartbeat({ action: action.id }), 5_000);
        let fix: CommandOutcome | undefined;
        try {
          [fix] = await session.run([action.command], { timeoutMs: FIX_TIMEOUT_MS, maxOutputBytes: OUTPUT_CAP_BYTES });
        } finally {
          clearInterval(beat);
        }
        runs.push(toRun('fix', action.id, allowedBy, fix!));
        return { outcome: fix!.exitCode === 0 ? 'applied' : 'failed', runs };
      });
    },

    /** Re-runs the runbook's verification checks; each must exit 0 and match its expectation. */
    async verifyRemediation(
      input: TargetRef & { checks: { id: string; command: string; expect: string }[] },
    ): Promise<{ passed: boolean; runs: HostCommandRun[]; failures: string[] }> {
      const runs = await runReadOnly(input, 'verification', input.checks);
      const failures: string[] = [];
      runs.forEach((run, i) => {
        const check = input.checks[i]!;
        if (run.exitCode !== 0 || !new RegExp(check.expect, 'im').test(run.output))
          failures.push(`${check.id}: expected /${check.expect}/ (exit ${run.exitCode ?? 'none'})`);
      });
      return { passed: input.checks.length > 0 && failures.length === 0, runs, failures };
    },
  };
}
