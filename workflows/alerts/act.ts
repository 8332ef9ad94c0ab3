import { CancellationScope, isCancellation } from '@temporalio/workflow';
import { failureMessage } from '../runs/failures.js';
import { actionSteps } from './activities.js';
import { executeAction, jobPath, type ActDecision } from './actions.js';
import { alertDescription, raiseIncident } from './incidents.js';
import { failed, type ActionResult } from './outcome.js';
import type { AlertRun } from './run-state.js';

/**
 * A run the policy's limits let through: the job running (with this workflow's id), the action, and
 * the job finished whatever happens — in a `finally`, not cancellable, retried through a store
 * outage — because a job left queued or running would hold the policy's concurrency and its host
 * (host_busy) for good. When that end opens the policy's breaker, an incident is raised for the
 * host (once: only the end that opened it says so). Returns how the action ended.
 */
export async function actOnAlert(run: AlertRun, decision: ActDecision): Promise<ActionResult> {
  if (decision.jobStatus === 'succeeded' || decision.jobStatus === 'failed') {
    // A reset run finds its job already ended: it never acts twice.
    return {
      kind: 'done',
      succeeded: decision.jobStatus === 'succeeded',
      detail: decision.detail ?? `the job already ${decision.jobStatus}`,
    };
  }
  let result: ActionResult | null = null;
  let cancelled = false;
  try {
    await run.step('markAlertJobRunning', () => run.store.markAlertJobRunning({ tenantId: run.tenantId, jobId: decision.jobId }));
    result = await executeAction(run, decision);
  } catch (err) {
    if (isCancellation(err)) {
      cancelled = true;
      throw err;
    }
    result = failed(`the run failed: ${failureMessage(err)}`);
  } finally {
    const end = result ?? failed(cancelled ? 'cancelled before the action ended' : 'the run ended before the action did');
    result = end;
    await CancellationScope.nonCancellable(() => finishJob(run, decision, end));
  }
  return result;
}

async function finishJob(run: AlertRun, decision: ActDecision, result: ActionResult): Promise<void> {
  // Resolved before acting is not the policy failing: ended `succeeded`, the detail says nothing ran.
  const ok = result.kind === 'resolved_before_action' || result.succeeded;
  run.state.outcome = { succeeded: result.kind === 'done' && result.succeeded, detail: result.detail };
  const end = await run.step('finishAlertJob', () =>
    run.finishing.finishAlertJob({ tenantId: run.tenantId, jobId: decision.jobId, succeeded: ok, detail: result.detail }),
  );
  if (!end.breakerOpened) return;
  try {
    await raiseBreakerIncident(run, decision, result.detail);
  } catch (err) {
    run.state.error = `the breaker opened but raising it failed: ${failureMessage(err)}`;
  }
}

/**
 * The breaker opened on this run's failure: an incident for the host's CMDB item (its remediation
 * run started and left to run), or, for a host that is not in the CMDB, a notice to the notifiers;
 * either way the job's detail says what was done.
 */
async function raiseBreakerIncident(run: AlertRun, decision: ActDecision, lastFailure: string): Promise<void> {
  const { policy, host, jobId } = decision;
  const title = `Self-healing policy '${policy.name}' stopped: its breaker opened${host ? ` on ${host}` : ''}`;
  const target = host ? await run.step('resolveAlertHost', () => run.store.resolveAlertHost({ tenantId: run.tenantId, host })) : null;
  let line: string;
  if (target) {
    const { raised } = await raiseIncident(
      run,
      {
        tagId: target.tagId,
        title,
        description: `${alertDescription(run)}\nThe policy's last run failed: ${lastFailure}`,
        severity: run.alert.labels.severity ?? null,
        key: `${run.workflowId}/breaker-incident`,
        why: 'breaker_opened',
      },
      false,
    );
    line = `breaker opened: incident INC-${raised.number} raised for ${target.tagId} (${raised.workflowId})`;
  } else {
    const where = host ? `host '${host}' is not in the CMDB` : 'the alert names no host';
    try {
      const sent = await run.step('notifyForAlert', () =>
        actionSteps.notifyForAlert({
          tenantId: run.tenantId,
          key: `policy-job:${jobId}:breaker`,
          notifier: null,
          title,
          message: `${title}. No incident could be raised: ${where}. The last run failed: ${lastFailure}`,
          labels: run.alert.labels,
          jobPath: jobPath(jobId),
        }),
      );
      line = `breaker opened; no incident raised (${where}): sent to the notifiers (${sent.detail})`;
    } catch (err) {
      line = `breaker opened; no incident raised (${where}) and no notifier took the notice (${failureMessage(err)})`;
    }
  }
  await run.step('addAlertJobDetail', () => run.store.addAlertJobDetail({ tenantId: run.tenantId, jobId, line }));
}
