import { FINAL_PROVISION_STATUSES, type ProvisionStatus } from '../../core/contracts/provisioning.js';
import type { ProvisionFile, ProvisionPolicyFinding, ProvisionRequirements } from '../../core/provisioning/types.js';
import type { PullRequestRef, PullRequestState } from '../git-host/port.js';
import type { ProvisionRequestRecord, ProvisionRequestUpdate } from './port.js';
import { iso, isoOrNull, str, type Row } from './rows.js';

// Row mapping of the provisioning tables (migration 0014), shared by the SQL and Supabase adapters.

export { FINAL_PROVISION_STATUSES };

function json<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

export const toProvisionRequest = (r: Row): ProvisionRequestRecord => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  number: Number(r.number),
  requester: String(r.requester),
  request: String(r.request),
  environment: str(r.environment),
  status: r.status as ProvisionStatus,
  stage: str(r.stage),
  requirements: json<ProvisionRequirements | null>(r.requirements, null),
  parser: (str(r.parser) as 'grammar' | 'llm' | null) ?? null,
  files: json<ProvisionFile[] | null>(r.files, null),
  findings: json<ProvisionPolicyFinding[]>(r.findings, []),
  directory: str(r.directory),
  branch: str(r.branch),
  commitSha: str(r.commit_sha),
  prNumber: numOrNull(r.pr_number),
  prUrl: str(r.pr_url),
  prState: (str(r.pr_state) as PullRequestState | null) ?? null,
  reviewDeadline: isoOrNull(r.review_deadline),
  remindedAt: isoOrNull(r.reminded_at),
  summary: str(r.summary),
  error: str(r.error),
  workflowId: String(r.workflow_id),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  finishedAt: isoOrNull(r.finished_at),
});

export const toPullRequestRef = (r: Row, url: (number: number) => string): PullRequestRef => ({
  number: Number(r.number),
  url: url(Number(r.number)),
  state: r.state as PullRequestState,
  head: String(r.head),
  base: String(r.base),
});

/** The columns an update sets, as values ready for either adapter (JSON columns as JSON text). */
export function provisionUpdateColumns(update: ProvisionRequestUpdate): Row {
  const row: Row = {};
  const jsonText = (value: unknown) => (value === null ? null : JSON.stringify(value));
  if (update.status !== undefined) row.status = update.status;
  if (update.stage !== undefined) row.stage = update.stage;
  if (update.requirements !== undefined) row.requirements = jsonText(update.requirements);
  if (update.parser !== undefined) row.parser = update.parser;
  if (update.files !== undefined) row.files = jsonText(update.files);
  if (update.findings !== undefined) row.findings = JSON.stringify(update.findings);
  if (update.directory !== undefined) row.directory = update.directory;
  if (update.branch !== undefined) row.branch = update.branch;
  if (update.commitSha !== undefined) row.commit_sha = update.commitSha;
  if (update.prNumber !== undefined) row.pr_number = update.prNumber;
  if (update.prUrl !== undefined) row.pr_url = update.prUrl;
  if (update.prState !== undefined) row.pr_state = update.prState;
  if (update.reviewDeadline !== undefined) row.review_deadline = update.reviewDeadline;
  if (update.remindedAt !== undefined) row.reminded_at = update.remindedAt;
  if (update.summary !== undefined) row.summary = update.summary;
  if (update.error !== undefined) row.error = update.error;
  return row;
}

export const PROVISION_JSON_COLUMNS = new Set(['requirements', 'files', 'findings']);
