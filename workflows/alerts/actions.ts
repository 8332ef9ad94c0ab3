import { isCancellation } from '@temporalio/workflow';
import type { AlertDecision } from '../../activities/alerts/decide.js';
import { failureMessage } from '../runs/failures.js';
import { actionSteps } from './activities.js';
import { remediateIncidentChild, runPlaybookChild } from './children.js';
import { failed, succeeded, type ActionResult } from './outcome.js';
import type { AlertRun } from './run-state.js';
import { runSshCommand } from './ssh-command.js';

export type ActDecision = Extract<AlertDecision, { kind: 'act' }>;

/** The alert run's job page in the API (for links in notices). */
export const jobPath = (jobId: string) => `/api/v1/jobs/${jobId}`;

/** An action with one call to its adapter: not attempted once the alert has resolved. */
async function adapterAction(run: AlertRun, name: string, call: () => Promise<{ detail: string }>): Promise<ActionResult> {
  if (run.resolved) return { kind: 'resolved_before_action', detail: 'the alert resolved before the action ran: nothing was done' };
  run.setStatus('acting');
  const done = await run.step(name, call);
  return succeeded(done.detail);
}

/**
 * Runs the matched policy's action and says how it ended. A failed step is the action failing (its
 * message is the job's detail); only a cancellation goes through (the caller still ends the job).
 */
export async function executeAction(run: AlertRun, decision: ActDecision): Promise<ActionResult> {
  const { params } = decision.action;
  const text = (name: string) => String(params[name]);
  try {
    switch (decision.action.type) {
      case 'ssh_command':
        return await runSshCommand(run, decision.host, params);
      case 'restart_pod':
        return await adapterAction(run, 'restartPodForAlert', () =>
          actionSteps.restartPodForAlert({ namespace: text('namespace'), pod: text('pod') }),
        );
      case 'scale_deployment':
        return await adapterAction(run, 'scaleDeploymentForAlert', () =>
          actionSteps.scaleDeploymentForAlert({
            namespace: text('namespace'),
            deployment: text('deployment'),
            replicas: Number(params.replicas),
          }),
        );
      case 'restart_vm':
        return await adapterAction(run, 'restartVmForAlert', () =>
          actionSteps.restartVmForAlert({ vm: text('vm'), mode: typeof params.mode === 'string' ? params.mode : null }),
        );
      case 'notify':
        return await adapterAction(run, 'notifyForAlert', () =>
          actionSteps.notifyForAlert({
            tenantId: run.tenantId,
            key: `policy-job:${decision.jobId}`,
            notifier: typeof params.notifier === 'string' ? params.notifier : null,
            title: `${decision.policy.name}: ${run.alert.labels.alertname ?? 'alert'}${decision.host ? ` on ${decision.host}` : ''}`,
            message: text('message'),
            labels: run.alert.labels,
            jobPath: jobPath(decision.jobId),
          }),
        );
      case 'run_playbook':
        return await runPlaybookChild(run, decision.jobId, decision.host, params);
      case 'remediate_incident':
        return await remediateIncidentChild(run, decision.jobId, decision.host, params);
    }
  } catch (err) {
    if (isCancellation(err)) throw err;
    return failed(failureMessage(err));
  }
}
