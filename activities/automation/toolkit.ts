import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AutomationRun } from '../../adapters/store/port.js';
import { FAILURE } from '../../core/contracts/failures.js';
import type { AutomationActivityDeps, AutomationRunRef, AutomationToolkit } from './deps.js';

// What every automation step shares: the toolkit (or a clear failure without it), the run's row
// (or a clear failure when it is gone), and the workflow identity that holds leases and runs.

export function toolkitOf(deps: AutomationActivityDeps): AutomationToolkit {
  if (!deps.automation) {
    throw ApplicationFailure.nonRetryable(
      'This worker has no automation toolkit (playbook generator, validator and runner): automation runs cannot proceed.',
      FAILURE.AutomationUnavailable,
    );
  }
  return deps.automation;
}

export async function runOf(deps: AutomationActivityDeps, { tenantId, runId }: AutomationRunRef): Promise<AutomationRun> {
  const run = await deps.store.automation.get(tenantId, runId);
  if (!run) throw ApplicationFailure.nonRetryable(`Automation run ${runId} no longer exists`, FAILURE.AutomationRunNotFound);
  return run;
}

export function workflowIdOf(): string {
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (!workflowId) throw ApplicationFailure.nonRetryable('Automation steps run inside workflows only', FAILURE.NotInWorkflow);
  return workflowId;
}
