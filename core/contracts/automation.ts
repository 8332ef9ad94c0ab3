// Contract of the Ansible automation workflow shared by the workflow, the worker and API clients.
// Workflow-safe: plain types plus message definitions (defineQuery/defineUpdate are pure).
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  AutomationArtifacts,
  AutomationGeneration,
  AutomationHost,
  AutomationProgress,
  HostRecap,
  ValidationFinding,
} from '../automation.js';
import type { ProjectedWorkflowStatus, StepStatus } from './incident.js';

/** Registered workflow type name; the API starts it by this name and never loads workflow code. */
export const AUTOMATION_WORKFLOW_TYPE = 'runAutomation';

export function automationWorkflowId(runId: string): string {
  return `automation-${runId}`;
}

/**
 * Where a run is. Every run starts `queued` (its row, before the workflow's first step) and ends in
 * exactly one of the final statuses:
 * - `queued`: recorded by the API, the workflow has not started its first step yet;
 * - `generating`: targets resolved from the CMDB, the playbook being written (templates or LLM);
 * - `validating`: YAML, syntax check, lint, module allowlist, command policy, hosts;
 * - `awaiting_approval`: a real run waits for a human to approve the artifacts hash (durable timer);
 * - `waiting_for_hosts`: approved (or check mode), waiting for the lease of every target host;
 * - `running`: the playbook runs on the runner, heartbeating progress;
 * final:
 * - `succeeded`: the runner finished, Ansible's final stats are present and no host failed or was unreachable;
 * - `failed`: the playbook failed on a host, the runner timed out, or a step failed for good;
 * - `recap_missing`: the run ended without Ansible's final stats: never counted as a success;
 * - `not_understood`: the request matched no template (and no LLM wrote a playbook): nothing ran;
 * - `invalid`: validation found at least one problem (see `findings`): nothing ran;
 * - `rejected`: a human rejected the artifacts: nothing ran;
 * - `timed_out`: nobody decided before the approval deadline: nothing ran;
 * - `cancelled`: cancelled by request; a running playbook was stopped first;
 * - `lost`: the runner could no longer find the execution it started, or no attempt of the run step
 *   could follow it to the end (its outcome is unknown: check the hosts).
 */
export const AUTOMATION_STATUSES = [
  'queued',
  'generating',
  'validating',
  'awaiting_approval',
  'waiting_for_hosts',
  'running',
  'succeeded',
  'failed',
  'recap_missing',
  'not_understood',
  'invalid',
  'rejected',
  'timed_out',
  'cancelled',
  'lost',
] as const;
export type AutomationStatus = (typeof AUTOMATION_STATUSES)[number];

export const FINAL_AUTOMATION_STATUSES = [
  'succeeded',
  'failed',
  'recap_missing',
  'not_understood',
  'invalid',
  'rejected',
  'timed_out',
  'cancelled',
  'lost',
] as const satisfies readonly AutomationStatus[];
export type FinalAutomationStatus = (typeof FINAL_AUTOMATION_STATUSES)[number];

export function isFinalAutomationStatus(status: string): status is FinalAutomationStatus {
  return (FINAL_AUTOMATION_STATUSES as readonly string[]).includes(status);
}

export interface AutomationSettings {
  /** How long a real run waits for an approval before it ends `timed_out` (ms). */
  approvalTimeoutMs: number;
  /** The runner's own bound on one playbook run (ms); the activity's timeouts follow from it. */
  runTimeoutMs: number;
}

export const DEFAULT_AUTOMATION_SETTINGS: AutomationSettings = { approvalTimeoutMs: 30 * 60_000, runTimeoutMs: 30 * 60_000 };

export interface RunAutomationInput {
  tenantId: string;
  tenantSlug: string;
  /** The automation run's id (its row); the workflow id is `automation-<runId>`. */
  runId: string;
  runNumber: number;
  request: string;
  /** CMDB tagIds of the tenant: the only hosts the playbook may touch. */
  targets: string[];
  /** `--check --diff`: shows what a real run would change, changes nothing, needs no approval. */
  checkMode: boolean;
  /** Fixed at start so the run's history shows them. */
  settings?: AutomationSettings | undefined;
}

/** The approval a real run waits on, bound to the SHA-256 of every artifact. */
export interface AutomationApproval {
  /** `not_required`: check mode runs without a human. */
  decision: 'pending' | 'approved' | 'rejected' | 'timed_out' | 'not_required';
  artifactsHash: string;
  requestedAt: string;
  deadline: string | null;
  by: string | null;
  comment: string | null;
  decidedAt: string | null;
}

export interface AutomationDecisionInput {
  decision: 'approve' | 'reject';
  /** The artifacts hash the approver reviewed; a different one is refused (409). */
  artifactsHash: string;
  by: string;
  comment?: string | undefined;
}

export interface AutomationStepState {
  name: AutomationStepName;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  detail: string | null;
}

/** What a finished playbook run left: the runner's verdict, per-host counts, and where its log is. */
export interface AutomationOutcome {
  runnerStatus: 'successful' | 'failed' | 'timeout' | 'cancelled' | 'recap_missing' | 'lost';
  exitCode: number | null;
  recap: Record<string, HostRecap> | null;
  /** Lines of the full log stored in the store (GET …/log pages through them). */
  logLines: number;
  /** The last lines of the log (the whole log is in the store, never in history). */
  logTail: string;
  /** True when a retried step found the first execution instead of starting another. */
  reattached: boolean;
}

export interface AutomationWorkflowState {
  runId: string;
  status: AutomationStatus;
  checkMode: boolean;
  currentStep: AutomationStepName | null;
  steps: AutomationStepState[];
  hosts: AutomationHost[];
  generation: AutomationGeneration | null;
  /** What the request was understood as when no playbook could be written (status not_understood). */
  understood: Record<string, string> | null;
  artifacts: AutomationArtifacts | null;
  artifactsHash: string | null;
  findings: ValidationFinding[];
  approval: AutomationApproval | null;
  /** The last progress the run reported to the workflow (the row carries the live one). */
  progress: AutomationProgress | null;
  outcome: AutomationOutcome | null;
  summary: string | null;
  error: string | null;
}

/** What an automation run keeps in its projection: its state and its workflow as a describe would show it. */
export interface AutomationRunProjectionState {
  run: AutomationWorkflowState;
  workflow: { runId: string; status: ProjectedWorkflowStatus; startedAt: string; closedAt: string | null; historyLength: number };
}

export const automationStateQuery = defineQuery<AutomationWorkflowState>('automationState');

/** Approve or reject the artifacts; refused by the validator when nothing waits or the hash differs. */
export const automationApprovalUpdate = defineUpdate<AutomationApproval, [AutomationDecisionInput]>('decideAutomationApproval');

/** Names of the activities of the automation workflow, in the order they normally run. */
export const AUTOMATION_STEPS = [
  'recordAutomationRun',
  'resolveAutomationTargets',
  'generateAutomation',
  'validateAutomation',
  'acquireAutomationLeases',
  'renewAutomationLeases',
  'runPlaybook',
  'releaseAutomationLeases',
  'writeAutomationResult',
  'cleanupAutomationRun',
] as const;
export type AutomationStepName = (typeof AUTOMATION_STEPS)[number];
