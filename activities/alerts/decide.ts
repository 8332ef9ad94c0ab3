import { ApplicationFailure, Context } from '@temporalio/activity';
import type { PolicyJob, PolicyJobStatus, PolicyLimitReason } from '../../adapters/store/port.js';
import { FAILURE } from '../../core/contracts/failures.js';
import { matchAlert } from '../../core/policies/evaluate.js';
import { DEFAULT_HOST_LABEL, type PolicyActionType, type PolicyAlert } from '../../core/policies/model.js';
import { resolveHost, type AlertActivityDeps } from './deps.js';

// Decision step group: which policy acts on the alert (matchAlert over the tenant's policies) and
// whether its limits let it (policyJobs.claimRun, atomic with the job it records), the job's life
// (running with the workflow id, finished with the breaker moved) and lines added after its end.
// Every write is keyed by the workflow id, so a retried activity answers the first decision.

/** Labels tried, in order, for the host of an alert no policy matched (escalation). */
export const ESCALATION_HOST_LABELS = [DEFAULT_HOST_LABEL, 'host', 'hostname', 'node'] as const;

export type AlertDecision =
  | {
      kind: 'act';
      jobId: string;
      /** queued normally; running or ended when a reset run finds its own job. */
      jobStatus: PolicyJobStatus;
      policy: { id: string; name: string };
      action: { type: PolicyActionType; params: Record<string, string | number | boolean> };
      host: string | null;
      trial: boolean;
      detail: string | null;
    }
  | { kind: 'limited'; jobId: string; policy: { id: string; name: string } | null; limit: PolicyLimitReason | null; detail: string }
  | { kind: 'unusable'; jobId: string; policy: { id: string; name: string } | null; detail: string }
  | { kind: 'unmatched'; jobId: string; detail: string }
  | { kind: 'escalated'; jobId: string; detail: string }
  /** No policy matched, escalation is on and the host is in the CMDB: nothing is recorded yet (the run raises the incident first). */
  | { kind: 'escalate'; tagId: string; hostname: string; hostLabel: string };

export function workflowIdOf(): string {
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (!workflowId) throw ApplicationFailure.nonRetryable('Alert steps run inside workflows only', FAILURE.NotInWorkflow);
  return workflowId;
}

const decisionKey = (workflowId: string) => `${workflowId}/decision`;

/** The decision a job row records (a repeat answers the first one, whatever the policies are now). */
function fromJob(job: PolicyJob): Exclude<AlertDecision, { kind: 'escalate' }> {
  const policy = job.policyId ? { id: job.policyId, name: job.policyName ?? job.policyId } : null;
  switch (job.status) {
    case 'limited':
      return { kind: 'limited', jobId: job.id, policy, limit: job.limitReason, detail: job.detail ?? 'a limit stopped it' };
    case 'unusable':
      return { kind: 'unusable', jobId: job.id, policy, detail: job.detail ?? 'the policy cannot use this alert' };
    case 'unmatched':
      return { kind: 'unmatched', jobId: job.id, detail: job.detail ?? 'no policy matched' };
    case 'escalated':
      return { kind: 'escalated', jobId: job.id, detail: job.detail ?? 'escalated' };
    default:
      return {
        kind: 'act',
        jobId: job.id,
        jobStatus: job.status,
        policy: policy!,
        action: { type: job.actionType!, params: job.params ?? {} },
        host: job.host,
        trial: job.trial,
        detail: job.detail,
      };
  }
}

export function createAlertDecisionActivities({ store }: AlertActivityDeps) {
  /** Records an alert no policy matched: `escalated` (an incident was raised) or `unmatched`. */
  async function recordAlertDecision(input: {
    tenantId: string;
    alert: PolicyAlert;
    status: 'unmatched' | 'escalated';
    detail: string;
  }): Promise<Exclude<AlertDecision, { kind: 'escalate' }>> {
    const workflowId = workflowIdOf();
    const { job } = await store.policyJobs.record(input.tenantId, {
      status: input.status,
      alert: input.alert,
      policy: null,
      detail: input.detail,
      workflowId,
      now: new Date(),
      idempotencyKey: decisionKey(workflowId),
    });
    return fromJob(job);
  }

  return {
    recordAlertDecision,

    /**
     * Reads the tenant's policies, matches the alert and records the decision: a run claimed
     * against the limits (queued or limited), unusable, or unmatched. With escalation on, an
     * unmatched alert whose host label names a CMDB item is returned as `escalate`, unrecorded.
     */
    async decideAlert(input: { tenantId: string; alert: PolicyAlert; escalateUnmatched: boolean }): Promise<AlertDecision> {
      const { tenantId, alert } = input;
      const workflowId = workflowIdOf();
      const idempotencyKey = decisionKey(workflowId);
      const now = new Date();
      const match = matchAlert(alert, await store.policies.all(tenantId));
      if (match.kind === 'act') {
        const { job } = await store.policyJobs.claimRun(tenantId, { match, alert, now, idempotencyKey });
        return fromJob(job);
      }
      if (match.kind === 'unusable') {
        const { job } = await store.policyJobs.record(tenantId, {
          status: 'unusable',
          alert,
          policy: match.policy,
          detail: `${match.policy.name} cannot use this alert: ${match.reason}`,
          workflowId,
          now,
          idempotencyKey,
        });
        return fromJob(job);
      }
      if (input.escalateUnmatched) {
        for (const label of ESCALATION_HOST_LABELS) {
          const host = alert.labels[label];
          if (!host) continue;
          const item = await resolveHost(store, tenantId, host);
          if (item) return { kind: 'escalate', tagId: item.tagId, hostname: item.hostname, hostLabel: label };
        }
      }
      const why = input.escalateUnmatched
        ? `no enabled policy matched; not escalated: no ${ESCALATION_HOST_LABELS.join('/')} label names a CMDB item`
        : 'no enabled policy matched';
      return recordAlertDecision({ tenantId, alert, status: 'unmatched', detail: why });
    },

    /** queued → running, with this workflow's id (GET /api/v1/jobs/{id} shows it). */
    async markAlertJobRunning({ tenantId, jobId }: { tenantId: string; jobId: string }): Promise<{ status: PolicyJobStatus }> {
      const job = await store.policyJobs.markRunning(tenantId, jobId, workflowIdOf(), new Date());
      if (!job) throw ApplicationFailure.nonRetryable(`Job ${jobId} no longer exists`, FAILURE.PolicyJobNotFound);
      return { status: job.status };
    },

    /**
     * Ends the job and moves the policy's breaker. A job that already ended is answered as it ended
     * (a repeat never counts a failure twice); `breakerOpened` is true for the one end that opened it.
     */
    async finishAlertJob(input: {
      tenantId: string;
      jobId: string;
      succeeded: boolean;
      detail: string;
    }): Promise<{ status: PolicyJobStatus; breakerOpened: boolean; policyName: string | null }> {
      const end = await store.policyJobs.finishRun(
        input.tenantId,
        input.jobId,
        { succeeded: input.succeeded, detail: input.detail.slice(0, 4000) },
        new Date(),
      );
      if (!end) return { status: 'failed', breakerOpened: false, policyName: null };
      return { status: end.job.status, breakerOpened: end.breakerOpened, policyName: end.job.policyName };
    },

    /** A line added to the job's detail after its end (once, however often a retry adds it). */
    async addAlertJobDetail({ tenantId, jobId, line }: { tenantId: string; jobId: string; line: string }): Promise<void> {
      await store.policyJobs.addDetail(tenantId, jobId, line.slice(0, 1000));
    },
  };
}
