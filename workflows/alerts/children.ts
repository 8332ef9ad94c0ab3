import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { executeChild, startChild } from '@temporalio/workflow';
import type { AlertRaisedIncident } from '../../core/contracts/alerts.js';
import {
  AUTOMATION_WORKFLOW_TYPE,
  automationWorkflowId,
  type AutomationWorkflowState,
  type RunAutomationInput,
} from '../../core/contracts/automation.js';
import {
  INCIDENT_WORKFLOW_TYPE,
  incidentWorkflowId,
  SEARCH_ATTRIBUTES,
  type IncidentWorkflowState,
  type RemediateIncidentInput,
} from '../../core/contracts/incident.js';
import { failed, succeeded, type ActionResult, type AlertRun } from './run-state.js';

// The runs an alert hands on to, as child workflows with the ids and inputs the API gives them:
// `automation-<runId>` (run_playbook: its own approval applies) and `incident-<id>` (remediate_incident,
// and the incidents a breaker opening or an unmatched alert raises).

type Params = Record<string, string | number | boolean>;

/** The incident row for a CMDB item, and its remediation run; `wait`: as the action (its end decides), else abandoned to run on. */
export async function raiseIncident(
  run: AlertRun,
  input: { tagId: string; title: string; description: string; severity: string | null; key: string; why: AlertRaisedIncident['why'] },
  wait: boolean,
): Promise<{ raised: AlertRaisedIncident; ended: IncidentWorkflowState | null }> {
  const incident = await run.step('raiseAlertIncident', () =>
    run.store.raiseAlertIncident({
      tenantId: run.tenantId,
      tagId: input.tagId,
      title: input.title,
      description: input.description,
      severity: input.severity,
      source: input.why === 'unmatched' ? 'alert' : 'policy',
      idempotencyKey: input.key,
      createdBy: `workflow:${run.workflowId}`,
    }),
  );
  const workflowId = incidentWorkflowId(incident.incidentId);
  const raised: AlertRaisedIncident = { incidentId: incident.incidentId, number: incident.number, workflowId, why: input.why };
  run.state.incidents.push(raised);
  const args: [RemediateIncidentInput] = [
    {
      tenantId: run.tenantId,
      tenantSlug: run.input.tenantSlug,
      incidentId: incident.incidentId,
      incidentNumber: incident.number,
      severity: incident.severity,
      tagId: input.tagId,
      settings: run.settings.remediation,
    },
  ];
  const options = {
    workflowId,
    args,
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.tenant, value: run.input.tenantSlug },
      { key: SEARCH_ATTRIBUTES.severity, value: incident.severity },
      { key: SEARCH_ATTRIBUTES.incidentStatus, value: 'open' },
      { key: SEARCH_ATTRIBUTES.targetHost, value: incident.hostname },
    ],
  };
  if (wait) {
    run.state.child = { workflowId, status: null };
    const ended = (await executeChild(INCIDENT_WORKFLOW_TYPE, options)) as IncidentWorkflowState;
    run.state.child.status = ended.status;
    return { raised, ended };
  }
  try {
    await startChild(INCIDENT_WORKFLOW_TYPE, { ...options, parentClosePolicy: 'ABANDON' });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return { raised, ended: null };
}

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

/** What an incident raised from an alert says about it. */
export function alertDescription(run: AlertRun): string {
  const { labels, annotations, startsAt } = run.alert;
  const lines = [
    `Raised by InfraAI from an Alertmanager alert (run ${run.workflowId}, firing since ${startsAt}).`,
    annotations.summary ?? annotations.description ?? '',
    `Labels: ${Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  ];
  return lines.filter(Boolean).join('\n');
}
