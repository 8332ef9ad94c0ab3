import { condition, setHandler } from '@temporalio/workflow';
import { recordDecision } from '../runs/approval.js';
import { approvalUpdate } from '../../core/contracts/incident.js';
import type { Analysis, RemediationSettings } from '../../core/remediation.js';
import type { IncidentRun } from './run-state.js';

/**
 * The approval update: a decision is accepted only while a plan waits, and only for the plan hash
 * the approver saw (refused before it reaches history otherwise, so the caller gets a 409).
 */
export function installApprovalHandler(run: IncidentRun): void {
  const state = run.state;
  setHandler(
    approvalUpdate,
    (decision) => {
      const approval = recordDecision(state.approval!, decision);
      run.emit('approval.decided', { decision: approval.decision, by: approval.by, planHash: approval.planHash });
      // The approver's answer comes once the projection shows the decision (reads after it agree).
      return run.projecting ? run.projected().then(() => approval) : approval;
    },
    {
      validator: (decision) => {
        if (state.approval?.decision !== 'pending') throw new Error('No plan is waiting for approval.');
        if (decision.planHash && decision.planHash !== state.approval.planHash) {
          throw new Error(`The plan changed: approve plan ${state.approval.planHash}, not ${decision.planHash}.`);
        }
      },
    },
  );
}

/**
 * Decides whether the analysed fixes may run. Only low-risk fixes of a matched runbook run on their
 * own; anything else (an LLM's proposals always) waits for a human, bound to the plan hash, on a
 * durable timer. Returns who allowed the change, or null when the run has escalated instead.
 */
export async function awaitApproval(run: IncidentRun, analysis: Analysis, settings: RemediationSettings): Promise<string | null> {
  const state = run.state;
  const planHash = analysis.planHash!;
  const now = new Date().toISOString();
  const autoRun = settings.autoApproveLowRisk && analysis.actions.every((a) => a.risk === 'low' && a.source === 'runbook');
  if (autoRun) {
    state.approval = {
      decision: 'auto',
      planHash,
      requestedAt: now,
      deadline: null,
      by: 'policy:auto-low-risk',
      comment: null,
      decidedAt: now,
    };
    run.emit('approval.decided', { decision: 'auto', by: 'policy:auto-low-risk', planHash });
    return 'policy:auto-low-risk';
  }
  state.approval = {
    decision: 'pending',
    planHash,
    requestedAt: now,
    deadline: new Date(Date.now() + settings.approvalTimeoutMs).toISOString(),
    by: null,
    comment: null,
    decidedAt: null,
  };
  run.emit('approval.requested', { planHash, deadline: state.approval.deadline, actions: analysis.actions.length });
  await run.markStatus('awaiting_approval');
  // What the approver reads (the plan and the hash they must send) is stored before the wait.
  await run.projected();
  // A durable timer: the wait survives worker and server restarts. The incident resolved elsewhere
  // (PagerDuty) ends the wait too: the plan is withdrawn and nothing runs.
  const decided = await condition(() => state.approval?.decision !== 'pending' || run.resolvedElsewherePending, settings.approvalTimeoutMs);
  if (state.approval.decision === 'pending' && run.resolvedElsewherePending) {
    state.approval.decision = 'withdrawn';
    state.approval.by = state.resolvedElsewhere?.by ?? null;
    state.approval.decidedAt = new Date().toISOString();
    run.emit('approval.decided', { decision: 'withdrawn', by: state.approval.by, planHash });
    await run.stopResolvedElsewhere('waiting for approval');
    return null;
  }
  if (!decided) {
    state.approval.decision = 'timed_out';
    state.approval.decidedAt = new Date().toISOString();
    run.emit('approval.decided', { decision: 'timed_out', by: null, planHash });
    await run.finish(
      'escalated',
      `No approval within ${Math.round(settings.approvalTimeoutMs / 1000)} s: escalated to on-call; nothing was changed.`,
    );
    return null;
  }
  if (state.approval.decision === 'rejected') {
    const comment = state.approval.comment ? `: ${state.approval.comment}` : '';
    await run.finish('escalated', `Plan rejected by ${state.approval.by ?? 'an operator'}${comment}; escalated, nothing was changed.`);
    return null;
  }
  return `approval:${state.approval.by ?? 'unknown'}`;
}
