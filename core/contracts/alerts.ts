// Contract of the alert workflow (`handleAlert`, id `alert-<fingerprint>-<startsAt>`), shared by the
// workflow, the worker and the API's Alertmanager webhook. Workflow-safe: plain types plus message
// definitions (defineQuery/defineSignal/defineUpdate are pure).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CommandRisk } from '../command-policy/risk.js';
import type { PolicyActionType, PolicyAlert } from '../policies/model.js';
import type { HostCommandRun, RemediationSettings } from '../remediation.js';
import type { AutomationSettings } from './automation.js';
import type { ProjectedWorkflowStatus, StepStatus } from './incident.js';

/** Registered workflow type name; the webhook starts it by this name and never loads workflow code. */
export const ALERT_WORKFLOW_TYPE = 'handleAlert';

export { alertWorkflowId } from '../ingress/alertmanager.js';

/** Fixed at start (from the API's config), so the run's history shows what it ran under. */
export interface AlertSettings {
  /** The remediation rules a command is held to: approval wait, and whether low-risk changes run without a human. */
  remediation: RemediationSettings;
  /** Handed to a `run_playbook` child (its own approval wait and run bound). */
  automation?: AutomationSettings | undefined;
  /** After acting, how long the run waits for Alertmanager's resolved notification (ms; default 1 h). */
  resolveWaitMs: number;
  /** No policy matched and the host label names a CMDB item: raise an incident (INFRAAI_ALERTS_ESCALATE_UNMATCHED). */
  escalateUnmatched: boolean;
  /** How long an ssh_command's `verify` is retried until it exits 0 (ms; default 30 s). */
  verifyTimeoutMs?: number | undefined;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  remediation: { approvalTimeoutMs: 30 * 60_000, autoApproveLowRisk: true },
  resolveWaitMs: 60 * 60_000,
  escalateUnmatched: false,
  verifyTimeoutMs: 30_000,
};

export interface HandleAlertInput {
  tenantId: string;
  tenantSlug: string;
  /** The firing alert as the policies see it (labels, annotations, fingerprint, startsAt). */
  alert: PolicyAlert;
  source: 'alertmanager';
  /** When the API received the notification that started the run. */
  receivedAt: string;
  settings?: AlertSettings | undefined;
}

/** Alertmanager says the alert resolved (its `endsAt`): recorded in the state; see the statuses for its effect. */
export const alertResolvedSignal = defineSignal<[{ endsAt: string }]>('alertResolved');

/**
 * Where an alert's run is. `deciding` first; then one of the final statuses, possibly through the
 * action's own statuses:
 * - `deciding`: the tenant's policies are read and matched, the decision recorded in the job log;
 * - `awaiting_approval`: the command's risk needs a human (the job's approval endpoint, bound to the command's hash);
 * - `waiting_for_host`: another run (a remediation, a playbook, another policy) holds the host's lease;
 * - `acting`: the action runs (a command, a Kubernetes or vSphere call, a notice, a child run);
 * - `verifying`: the ssh_command's `verify` is retried until it exits 0;
 * - `awaiting_resolution`: the action succeeded and its job is finished; the run waits for the resolved signal;
 * final:
 * - `resolved`: the action succeeded and Alertmanager reported the alert resolved within the wait;
 * - `unresolved`: the action succeeded but no resolved notification came within the wait;
 * - `failed`: the action failed, was refused by the command policy, rejected, its approval timed out, or the run was cancelled (job `failed`);
 * - `resolved_before_action`: the alert resolved while the run still waited (approval, host lease): nothing
 *   ran, and the job is finished `succeeded` with a detail saying so (not a failure: the breaker does not count it);
 * - `limited`: a limit of the matched policy stopped it (job `limited`: cooldown, hourly, daily, concurrency, host busy, breaker open);
 * - `unusable`: the matching policy cannot use this alert (a missing label, a value with shell syntax);
 * - `unmatched`: no enabled policy matched (job `unmatched`);
 * - `escalated`: no policy matched and an incident was raised for the host (job `escalated`).
 */
export const ALERT_RUN_STATUSES = [
  'deciding',
  'awaiting_approval',
  'waiting_for_host',
  'acting',
  'verifying',
  'awaiting_resolution',
  'resolved',
  'unresolved',
  'failed',
  'resolved_before_action',
  'limited',
  'unusable',
  'unmatched',
  'escalated',
] as const;
export type AlertRunStatus = (typeof ALERT_RUN_STATUSES)[number];

export const FINAL_ALERT_RUN_STATUSES = [
  'resolved',
  'unresolved',
  'failed',
  'resolved_before_action',
  'limited',
  'unusable',
  'unmatched',
  'escalated',
] as const satisfies readonly AlertRunStatus[];

/** The approval an ssh_command waits on, bound to the SHA-256 of the interpolated command. */
export interface AlertApproval {
  /**
   * `not_required`: read-only, or a low-risk change while the remediation settings auto-approve those;
   * `withdrawn`: the alert resolved before anyone decided (nothing ran, nothing waits any more).
   */
  decision: 'pending' | 'approved' | 'rejected' | 'timed_out' | 'not_required' | 'withdrawn';
  commandHash: string;
  risk: CommandRisk;
  requestedAt: string;
  deadline: string | null;
  by: string | null;
  comment: string | null;
  decidedAt: string | null;
}

export interface AlertDecisionInput {
  decision: 'approve' | 'reject';
  /** The hash of the command the approver saw (the API hashes the job's command); another one is refused (409). */
  commandHash: string;
  by: string;
  comment?: string | undefined;
}

/** Approve or reject the command a run waits on; refused by the validator when nothing waits or the hash differs. */
export const alertApprovalUpdate = defineUpdate<AlertApproval, [AlertDecisionInput]>('decideAlertApproval');

export interface AlertStepState {
  name: string;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  detail: string | null;
}

/** An incident this run raised (breaker opened, unmatched alert escalated) or ran as its action. */
export interface AlertRaisedIncident {
  incidentId: string;
  number: number;
  workflowId: string;
  why: 'breaker_opened' | 'unmatched' | 'action';
}

export interface AlertRunState {
  workflowId: string;
  status: AlertRunStatus;
  alert: Pick<PolicyAlert, 'fingerprint' | 'startsAt' | 'labels'>;
  /** The job-log row of the decision (GET /api/v1/jobs/{id}). */
  jobId: string | null;
  policy: { id: string; name: string } | null;
  action: { type: PolicyActionType; params: Record<string, string | number | boolean>; host: string | null } | null;
  /** The CMDB item the host label resolved to (host actions). */
  tagId: string | null;
  /** The command policy's rating of an ssh_command. */
  risk: { risk: CommandRisk; reasons: string[] } | null;
  approval: AlertApproval | null;
  /** Every command run on the host (the command, then each verification attempt). */
  commands: HostCommandRun[];
  /** A child run (run_playbook: automation-<id>; remediate_incident: incident-<id>). */
  child: { workflowId: string; status: string | null } | null;
  incidents: AlertRaisedIncident[];
  /** How the action ended (the job's outcome). */
  outcome: { succeeded: boolean; detail: string } | null;
  /** Alertmanager's endsAt once the resolved signal arrived. */
  resolvedAt: string | null;
  currentStep: string | null;
  steps: AlertStepState[];
  summary: string | null;
  error: string | null;
}

/** What an alert run keeps in its projection (family `alert`, run id = the workflow id). */
export interface AlertRunProjectionState {
  run: AlertRunState;
  workflow: { runId: string; status: ProjectedWorkflowStatus; startedAt: string; closedAt: string | null; historyLength: number };
}

export const alertStateQuery = defineQuery<AlertRunState>('alertState');
