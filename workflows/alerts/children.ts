import { executeChild } from '@temporalio/workflow';
import {
  AUTOMATION_WORKFLOW_TYPE,
  automationWorkflowId,
  type AutomationWorkflowState,
  type RunAutomationInput,
} from '../../core/contracts/automation.js';
import { SEARCH_ATTRIBUTES } from '../../core/contracts/incident.js';
import { alertDescription, raiseIncident } from './incidents.js';
import { failed, succeeded, type ActionResult } from './outcome.js';
import type { AlertRun } from './run-state.js';

// The actions that hand the alert on to another run, as child workflows with the ids and inputs the
// API gives them: `automation-<runId>` (run_playbook: its own approval applies) and `incident-<id>`
// (remediate_incident). Each is judged by how its child ends.

type Params = Record<string, string | number | boolean>;

async function hostItem(run: AlertRun, host: string | null): Promise<{ tagId: string; hostname: string } | string> {
  if (!host) return 'the alert has no host label value: there is no host to act on';
  const target = await run.step('resolveAlertHost', () => run.store.resolveAlertHost({ tenantId: run.tenantId, host }));
  if (!target) return `host '${host}' is not in the CMDB (no item has it as tagId, hostname or address)`;
  run.state.tagId = target.tagId;
  return target;
}

const RESOLVED_FIRST: ActionResult = {
  kind: 'resolved_before_action',
  detail: 'the alert resolved before the run started: nothing was run',
};

/** run_playbook: an automation run on the host (its row, then `runAutomation`, which keeps its own approval). */
export async function runPlaybookChild(run: AlertRun, jobId: string, host: string | null, params: Params): Promise<ActionResult> {
  const target = await hostItem(run, host);
  if (typeof target === 'string') return failed(`${target}: nothing was run`);
  if (run.resolved) return RESOLVED_FIRST;
  const checkMode = params.checkMode === true;
  const request = String(params.request);
  const row = await run.step('createAlertAutomationRun', () =>
    run.store.createAlertAutomationRun({
      tenantId: run.tenantId,
      tagId: target.tagId,
      request,
      checkMode,
      idempotencyKey: `policy-job:${jobId}:playbook`,
      createdBy: `workflow:${run.workflowId}`,
    }),
  );
  run.setStatus('acting');
  const workflowId = automationWorkflowId(row.runId);
  run.state.child = { workflowId, status: null };
  const input: RunAutomationInput = {
    tenantId: run.tenantId,
    tenantSlug: run.input.tenantSlug,
    runId: row.runId,
    runNumber: row.number,
    request,
    targets: [target.tagId],
    checkMode,
    settings: run.settings.automation,
  };
  const ended = (await executeChild(AUTOMATION_WORKFLOW_TYPE, {
    workflowId,
    args: [input],
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.tenant, value: run.input.tenantSlug }],
  })) as AutomationWorkflowState;
  run.state.child.status = ended.status;
  const what = `automation run #${row.number} (${workflowId}) on ${target.hostname} ended ${ended.status}`;
  return ended.status === 'succeeded' ? succeeded(what) : failed(`${what}${ended.summary ? `: ${ended.summary}` : ''}`);
}

/** remediate_incident: an incident for the host (keyed by the job) and its full remediation run; succeeded iff it resolves. */
export async function remediateIncidentChild(run: AlertRun, jobId: string, host: string | null, params: Params): Promise<ActionResult> {
  const target = await hostItem(run, host);
  if (typeof target === 'string') return failed(`${target}: no incident was raised`);
  if (run.resolved) return RESOLVED_FIRST;
  run.setStatus('acting');
  const { raised, ended } = await raiseIncident(
    run,
    {
      tagId: target.tagId,
      title: String(params.title),
      description: alertDescription(run),
      severity: typeof params.severity === 'string' ? params.severity : (run.alert.labels.severity ?? null),
      key: `policy-job:${jobId}:incident`,
      why: 'action',
    },
    true,
  );
  const what = `incident INC-${raised.number} (${raised.workflowId}) ended ${ended!.status}`;
  return ended!.status === 'resolved' ? succeeded(what) : failed(`${what}${ended!.summary ? `: ${ended!.summary}` : ''}`);
}
