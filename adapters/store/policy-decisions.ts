import { randomUUID } from 'node:crypto';
import {
  breakerAfterRun,
  breakerOnTrial,
  checkLimits,
  CLOSED_BREAKER,
  type BreakerRecord,
  type PolicyUsage,
} from '../../core/policies/evaluate.js';
import type { SelfHealingPolicy } from '../../core/policies/model.js';
import { StoreUnavailableError, type PolicyClaim, type PolicyDecisionRecord, type PolicyJob, type PolicyRunEnd } from './port.js';
import { iso, isoOrNull, jsonRow, toPolicyJob, type Row } from './rows.js';

// The job log's decisions, shared by every store adapter: read the usage (infraai_policy_usage,
// one statement), decide with the pure core (checkLimits, breakerAfterRun), and record the decision
// only if claim_seq is unchanged since the read (infraai_record_policy_claim, infraai_finish_policy_job).
// The SQL store runs this inside a transaction holding the policy's advisory lock, so the record is
// never stale there; the Supabase store has no transaction (PostgREST) and reads again when it is.

/** The three store functions of migration 0010, as each adapter calls them. */
export interface PolicyDecisionDb {
  usage(tenantId: string, policyId: string, cooldownKey: string, now: Date): Promise<unknown>;
  recordClaim(job: Row, expectedSeq: number, breaker: BreakerRecord | null): Promise<unknown>;
  finish(
    tenantId: string,
    jobId: string,
    status: 'succeeded' | 'failed',
    detail: string | null,
    now: Date,
    expectedSeq: number,
    breaker: BreakerRecord,
  ): Promise<unknown>;
  job(tenantId: string, jobId: string): Promise<PolicyJob | null>;
  policy(tenantId: string, policyId: string): Promise<SelfHealingPolicy | null>;
}

// Each lost race means another decision was recorded, so this bounds the work of one claim
// under any number of concurrent ones that can still succeed.
const MAX_ATTEMPTS = 200;

function toBreaker(value: unknown): BreakerRecord {
  const r = jsonRow(value);
  const state = r.state === 'open' || r.state === 'half_open' ? r.state : 'closed';
  return { state, consecutiveFailures: Number(r.consecutiveFailures ?? 0), openedAt: isoOrNull(r.openedAt) };
}

export function toUsage(value: unknown): { usage: PolicyUsage; claimSeq: number } {
  const r = jsonRow(value);
  return {
    usage: {
      runsLastHour: Number(r.runsLastHour ?? 0),
      runsLastDay: Number(r.runsLastDay ?? 0),
      lastRunForKey: isoOrNull(r.lastRunForKey),
      hostsInFlight: Array.isArray(r.hostsInFlight) ? r.hostsInFlight.map(String) : [],
      breaker: r.breaker ? toBreaker(r.breaker) : CLOSED_BREAKER,
    },
    claimSeq: Number(r.claimSeq ?? 0),
  };
}

/** One decision per alert notification: its status, fingerprint and start. */
export function decisionKey(alert: { status: string; fingerprint: string; startsAt: string }): string {
  return `${alert.status}:${alert.fingerprint}:${iso(alert.startsAt)}`;
}

function answered(value: unknown, what: string): { outcome: string; job: PolicyJob | null } {
  const r = jsonRow(value);
  const outcome = String(r.outcome ?? '');
  if (!outcome) throw new Error(`${what} answered nothing`);
  return { outcome, job: r.job ? toPolicyJob(jsonRow(r.job)) : null };
}

function contended(what: string): never {
  throw new StoreUnavailableError(`${what}: still contended after ${MAX_ATTEMPTS} attempts`);
}

export async function claimRunWith(
  db: PolicyDecisionDb,
  tenantId: string,
  claim: PolicyClaim,
): Promise<{ job: PolicyJob; created: boolean }> {
  const { match, alert, now } = claim;
  const { policy } = match;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const { usage, claimSeq } = toUsage(await db.usage(tenantId, policy.id, match.cooldownKey, now));
    const verdict = checkLimits(policy, usage, match.host, now);
    const job: Row = {
      id: randomUUID(),
      tenant_id: tenantId,
      policy_id: policy.id,
      policy_name: policy.name,
      action_type: policy.action.type,
      fingerprint: alert.fingerprint,
      starts_at: iso(alert.startsAt),
      alert_status: alert.status,
      labels: alert.labels,
      host: match.host,
      cooldown_key: match.cooldownKey,
      params: match.params,
      status: verdict.allowed ? 'queued' : 'limited',
      limit_reason: verdict.allowed ? null : verdict.limit,
      detail: verdict.allowed ? null : `${verdict.detail}${verdict.until ? ` (until ${verdict.until})` : ''}`,
      trial: verdict.allowed && verdict.trial,
      workflow_id: null,
      idempotency_key: claim.idempotencyKey ?? decisionKey(alert),
      decided_at: now.toISOString(),
    };
    const breaker = verdict.allowed && verdict.trial ? breakerOnTrial(usage.breaker) : null;
    const answer = answered(await db.recordClaim(job, claimSeq, breaker), 'infraai_record_policy_claim');
    if (answer.outcome === 'stale') continue;
    if (!answer.job) throw new Error(`infraai_record_policy_claim answered ${answer.outcome} without a job`);
    return { job: answer.job, created: answer.outcome === 'recorded' };
  }
  return contended(`claiming a run of policy ${policy.id}`);
}

export async function recordDecisionWith(
  db: PolicyDecisionDb,
  tenantId: string,
  decision: PolicyDecisionRecord,
): Promise<{ job: PolicyJob; created: boolean }> {
  const { alert, policy } = decision;
  const job: Row = {
    id: randomUUID(),
    tenant_id: tenantId,
    policy_id: policy?.id ?? null,
    policy_name: policy?.name ?? null,
    action_type: policy?.action.type ?? null,
    fingerprint: alert.fingerprint,
    starts_at: iso(alert.startsAt),
    alert_status: alert.status,
    labels: alert.labels,
    host: null,
    cooldown_key: null,
    params: null,
    status: decision.status,
    limit_reason: null,
    detail: decision.detail,
    trial: false,
    workflow_id: decision.workflowId ?? null,
    idempotency_key: decision.idempotencyKey ?? decisionKey(alert),
    decided_at: decision.now.toISOString(),
  };
  // Not a run: nothing the limits see changes, so no sequence is compared.
  const answer = answered(await db.recordClaim(job, 0, null), 'infraai_record_policy_claim');
  if (!answer.job) throw new Error(`infraai_record_policy_claim answered ${answer.outcome} without a job`);
  return { job: answer.job, created: answer.outcome === 'recorded' };
}

export async function finishRunWith(
  db: PolicyDecisionDb,
  tenantId: string,
  jobId: string,
  outcome: { succeeded: boolean; detail?: string | null },
  now: Date,
): Promise<PolicyRunEnd | null> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const job = await db.job(tenantId, jobId);
    if (!job) return null;
    if (job.status !== 'queued' && job.status !== 'running') return { job, breaker: null, breakerOpened: false };
    const policy = job.policyId ? await db.policy(tenantId, job.policyId) : null;
    const { usage, claimSeq } = policy ? toUsage(await db.usage(tenantId, policy.id, '', now)) : { usage: null, claimSeq: 0 };
    const before = usage?.breaker ?? CLOSED_BREAKER;
    const after = policy ? breakerAfterRun(policy, before, outcome.succeeded, now) : CLOSED_BREAKER;
    const status = outcome.succeeded ? 'succeeded' : 'failed';
    const answer = answered(
      await db.finish(tenantId, jobId, status, outcome.detail ?? null, now, claimSeq, after),
      'infraai_finish_policy_job',
    );
    if (answer.outcome === 'stale') continue;
    if (answer.outcome === 'not_found') return null;
    if (!answer.job) throw new Error(`infraai_finish_policy_job answered ${answer.outcome} without a job`);
    if (answer.outcome === 'ended') return { job: answer.job, breaker: null, breakerOpened: false };
    return {
      job: answer.job,
      breaker: policy ? after : null,
      breakerOpened: policy !== null && after.state === 'open' && before.state !== 'open',
    };
  }
  return contended(`finishing policy job ${jobId}`);
}
