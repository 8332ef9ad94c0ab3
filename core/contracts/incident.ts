// Contract of the incident workflow shared by the workflow, the worker and API clients.
// Workflow-safe: plain types plus message definitions (defineQuery/defineSignal are pure).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { IncidentStatus, Severity } from '../incident.js';
import type {
  Analysis,
  ApprovalState,
  HostCommandRun,
  MetricsSnapshot,
  ProposedAction,
  RemediationPlan,
  RemediationSettings,
  ApprovalDecisionInput,
} from '../remediation.js';

/** Registered workflow type name; the API starts it by this name and never loads workflow code. */
export const INCIDENT_WORKFLOW_TYPE = 'remediateIncident';

export interface RemediateIncidentInput {
  tenantId: string;
  tenantSlug: string;
  incidentId: string;
  incidentNumber: number;
  severity: Severity;
  tagId: string;
  /** Approval timeout and auto-run policy, fixed at start so the run's history shows them. */
  settings?: RemediationSettings | undefined;
}

export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';

export interface IncidentStepState {
  /** Activity name, e.g. lookupCmdbItem. */
  name: string;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  detail: string | null;
}

export interface IncidentTarget {
  tagId: string;
  hostname: string;
  address: string;
  port: number;
  environment: string;
  sshUser: string | null;
  /** Name of the credential an activity will resolve; the secret never travels. */
  sshCredential: string | null;
}

export interface IncidentWorkflowState {
  incidentId: string;
  status: IncidentStatus;
  currentStep: string | null;
  steps: IncidentStepState[];
  target: IncidentTarget | null;
  findings: string[];
  /** Operator notes added through the addContext signal. */
  context: { note: string; author: string; at: string }[];
  summary: string | null;
  error: string | null;
  /** The diagnostic plan (runbook, parameters, read-only commands, refused ones). */
  plan?: RemediationPlan | null;
  /** The metrics datasource's answers about the target (null: none configured). */
  metrics?: MetricsSnapshot | null;
  /** What the runbook rules established from the diagnostics. */
  analysis?: Pick<Analysis, 'findings' | 'refused' | 'planHash' | 'rollback' | 'chain'> | null;
  rootCause?: string | null;
  proposedActions?: ProposedAction[];
  approval?: ApprovalState | null;
  /** Every command run on the host, in order, with who or what allowed it. */
  commands?: HostCommandRun[];
  verification?: { passed: boolean; failures: string[] } | null;
  /** What each configured ticketing / paging tool was told at the end. */
  notifications?: { notifier: string; delivered: boolean; detail: string }[];
  /** Set when another tool (PagerDuty) reported the incident resolved while this run was open. */
  resolvedElsewhere?: ResolvedElsewhereState | null;
}

/** Who resolved the incident outside InfraAI, and when (the resolvedElsewhere signal's input). */
export interface ResolvedElsewhereNotice {
  /** The tool that reported it, e.g. `PagerDuty`. */
  source: string;
  /** Who resolved it there, when the tool says. */
  by: string | null;
  /** When it was resolved there (the tool's time). */
  at: string;
}

/**
 * What the run did about it: `received` (not acted on yet), `stopped` (it was still investigating
 * or waiting: it ended `resolved` without changing the host), `noted` (it was already changing the
 * host, or had finished: the change was completed, never cut short, and the summary says so).
 */
export interface ResolvedElsewhereState extends ResolvedElsewhereNotice {
  outcome: 'received' | 'stopped' | 'noted';
}

/** The Temporal status of a run as its projection records it (the names Temporal's describe uses). */
export type ProjectedWorkflowStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

/** What an incident run keeps in its projection: its state, and its workflow as a describe would show it. */
export interface IncidentRunProjectionState {
  run: IncidentWorkflowState;
  workflow: { runId: string; status: ProjectedWorkflowStatus; startedAt: string; closedAt: string | null; historyLength: number };
}

export const incidentStateQuery = defineQuery<IncidentWorkflowState>('incidentState');

/** Extra context from an operator or an integration (e.g. a PagerDuty note). */
export const addIncidentContextSignal = defineSignal<[{ note: string; author: string }]>('addContext');

/**
 * The incident was resolved in another tool (PagerDuty's incident.resolved). A run still
 * investigating or waiting for approval stops at its next step without changing the host and ends
 * `resolved`; a run already changing the host finishes the change (never half-applied) and notes it.
 */
export const resolvedElsewhereSignal = defineSignal<[ResolvedElsewhereNotice]>('resolvedElsewhere');

/** Names of the activities of the incident workflow, in the order they normally run. */
export const INCIDENT_STEPS = [
  'recordIncident',
  'lookupCmdbItem',
  'planRemediation',
  'queryMetrics',
  'runDiagnostics',
  'analyseDiagnostics',
  'planFollowUp',
  'combineCauseChain',
  'setIncidentStatus',
  'acquireHostLease',
  'renewHostLease',
  'applyRemediationAction',
  'verifyRemediation',
  'releaseHostLease',
  'writeIncidentResult',
] as const;
export type IncidentStepName = (typeof INCIDENT_STEPS)[number];

/** Custom search attributes declared in temporal-dev.yaml (all Keyword), typed for upserts and starts. */
export const SEARCH_ATTRIBUTES = {
  tenant: defineSearchAttributeKey('Tenant', SearchAttributeType.KEYWORD),
  incidentStatus: defineSearchAttributeKey('IncidentStatus', SearchAttributeType.KEYWORD),
  targetHost: defineSearchAttributeKey('TargetHost', SearchAttributeType.KEYWORD),
  severity: defineSearchAttributeKey('Severity', SearchAttributeType.KEYWORD),
} as const;

/** Approve or reject the pending plan; rejected by the validator when nothing waits or the plan changed. */
export const approvalUpdate = defineUpdate<ApprovalState, [ApprovalDecisionInput]>('decideApproval');

export function incidentWorkflowId(incidentId: string): string {
  return `incident-${incidentId}`;
}
