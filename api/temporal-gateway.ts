import {
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { TimeoutFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import {
  DIAGNOSIS_WORKFLOW_TYPE,
  diagnosisWorkflowId,
  type DiagnoseErrorInput,
  type DiagnosisResult,
} from '../core/contracts/diagnosis.js';
import { incidentWorkflowId } from '../core/contracts/incident.js';
import { INGESTION_WORKFLOW_TYPE, ingestionWorkflowId, type IngestDocumentInput } from '../core/contracts/knowledge-ingestion.js';
import {
  INCIDENT_WORKFLOW_TYPE,
  incidentStateQuery,
  SEARCH_ATTRIBUTES,
  type IncidentWorkflowState,
  type RemediateIncidentInput,
} from '../core/contracts/incident.js';
import {
  ALERT_WORKFLOW_TYPE,
  alertApprovalUpdate,
  alertResolvedSignal,
  type AlertApproval,
  type AlertDecisionInput,
  type HandleAlertInput,
} from '../core/contracts/alerts.js';
import { redact } from '../core/redact.js';
import { ProblemError } from './problem.js';
import { type ApprovalDecisionInput, type ApprovalState } from '../core/remediation.js';
import { approvalUpdate } from '../core/contracts/incident.js';
import {
  AUTOMATION_WORKFLOW_TYPE,
  automationApprovalUpdate,
  automationWorkflowId,
  type AutomationApproval,
  type AutomationDecisionInput,
  type RunAutomationInput,
} from '../core/contracts/automation.js';

import {
  PROVISION_WORKFLOW_TYPE,
  provisionWorkflowId,
  pullRequestReviewedSignal,
  type ProvisionInfrastructureInput,
  type PullRequestReview,
} from '../core/contracts/provisioning.js';
import type { AlertRunStatus } from '../ingress/alert-job-reconciler.js';

export interface WorkflowSummary {
  id: string;
  runId: string;
  status: string;
  startedAt: string;
  closedAt: string | null;
  historyLength: number;
}

/** What the API needs from Temporal for incidents; starts the workflow by name, never loading its code. */
export interface IncidentWorkflowGateway {
  start(input: RemediateIncidentInput & { targetHost: string }): Promise<{ workflowId: string; runId: string }>;
  describe(workflowId: string): Promise<WorkflowSummary>;
  queryState(workflowId: string, timeoutMs: number): Promise<IncidentWorkflowState>;
  /** The final state a completed run returned, read from its close event (no worker replay). */
  completedState(workflowId: string, timeoutMs: number): Promise<IncidentWorkflowState>;
  cancel(workflowId: string): Promise<void>;
  /** Approves or rejects the plan a run waits on; 409 when nothing waits or the plan changed. */
  decideApproval(workflowId: string, decision: ApprovalDecisionInput): Promise<ApprovalState>;
  fetchHistory(workflowId: string): Promise<temporal.api.history.v1.IHistory>;
  ping(timeoutMs: number): Promise<void>;
}

// gRPC status codes that mean "the engine is not reachable right now" rather than a bad request.
const UNAVAILABLE_CODES = new Set([4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 14 /* UNAVAILABLE */]);

/** Temporal errors mapped to HTTP once, here. */
export function mapTemporalError(err: unknown): never {
  if (err instanceof ProblemError) throw err;
  if (err instanceof WorkflowNotFoundError) throw new ProblemError(404, 'not-found', 'The workflow run was not found.');
  if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ProblemError(409, 'conflict', 'The workflow is already running.');
  if (err instanceof WorkflowFailedError) {
    // A run the API waited on (diagnosis) ended badly: the engine's answer, not the client's fault.
    if (err.cause instanceof TimeoutFailure) throw new ProblemError(504, 'workflow-timed-out', 'The workflow run did not finish in time.');
    throw new ProblemError(502, 'workflow-failed', `The workflow run failed: ${redact(err.cause?.message ?? err.message)}`);
  }
  if (isGrpcServiceError(err) && err.code === 5 /* NOT_FOUND */)
    throw new ProblemError(404, 'not-found', 'The workflow run was not found.');
  if ((isGrpcServiceError(err) && UNAVAILABLE_CODES.has(err.code)) || isConnectionError(err)) {
    throw new ProblemError(
      503,
      'workflow-engine-unavailable',
      'The workflow engine (Temporal) is not reachable; try again shortly.',
      undefined,
      { 'retry-after': '5' },
    );
  }
  throw err;
}

function isConnectionError(err: unknown): boolean {
  const message = err instanceof Error ? `${err.name} ${err.message} ${String((err as { cause?: unknown }).cause ?? '')}` : String(err);
  return /ServiceError|UNAVAILABLE|ECONNREFUSED|Deadline exceeded|DEADLINE_EXCEEDED|No connection established|Failed to connect/i.test(
    message,
  );
}

export function createTemporalIncidentGateway(client: Client, options: { taskQueue: string }): IncidentWorkflowGateway {
  const withDeadline = <T>(timeoutMs: number, fn: () => Promise<T>): Promise<T> =>
    client.connection.withDeadline(Date.now() + timeoutMs, fn);

  return {
    async start(input) {
      const workflowId = incidentWorkflowId(input.incidentId);
      const { targetHost, ...args } = input;
      try {
        const handle = await withDeadline(10_000, () =>
          client.workflow.start(INCIDENT_WORKFLOW_TYPE, {
            workflowId,
            taskQueue: options.taskQueue,
            args: [args satisfies RemediateIncidentInput],
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            workflowIdConflictPolicy: 'FAIL',
            typedSearchAttributes: [
              { key: SEARCH_ATTRIBUTES.tenant, value: input.tenantSlug },
              { key: SEARCH_ATTRIBUTES.severity, value: input.severity },
              { key: SEARCH_ATTRIBUTES.incidentStatus, value: 'open' },
              { key: SEARCH_ATTRIBUTES.targetHost, value: targetHost },
            ],
          }),
        );
        return { workflowId, runId: handle.firstExecutionRunId };
      } catch (err) {
        return mapTemporalError(err);
      }
    },
    async describe(workflowId) {
      try {
        const description = await withDeadline(3000, () => client.workflow.getHandle(workflowId).describe());
        return {
          id: description.workflowId,
          runId: description.runId,
          status: description.status.name,
          startedAt: description.startTime.toISOString(),
          closedAt: description.closeTime?.toISOString() ?? null,
          historyLength: description.historyLength,
        };
      } catch (err) {
        return mapTemporalError(err);
      }
    },
    async queryState(workflowId, timeoutMs) {
      try {
        return await withDeadline(timeoutMs, () => client.workflow.getHandle(workflowId).query(incidentStateQuery));
      } catch (err) {
        return mapTemporalError(err);
      }
    },
    async completedState(workflowId, timeoutMs) {
      try {
        return (await withDeadline(timeoutMs, () => client.workflow.getHandle(workflowId).result())) as IncidentWorkflowState;
      } catch (err) {
        return mapTemporalError(err);
      }
    },
    async cancel(workflowId) {
      try {
        await withDeadline(5000, () => client.workflow.getHandle(workflowId).cancel());
      } catch (err) {
        mapTemporalError(err);
      }
    },
    async decideApproval(workflowId, decision) {
      try {
        return await withDeadline(10_000, () => client.workflow.getHandle(workflowId).executeUpdate(approvalUpdate, { args: [decision] }));
      } catch (err) {
        // The workflow's validator refused (nothing pending, plan changed): a conflict, with its reason.
        if (err instanceof WorkflowUpdateFailedError) throw new ProblemError(409, 'conflict', err.cause?.message ?? err.message);
        if (isGrpcServiceError(err) && err.code === 5 /* NOT_FOUND: run already closed */)
          throw new ProblemError(409, 'conflict', 'The incident’s run has finished; there is nothing to approve.');
        return mapTemporalError(err);
      }
    },
    async fetchHistory(workflowId) {
      try {
        return await withDeadline(10_000, () => client.workflow.getHandle(workflowId).fetchHistory());
      } catch (err) {
        return mapTemporalError(err);
      }
    },
    async ping(timeoutMs) {
      try {
        await withDeadline(timeoutMs, () => client.connection.workflowService.describeNamespace({ namespace: client.options.namespace }));
      } catch (err) {
        mapTemporalError(err);
      }
    },
  };
}

/** Runs the error diagnosis workflow and waits for its answer. */
export interface DiagnosisGateway {
  diagnose(input: DiagnoseErrorInput, timeoutMs: number): Promise<{ workflowId: string; result: DiagnosisResult }>;
}

export function createTemporalDiagnosisGateway(client: Client, options: { taskQueue: string }): DiagnosisGateway {
  return {
    async diagnose(input, timeoutMs) {
      const workflowId = diagnosisWorkflowId(randomUUID());
      try {
        const result = await client.connection.withDeadline(Date.now() + timeoutMs, () =>
          client.workflow.execute(DIAGNOSIS_WORKFLOW_TYPE, {
            workflowId,
            taskQueue: options.taskQueue,
            args: [input],
            workflowExecutionTimeout: `${Math.ceil(timeoutMs / 1000)} seconds`,
          }),
        );
        return { workflowId, result: result as DiagnosisResult };
      } catch (err) {
        return mapTemporalError(err);
      }
    },
  };
}

/** Starts the ingestion workflow of a staged knowledge document. */
export interface IngestionGateway {
  start(input: IngestDocumentInput): Promise<{ workflowId: string }>;
}

export function createTemporalIngestionGateway(client: Client, options: { taskQueue: string }): IngestionGateway {
  return {
    async start(input) {
      const workflowId = ingestionWorkflowId(input.docId);
      try {
        await client.connection.withDeadline(Date.now() + 10_000, () =>
          client.workflow.start(INGESTION_WORKFLOW_TYPE, {
            workflowId,
            taskQueue: options.taskQueue,
            args: [input],
            // The same document again while it is ingesting joins that run; after a failure it starts anew.
            workflowIdReusePolicy: 'ALLOW_DUPLICATE',
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        );
        return { workflowId };
      } catch (err) {
        return mapTemporalError(err);
      }
    },
  };
}

/** What the API needs from Temporal for automation runs; starts the workflow by name. */
export interface AutomationWorkflowGateway {
  start(input: RunAutomationInput): Promise<{ workflowId: string }>;
  cancel(workflowId: string): Promise<void>;
  /** Approves or rejects the artifacts a run waits on; 409 when nothing waits or the hash differs. */
  decideApproval(workflowId: string, decision: AutomationDecisionInput): Promise<AutomationApproval>;
}

export function createTemporalAutomationGateway(client: Client, options: { taskQueue: string }): AutomationWorkflowGateway {
  const withDeadline = <T>(timeoutMs: number, fn: () => Promise<T>): Promise<T> =>
    client.connection.withDeadline(Date.now() + timeoutMs, fn);
  return {
    async start(input) {
      const workflowId = automationWorkflowId(input.runId);
      try {
        await withDeadline(10_000, () =>
          client.workflow.start(AUTOMATION_WORKFLOW_TYPE, {
            workflowId,
            taskQueue: options.taskQueue,
            args: [input],
            // One run per id, ever: a retried start never runs a playbook twice.
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            workflowIdConflictPolicy: 'FAIL',
            typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.tenant, value: input.tenantSlug }],
          }),
        );
        return { workflowId };
      } catch (err) {
        return mapTemporalError(err);
      }
    },
    async cancel(workflowId) {
      try {
        await withDeadline(5000, () => client.workflow.getHandle(workflowId).cancel());
      } catch (err) {
        mapTemporalError(err);
      }
    },
    async decideApproval(workflowId, decision) {
      try {
        return await withDeadline(10_000, () =>
          client.workflow.getHandle(workflowId).executeUpdate(automationApprovalUpdate, { args: [decision] }),
        );
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) throw new ProblemError(409, 'conflict', err.cause?.message ?? err.message);
        if (isGrpcServiceError(err) && err.code === 5 /* NOT_FOUND: run already closed */)
          throw new ProblemError(409, 'conflict', 'The automation run has finished; there is nothing to approve.');
        return mapTemporalError(err);
      }
    },
  };
}

/** What the API needs from Temporal for provisioning requests; starts the workflow by name. */
export interface ProvisioningWorkflowGateway {
  start(input: ProvisionInfrastructureInput): Promise<{ workflowId: string }>;
  /** Tells the run its pull request was merged or closed; `no_run` when the run has ended (or never was). */
  signalReviewed(workflowId: string, review: PullRequestReview): Promise<'signalled' | 'no_run'>;
}

export function createTemporalProvisioningGateway(client: Client, options: { taskQueue: string }): ProvisioningWorkflowGateway {
  const withDeadline = <T>(timeoutMs: number, fn: () => Promise<T>): Promise<T> =>
    client.connection.withDeadline(Date.now() + timeoutMs, fn);
  return {
    async start(input) {
      const workflowId = provisionWorkflowId(input.requestId);
      try {
        await withDeadline(10_000, () =>
          client.workflow.start(PROVISION_WORKFLOW_TYPE, {
            workflowId,
            taskQueue: options.taskQueue,
            args: [input],
            // One run per request, ever: a retried start never opens a second pull request.
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            workflowIdConflictPolicy: 'FAIL',
            typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.tenant, value: input.tenantSlug }],
          }),
        );
        return { workflowId };
      } catch (err) {
        return mapTemporalError(err);
      }
    },
    async signalReviewed(workflowId, review) {
      try {
        await withDeadline(5000, () => client.workflow.getHandle(workflowId).signal(pullRequestReviewedSignal, review));
        return 'signalled';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === 5)) return 'no_run';
        return mapTemporalError(err);
      }
    },
  };
}

/** What the Alertmanager webhook and the job approval route need from Temporal for alert runs. */
export interface AlertWorkflowGateway {
  /**
   * Starts the alert's run under `workflowId` (alertWorkflowId of the alert as sent); `joined` when a
   * run with that id exists or existed (a retry, an HA pair's duplicate).
   */
  start(workflowId: string, input: HandleAlertInput): Promise<{ workflowId: string; outcome: 'started' | 'joined' }>;
  /** Tells the alert's run it resolved; `not_found` when no run is open under that id (then it is only recorded). */
  signalResolved(workflowId: string, endsAt: string): Promise<'signalled' | 'not_found'>;
  /** Approves or rejects the command a run waits on; 409 when nothing waits or the command changed. */
  decideApproval(workflowId: string, decision: AlertDecisionInput): Promise<AlertApproval>;
  /** Whether the run is open, closed (with Temporal's status) or unknown: what the job reconciler asks. */
  runStatus(workflowId: string): Promise<AlertRunStatus>;
}

export function createTemporalAlertGateway(client: Client, options: { taskQueue: string }): AlertWorkflowGateway {
  // Alertmanager waits for the answer (10 s by default): each call is bounded well inside it.
  const withDeadline = <T>(timeoutMs: number, fn: () => Promise<T>): Promise<T> =>
    client.connection.withDeadline(Date.now() + timeoutMs, fn);
  return {
    async start(workflowId, input) {
      try {
        await withDeadline(5000, () =>
          client.workflow.start(ALERT_WORKFLOW_TYPE, {
            workflowId,
            taskQueue: options.taskQueue,
            args: [input],
            // One run per alert episode, ever: a repeat joins it, even once it has closed.
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            workflowIdConflictPolicy: 'FAIL',
            typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.tenant, value: input.tenantSlug }],
          }),
        );
        return { workflowId, outcome: 'started' };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, outcome: 'joined' };
        return mapTemporalError(err);
      }
    },
    async signalResolved(workflowId, endsAt) {
      try {
        await withDeadline(5000, () => client.workflow.getHandle(workflowId).signal(alertResolvedSignal, { endsAt }));
        return 'signalled';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === 5)) return 'not_found';
        return mapTemporalError(err);
      }
    },
    async decideApproval(workflowId, decision) {
      try {
        return await withDeadline(10_000, () =>
          client.workflow.getHandle(workflowId).executeUpdate(alertApprovalUpdate, { args: [decision] }),
        );
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) throw new ProblemError(409, 'conflict', err.cause?.message ?? err.message);
        if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === 5))
          throw new ProblemError(409, 'conflict', 'The job’s run has finished; there is nothing to approve.');
        return mapTemporalError(err);
      }
    },
    async runStatus(workflowId) {
      try {
        const { status } = await withDeadline(5000, () => client.workflow.getHandle(workflowId).describe());
        return status.name === 'RUNNING' ? { state: 'open' } : { state: 'closed', status: status.name };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === 5)) return { state: 'not_found' };
        throw err;
      }
    },
  };
}
