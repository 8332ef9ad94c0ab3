// Contract of the infrastructure provisioning workflow shared by the workflow, the worker and API
// clients. Workflow-safe: plain types plus message definitions (defineQuery/defineSignal are pure).
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ProvisionPolicyFinding } from '../provisioning/types.js';

/** Registered workflow type name; the API starts it by this name and never loads workflow code. */
export const PROVISION_WORKFLOW_TYPE = 'provisionInfrastructure';

export function provisionWorkflowId(requestId: string): string {
  return `provision-${requestId}`;
}

const BRANCH_PREFIX = 'infraai/provision-';

/** The branch a request's files are committed to: every git step finds it again by this name. */
export function provisionBranch(requestId: string): string {
  return `${BRANCH_PREFIX}${requestId}`;
}

/** The request id behind a branch name (a pull request's head), or null for any other branch. */
export function requestIdOfBranch(branch: string): string | null {
  const ref = branch.startsWith('refs/heads/') ? branch.slice('refs/heads/'.length) : branch;
  if (!ref.startsWith(BRANCH_PREFIX)) return null;
  const id = ref.slice(BRANCH_PREFIX.length);
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? id.toLowerCase() : null;
}

/**
 * Where a request is. Every request starts `queued` (its row, written by the API after the request
 * was parsed once there) and ends in exactly one of the final statuses:
 * - `queued`: recorded by the API, the workflow has not started its first step yet;
 * - `parsing`: the request's text is turned into requirements (the grammar, or the LLM);
 * - `generating`: the Terraform files are rendered from the maintained templates;
 * - `validating`: the files are checked as HCL;
 * - `policy_check`: the tenant's rules (tags, encryption, no public buckets…) and Checkov;
 * - `creating_pr`: the branch `infraai/provision-<id>`, one commit, the pull request;
 * - `awaiting_review`: the pull request is open; the run waits for it to be merged or closed (the
 *   GitHub webhook, the local review route, or polling), reminds once, then expires;
 * final:
 * - `completed`: the pull request was merged;
 * - `cancelled`: the pull request was closed without merging, or the run was cancelled;
 * - `expired`: nobody merged or closed the pull request before the review deadline;
 * - `failed`: a step failed for good (the git host refused, generated files did not validate…);
 * - `blocked`: the policy found at least one error: nothing was pushed;
 * - `not_understood`: the request could not be parsed into requirements: nothing was generated.
 */
export const PROVISION_STATUSES = [
  'queued',
  'parsing',
  'generating',
  'validating',
  'policy_check',
  'creating_pr',
  'awaiting_review',
  'completed',
  'cancelled',
  'expired',
  'failed',
  'blocked',
  'not_understood',
] as const;
export type ProvisionStatus = (typeof PROVISION_STATUSES)[number];

export const FINAL_PROVISION_STATUSES = [
  'completed',
  'cancelled',
  'expired',
  'failed',
  'blocked',
  'not_understood',
] as const satisfies readonly ProvisionStatus[];
export type FinalProvisionStatus = (typeof FINAL_PROVISION_STATUSES)[number];

export function isFinalProvisionStatus(status: string): status is FinalProvisionStatus {
  return (FINAL_PROVISION_STATUSES as readonly string[]).includes(status);
}

/** Reference 004's status values (`GET /api/v1/requests/{id}/status`). */
export const REFERENCE_PROVISION_STATUSES = ['queued', 'parsing', 'generating', 'creating_pr', 'completed', 'failed'] as const;
export type ReferenceProvisionStatus = (typeof REFERENCE_PROVISION_STATUSES)[number];

/**
 * A status as reference 004 spells it. Its `completed` means "pull request created", so a request
 * awaiting review is `completed` there too; every ending other than a merge is its `failed`.
 */
export function referenceProvisionStatus(status: ProvisionStatus): ReferenceProvisionStatus {
  switch (status) {
    case 'queued':
    case 'parsing':
    case 'creating_pr':
      return status;
    case 'generating':
    case 'validating':
    case 'policy_check':
      return 'generating';
    case 'awaiting_review':
    case 'completed':
      return 'completed';
    default:
      return 'failed';
  }
}

export interface ProvisionSettings {
  /** How long an open pull request is waited on before the request ends `expired` (ms). */
  reviewTimeoutMs: number;
  /** A reminder is recorded this long before the review deadline (ms); 0: none. */
  reminderBeforeMs: number;
  /** How often the pull request's state is read from the git host while no webhook arrives (ms). */
  pollIntervalMs: number;
}

export const DEFAULT_PROVISION_SETTINGS: ProvisionSettings = {
  reviewTimeoutMs: 7 * 24 * 60 * 60_000,
  reminderBeforeMs: 24 * 60 * 60_000,
  pollIntervalMs: 15 * 60_000,
};

export interface ProvisionInfrastructureInput {
  tenantId: string;
  tenantSlug: string;
  /** The request's id (its row); the workflow id is `provision-<requestId>`. */
  requestId: string;
  /** Fixed at start so the run's history shows them. */
  settings?: ProvisionSettings | undefined;
}

/** The pull request's end, as the webhook, the local review route or a poll reports it. */
export interface PullRequestReview {
  number: number;
  state: 'merged' | 'closed';
}

/** Where the review wait stands: what the state query and the row show. */
export interface ProvisionReviewState {
  deadline: string;
  remindedAt: string | null;
  /** Polls of the git host so far (the fallback when no webhook arrives). */
  polls: number;
  /** How the end of the review arrived. */
  via: 'signal' | 'poll' | null;
}

export interface ProvisionPullRequestState {
  number: number;
  url: string;
  state: 'open' | 'merged' | 'closed';
}

export interface ProvisionWorkflowState {
  requestId: string;
  status: ProvisionStatus;
  /** The activity running now (or last), for GET …/{id}. */
  stage: ProvisionStepName | null;
  directory: string | null;
  files: string[];
  findings: ProvisionPolicyFinding[];
  branch: string | null;
  commitSha: string | null;
  pullRequest: ProvisionPullRequestState | null;
  review: ProvisionReviewState | null;
  summary: string | null;
  error: string | null;
}

export const provisionStateQuery = defineQuery<ProvisionWorkflowState>('provisionState');

/** The pull request was merged or closed (the GitHub webhook, or the local review route). */
export const pullRequestReviewedSignal = defineSignal<[PullRequestReview]>('pullRequestReviewed');

/** Names of the activities of the provisioning workflow, in the order they normally run. */
export const PROVISION_STEPS = [
  'recordProvisionStatus',
  'understandProvisionRequest',
  'generateProvisionFiles',
  'validateProvisionHcl',
  'checkProvisionPolicy',
  'pushProvisionBranch',
  'openProvisionPullRequest',
  'readProvisionPullRequest',
  'remindProvisionReview',
  'writeProvisionResult',
] as const;
export type ProvisionStepName = (typeof PROVISION_STEPS)[number];
