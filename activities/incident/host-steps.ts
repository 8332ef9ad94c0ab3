import { ApplicationFailure, Context } from '@temporalio/activity';
import { classifyCommand, policyForItem } from '../../core/command-policy.js';
import { FAILURE } from '../../core/contracts/failures.js';
import type { HostCommandRun, ProposedAction } from '../../core/remediation.js';
import type { IncidentRunDeps, TargetRef } from './deps.js';
import { FIX_TIMEOUT_MS, OUTPUT_CAP_BYTES, READ_TIMEOUT_MS, toRun, type HostSessions } from './host-session.js';

// Host step group: read-only diagnostics, the guarded fixes, and verification, each over one SSH
// session and each checked by the command policy again, whatever the plan said.

/** How often the fix step heartbeats: well inside SSH_CHANGE_STEP's 20 s heartbeat timeout. */
export const FIX_HEARTBEAT_INTERVAL_MS = 5_000;

/** The fix step's heartbeat details: which fix, what it is doing, and the command that started. */
export interface FixProgress {
  action: string;
  phase: 'connecting' | 'guard' | 'fix';
  command: string | null;
}

export function createHostStepActivities(
  { store, commandPolicy = {} }: IncidentRunDeps,
  { itemOf, withSession, runReadOnly }: HostSessions,
) {
  /**
   * The durable "this fix has started" marker of a fix without a guard: one job log row per
   * workflow and fix (the job log is idempotent by key). Written just before the command runs, so
   * an attempt lost before that point leaves none and its retry runs the fix normally.
   */
  async function markUnguardedFixStarted(
    input: TargetRef & { incidentId?: string; action: ProposedAction; allowedBy: string },
    hostname: string,
  ): Promise<void> {
    const info = Context.current().info;
    const workflowId = info.workflowExecution?.workflowId;
    if (!workflowId) throw ApplicationFailure.nonRetryable('A fix must run inside a workflow', FAILURE.NotInWorkflow);
    const { action } = input;
    const { created, log } = await store.jobLogs.append(input.tenantId, {
      incidentId: input.incidentId ?? null,
      idempotencyKey: `${workflowId}/fix/${action.id}`,
      // The row records that the fix was started (which succeeded), not how the fix went.
      action: 'incident.fix-started',
      target: `host:${hostname}`,
      status: 'succeeded',
      detail: { actionId: action.id, command: action.command, allowedBy: input.allowedBy, attempt: info.attempt },
    });
    if (created) return;
    const last = info.heartbeatDetails as FixProgress | undefined;
    const heard = last?.phase ? ` (its last heartbeat: ${last.phase})` : '';
    throw ApplicationFailure.nonRetryable(
      `attempt ${String(log.detail.attempt ?? '?')} started it at ${log.createdAt} and was lost${heard}; with no guard to check, whether it took effect is unknown`,
      FAILURE.FixOutcomeUnknown,
    );
  }

  return {
    /** Runs read-only diagnostics concurrently on the target over SSH. */
    async runDiagnostics(input: TargetRef & { commands: { id: string; command: string }[] }): Promise<HostCommandRun[]> {
      return runReadOnly(input, 'diagnostic', input.commands);
    },

    /**
     * Applies one fix. It heartbeats from its first line (connect and guard can be slow too) with
     * what it is doing, so a lost worker is noticed within the heartbeat timeout and the details
     * say which command had started. The guard runs first: when the fix is already in place (a
     * retry after a crash, or a concurrent fix) nothing is run twice. A fix without a guard leaves
     * a durable marker before it starts; a retry that finds the marker cannot know whether the
     * fix took effect and refuses to run it again (FixOutcomeUnknown). The policy is checked again here.
     */
    async applyRemediationAction(
      input: TargetRef & { incidentId?: string; action: ProposedAction; allowedBy: string },
    ): Promise<{ outcome: 'applied' | 'already-in-place' | 'failed'; runs: HostCommandRun[] }> {
      const { action, allowedBy } = input;
      const context = Context.current();
      let progress: FixProgress = { action: action.id, phase: 'connecting', command: null };
      const beat = (next?: FixProgress) => {
        if (next) progress = next;
        context.heartbeat(progress);
      };
      beat();
      const beating = setInterval(beat, FIX_HEARTBEAT_INTERVAL_MS);
      try {
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
        return await withSession(input, item, async (session) => {
          const runs: HostCommandRun[] = [];
          if (action.guard) {
            beat({ action: action.id, phase: 'guard', command: action.guard });
            const [guard] = await session.run([action.guard], { timeoutMs: READ_TIMEOUT_MS, maxOutputBytes: OUTPUT_CAP_BYTES });
            runs.push(toRun('guard', action.id, 'policy:read-only', guard!));
            if (guard!.exitCode === 0) return { outcome: 'already-in-place', runs };
          } else {
            await markUnguardedFixStarted(input, item.hostname);
          }
          beat({ action: action.id, phase: 'fix', command: action.command });
          const [fix] = await session.run([action.command], { timeoutMs: FIX_TIMEOUT_MS, maxOutputBytes: OUTPUT_CAP_BYTES });
          runs.push(toRun('fix', action.id, allowedBy, fix!));
          return { outcome: fix!.exitCode === 0 ? 'applied' : 'failed', runs };
        });
      } finally {
        clearInterval(beating);
      }
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
