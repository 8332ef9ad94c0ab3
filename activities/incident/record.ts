// Record step group: the incident row through the run: under investigation, its target, each
// intermediate status, and the final result (every write idempotent across retries).
import { FAILURE } from '../../core/contracts/failures.js';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { isTerminalIncidentStatus, type IncidentStatus } from '../../core/incident.js';
import type { IncidentTarget } from '../../core/contracts/incident.js';
import { redact, truncateText } from '../../core/redact.js';
import type { IncidentRunDeps } from './deps.js';

export interface IncidentRef {
  tenantId: string;
  incidentId: string;
}

export interface RecordIncidentResult {
  number: number;
  status: IncidentStatus;
  title: string;
  /** False when the incident was already past `open` (a retried or reset run). */
  transitioned: boolean;
}

export interface WriteIncidentResultInput extends IncidentRef {
  status: IncidentStatus;
  summary: string;
  details: Record<string, unknown>;
}

/**
 * Key for one side effect of one step of one workflow. Built from the workflow id (not the run id)
 * and the activity id, which are the same on every retry of the activity, so a retry after a
 * crash finds the first write instead of making a second. A local activity's id is its sequence
 * number in a workflow task, and a workflow task that fails runs its local activities again, maybe
 * along another path with other numbers: a step that runs once per run (recordIncident) is keyed by
 * the run instead.
 */
function sideEffectKey(step: string): string {
  const info = Context.current().info;
  const workflowId = info.workflowExecution?.workflowId;
  if (!workflowId) throw ApplicationFailure.nonRetryable(`${step} must run inside a workflow`, FAILURE.NotInWorkflow);
  return info.isLocal ? `${workflowId}/${info.workflowExecution.runId}/${step}` : `${workflowId}/${step}/${info.activityId}`;
}

export function createIncidentRecordActivities({ store, telemetry }: Pick<IncidentRunDeps, 'store' | 'telemetry'>) {
  return {
    /** Marks the incident as under investigation; the first step of every incident run. */
    async recordIncident({ tenantId, incidentId }: IncidentRef): Promise<RecordIncidentResult> {
      const incident = await store.incidents.get(tenantId, incidentId);
      if (!incident) {
        throw ApplicationFailure.nonRetryable(`Incident ${incidentId} does not exist`, FAILURE.IncidentNotFound);
      }
      const transitioned = incident.status === 'open';
      const updated = transitioned ? await store.incidents.update(tenantId, incidentId, { status: 'investigating' }) : incident;
      if (!updated) {
        throw ApplicationFailure.nonRetryable(`Incident ${incidentId} was deleted`, FAILURE.IncidentNotFound);
      }
      await store.jobLogs.append(tenantId, {
        incidentId,
        idempotencyKey: sideEffectKey('recordIncident'),
        action: 'incident.investigate',
        target: `incident:${incident.number}`,
        status: 'succeeded',
        detail: { from: incident.status, to: updated.status },
      });
      // Titles are operator text and may carry a pasted token; results land in history, so redact.
      return { number: updated.number, status: updated.status, title: redact(updated.title), transitioned };
    },

    /** Resolves the incident's CMDB item into a target; null when the item no longer exists. */
    async lookupCmdbItem({ tenantId, incidentId, tagId }: IncidentRef & { tagId: string }): Promise<IncidentTarget | null> {
      const item = await store.cmdb.get(tenantId, tagId);
      if (!item) return null;
      await store.incidents.update(tenantId, incidentId, { targetHost: item.hostname });
      return {
        tagId: item.tagId,
        hostname: item.hostname,
        address: item.address,
        port: item.port,
        environment: item.environment,
        sshUser: item.sshUser,
        sshCredential: item.sshCredential,
      };
    },

    /** Writes the run's outcome: one results row and the incident's final status (idempotent). */
    async writeIncidentResult(input: WriteIncidentResultInput): Promise<{ resultId: string; status: IncidentStatus }> {
      const { tenantId, incidentId, status } = input;
      const summary = truncateText(redact(input.summary), 4000);
      const details = redact(input.details);
      const key = sideEffectKey('writeIncidentResult');
      const before = await store.incidents.get(tenantId, incidentId);
      if (!before) {
        throw ApplicationFailure.nonRetryable(`Incident ${incidentId} does not exist`, FAILURE.IncidentNotFound);
      }
      const result = await store.results.write(tenantId, { incidentId, idempotencyKey: key, status, summary, details });
      const updated = await store.incidents.update(tenantId, incidentId, { status, summary });
      if (!updated) {
        throw ApplicationFailure.nonRetryable(`Incident ${incidentId} was deleted`, FAILURE.IncidentNotFound);
      }
      // Counted by the attempt that moved the row to its final status: a retry finds it there already.
      if (telemetry && !isTerminalIncidentStatus(before.status) && isTerminalIncidentStatus(updated.status)) {
        const seconds = (Date.now() - Date.parse(before.createdAt)) / 1000;
        telemetry.runEnded('incident', status, seconds);
        // An incident resolved elsewhere (PagerDuty) before the run changed anything is no verified fix of ours.
        const stoppedElsewhere = (input.details.resolvedElsewhere as { outcome?: string } | undefined)?.outcome === 'stopped';
        if (status === 'resolved' && !stoppedElsewhere) telemetry.remediationVerified(seconds);
      }
      await store.jobLogs.append(tenantId, {
        incidentId,
        idempotencyKey: key,
        action: 'incident.result',
        target: `incident:${updated.number}`,
        status: 'succeeded',
        detail: { status, resultId: result.id },
      });
      return { resultId: result.id, status };
    },

    /** Records an intermediate status on the incident row, so lists and filters see it too. */
    async setIncidentStatus({
      tenantId,
      incidentId,
      status,
    }: {
      tenantId: string;
      incidentId: string;
      status: 'awaiting_approval' | 'remediating' | 'verifying';
    }): Promise<void> {
      const incident = await store.incidents.get(tenantId, incidentId);
      if (!incident) throw ApplicationFailure.nonRetryable(`Incident ${incidentId} does not exist`, FAILURE.IncidentNotFound);
      await store.incidents.update(tenantId, incidentId, { status });
    },
  };
}
