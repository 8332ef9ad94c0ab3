import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { executeChild, startChild } from '@temporalio/workflow';
import type { AlertRaisedIncident } from '../../core/contracts/alerts.js';
import {
  INCIDENT_WORKFLOW_TYPE,
  incidentWorkflowId,
  SEARCH_ATTRIBUTES,
  type IncidentWorkflowState,
  type RemediateIncidentInput,
} from '../../core/contracts/incident.js';
import type { AlertRun } from './run-state.js';

// The incidents an alert raises — a breaker that opened, an unmatched alert escalated, a
// remediate_incident action — each an incident row (keyed, so a retried step finds the first) and
// its `remediateIncident` run `incident-<id>`, started as the API starts it.

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
