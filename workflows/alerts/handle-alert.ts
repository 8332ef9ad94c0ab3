import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import type { AlertDecision } from '../../activities/alerts/decide.js';
import type { AlertRunState, HandleAlertInput } from '../../core/contracts/alerts.js';
import { failureMessage } from '../runs/failures.js';
import { actOnAlert } from './act.js';
import { installApprovalHandler } from './approval-gate.js';
import { alertDescription, raiseIncident } from './incidents.js';
import { AlertRun } from './run-state.js';

/**
 * One firing alert's run (`alert-<fingerprint>-<startsAt>`): decide (the tenant's policies, the
 * matched one's limits, the job log) → act (approval, host lease, the action, its verification; the
 * job always finished, an incident raised when that opens the breaker) → wait for Alertmanager's
 * resolved notification. An alert no policy matched is recorded (and escalated when configured).
 */
export async function handleAlert(input: HandleAlertInput): Promise<AlertRunState> {
  const run = new AlertRun(input);
  const { state } = run;
  installApprovalHandler(run);
  try {
    const decision = await run.step('decideAlert', () =>
      run.store.decideAlert({ tenantId: input.tenantId, alert: input.alert, escalateUnmatched: run.settings.escalateUnmatched }),
    );
    if (decision.kind !== 'act') {
      await concludeWithoutRun(run, decision);
      return state;
    }
    Object.assign(state, {
      jobId: decision.jobId,
      policy: decision.policy,
      action: { ...decision.action, host: decision.host },
    });
    const result = await actOnAlert(run, decision);
    if (result.kind === 'resolved_before_action') {
      run.conclude('resolved_before_action', `The alert resolved before ${decision.policy.name} acted: ${result.detail}.`);
      return state;
    }
    if (!result.succeeded) {
      run.conclude('failed', `${decision.policy.name} failed: ${result.detail}.`);
      return state;
    }
    // The job is finished; the run stays to see whether the alert clears.
    run.setStatus('awaiting_resolution');
    const resolved = await condition(() => run.resolved, run.settings.resolveWaitMs);
    run.conclude(
      resolved ? 'resolved' : 'unresolved',
      resolved
        ? `${decision.policy.name} acted (${result.detail}); the alert resolved (endsAt ${state.resolvedAt}).`
        : `${decision.policy.name} acted (${result.detail}); the alert did not resolve within ${Math.round(run.settings.resolveWaitMs / 1000)} s.`,
    );
    return state;
  } catch (err) {
    if (isCancellation(err)) {
      run.markCancelled();
      run.conclude('failed', state.outcome ? `Cancelled by request after the action (${state.outcome.detail}).` : 'Cancelled by request.');
      throw err;
    }
    state.error = failureMessage(err);
    run.conclude('failed', `The run failed: ${state.error}`);
    return state;
  } finally {
    await CancellationScope.nonCancellable(() => run.end());
  }
}

/** No run: a limit stopped it, the policy cannot use the alert, or none matched (escalated when configured). */
async function concludeWithoutRun(run: AlertRun, decision: Exclude<AlertDecision, { kind: 'act' }>): Promise<void> {
  const { state } = run;
  switch (decision.kind) {
    case 'limited':
      Object.assign(state, { jobId: decision.jobId, policy: decision.policy });
      run.conclude(
        'limited',
        `${decision.policy?.name ?? 'The policy'} was stopped by its ${decision.limit ?? ''} limit: ${decision.detail}.`,
      );
      return;
    case 'unusable':
      Object.assign(state, { jobId: decision.jobId, policy: decision.policy });
      run.conclude('unusable', `${decision.detail}.`);
      return;
    case 'unmatched':
    case 'escalated':
      state.jobId = decision.jobId;
      run.conclude(decision.kind, `${decision.detail}.`);
      return;
    case 'escalate':
      await escalate(run, decision);
      return;
  }
}

async function escalate(run: AlertRun, decision: Extract<AlertDecision, { kind: 'escalate' }>): Promise<void> {
  const { labels, annotations } = run.alert;
  const name = labels.alertname ?? 'alert';
  let detail: string;
  let status: 'escalated' | 'unmatched' = 'escalated';
  try {
    const { raised } = await raiseIncident(
      run,
      {
        tagId: decision.tagId,
        title: `${name} on ${decision.hostname}${annotations.summary ? `: ${annotations.summary}` : ''}`,
        description: alertDescription(run),
        severity: labels.severity ?? null,
        key: `${run.workflowId}/escalation`,
        why: 'unmatched',
      },
      false,
    );
    detail = `no enabled policy matched; escalated: incident INC-${raised.number} raised for ${decision.tagId} (${raised.workflowId})`;
  } catch (err) {
    if (isCancellation(err)) throw err;
    status = 'unmatched';
    detail = `no enabled policy matched; raising an incident for ${decision.tagId} failed: ${failureMessage(err)}`;
  }
  const recorded = await run.step('recordAlertDecision', () =>
    run.store.recordAlertDecision({ tenantId: run.tenantId, alert: run.alert, status, detail }),
  );
  run.state.jobId = recorded.jobId;
  run.conclude(status, `${detail}.`);
}
