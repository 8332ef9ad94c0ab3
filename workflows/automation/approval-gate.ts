import { condition, setHandler } from '@temporalio/workflow';
import { recordDecision } from '../runs/approval.js';
import { automationApprovalUpdate, type AutomationSettings } from '../../core/contracts/automation.js';
import type { AutomationRun } from './run-state.js';

/**
 * The approval update: a decision is accepted only while the artifacts wait, and only for the
 * artifacts hash the approver saw (refused before it reaches history otherwise: the caller gets 409).
 */
export function installApprovalHandler(run: AutomationRun): void {
  const state = run.state;
  setHandler(
    automationApprovalUpdate,
    async (decision) => {
      const approval = recordDecision(state.approval!, decision);
      run.emit('approval.decided', { decision: approval.decision, by: approval.by, artifactsHash: approval.artifactsHash });
      // The approver's answer comes once the projection shows the decision (reads after it agree).
      await run.projected();
      return approval;
    },
    {
      validator: (decision) => {
        if (state.approval?.decision !== 'pending') throw new Error('No playbook is waiting for approval.');
        if (decision.artifactsHash !== state.approval.artifactsHash) {
          throw new Error(`The artifacts changed: approve ${state.approval.artifactsHash}, not ${decision.artifactsHash}.`);
        }
      },
    },
  );
}

/**
 * Decides whether the playbook may run. Check mode changes nothing and runs without a human; a
 * real run always waits for an approval of its artifacts hash, on a durable timer. Returns false
 * when the run has ended instead (rejected, or no decision before the deadline): nothing ran.
 */
export async function awaitApproval(run: AutomationRun, artifactsHash: string, settings: AutomationSettings): Promise<boolean> {
  const state = run.state;
  const now = new Date().toISOString();
  if (run.input.checkMode) {
    state.approval = {
      decision: 'not_required',
      artifactsHash,
      requestedAt: now,
      deadline: null,
      by: 'policy:check-mode',
      comment: null,
      decidedAt: now,
    };
    run.emit('approval.decided', { decision: 'not_required', by: 'policy:check-mode', artifactsHash });
    return true;
  }
  state.approval = {
    decision: 'pending',
    artifactsHash,
    requestedAt: now,
    deadline: new Date(Date.now() + settings.approvalTimeoutMs).toISOString(),
    by: null,
    comment: null,
    decidedAt: null,
  };
  run.emit('approval.requested', { artifactsHash, deadline: state.approval.deadline, hosts: state.hosts.map((h) => h.tagId) });
  run.setStatus('awaiting_approval');
  // What the approver reads (the artifacts and the hash they must send) is stored before the wait.
  await run.projected();
  const decided = await condition(() => state.approval?.decision !== 'pending', settings.approvalTimeoutMs);
  if (!decided) {
    state.approval.decision = 'timed_out';
    state.approval.decidedAt = new Date().toISOString();
    run.emit('approval.decided', { decision: 'timed_out', by: null, artifactsHash });
    await run.finish('timed_out', `No approval within ${Math.round(settings.approvalTimeoutMs / 1000)} s; nothing was run.`);
    return false;
  }
  if (state.approval.decision === 'rejected') {
    const comment = state.approval.comment ? `: ${state.approval.comment}` : '';
    await run.finish('rejected', `Rejected by ${state.approval.by ?? 'an operator'}${comment}; nothing was run.`);
    return false;
  }
  return true;
}
