import { condition, setHandler } from '@temporalio/workflow';
import { alertApprovalUpdate, type AlertApproval } from '../../core/contracts/alerts.js';
import type { CommandRisk } from '../../core/command-policy/risk.js';
import { recordDecision } from '../runs/approval.js';
import { failed, type ActionResult } from './outcome.js';
import type { AlertRun } from './run-state.js';

/**
 * The approval update (POST /api/v1/jobs/{id}/approval): accepted only while a command waits, and
 * only for the hash of the command the approver saw (refused before it reaches history otherwise:
 * the caller gets 409).
 */
export function installApprovalHandler(run: AlertRun): void {
  const state = run.state;
  setHandler(
    alertApprovalUpdate,
    async (decision) => {
      const approval = recordDecision(state.approval!, decision);
      run.emit('approval.decided', { decision: approval.decision, by: approval.by, commandHash: approval.commandHash });
      await run.projected();
      return approval;
    },
    {
      validator: (decision) => {
        if (state.approval?.decision !== 'pending') throw new Error('No command of this job is waiting for approval.');
        if (decision.commandHash !== state.approval.commandHash) {
          throw new Error(`The command changed: approve ${state.approval.commandHash}, not ${decision.commandHash}.`);
        }
      },
    },
  );
}

/**
 * Decides whether the command may run, under the remediation settings: a read-only command runs,
 * a low-risk change runs on its own while `autoApproveLowRisk` is set, anything else waits for a
 * human on a durable timer. Returns who allowed it, or how the action ended instead (rejected,
 * timed out, or the alert resolved while it waited).
 */
export async function awaitCommandApproval(
  run: AlertRun,
  rating: { risk: CommandRisk; commandHash: string },
): Promise<string | ActionResult> {
  const { remediation } = run.settings;
  const now = new Date().toISOString();
  const base = { commandHash: rating.commandHash, risk: rating.risk, requestedAt: now, comment: null };
  const automatic =
    rating.risk === 'read-only'
      ? 'policy:read-only'
      : rating.risk === 'low' && remediation.autoApproveLowRisk
        ? 'policy:auto-low-risk'
        : null;
  if (automatic) {
    run.state.approval = { ...base, decision: 'not_required', deadline: null, by: automatic, decidedAt: now };
    return automatic;
  }
  const approval: AlertApproval = {
    ...base,
    decision: 'pending',
    deadline: new Date(Date.now() + remediation.approvalTimeoutMs).toISOString(),
    by: null,
    decidedAt: null,
  };
  run.state.approval = approval;
  run.emit('approval.requested', { commandHash: rating.commandHash, risk: rating.risk, deadline: approval.deadline });
  run.setStatus('awaiting_approval');
  // What the approver reads (the job's command and the run waiting) is stored before the wait.
  await run.projected();
  const decided = await condition(() => approval.decision !== 'pending' || run.resolved, remediation.approvalTimeoutMs);
  if (approval.decision === 'pending') {
    approval.decision = decided ? 'withdrawn' : 'timed_out';
    approval.decidedAt = new Date().toISOString();
    run.emit('approval.decided', { decision: approval.decision, by: null, commandHash: rating.commandHash });
    if (decided)
      return { kind: 'resolved_before_action', detail: 'the alert resolved while the command waited for approval: nothing was run' };
    return failed(`approval timed out: nobody decided within ${Math.round(remediation.approvalTimeoutMs / 1000)} s; nothing was run`);
  }
  if (approval.decision === 'rejected') {
    return failed(`rejected by ${approval.by ?? 'an operator'}${approval.comment ? `: ${approval.comment}` : ''}; nothing was run`);
  }
  return `approval:${approval.by ?? 'unknown'}`;
}
