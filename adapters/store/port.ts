import type { AutomationArtifacts, AutomationGeneration, AutomationProgress, HostRecap, ValidationFinding } from '../../core/automation.js';
import type { AutomationApproval, AutomationStatus } from '../../core/contracts/automation.js';
import type { ChatEventInput, ChatEventType, ChatMessageInput, ChatStep, ChatTurnStatus } from '../../core/contracts/chat.js';
import type { RunEvent, RunFamily, RunProjection, RunProjectionWrite } from '../../core/contracts/run-events.js';
import type { CmdbItem, Environment, Incident, IncidentResult, IncidentStatus, JobLog, Severity } from '../../core/incident.js';
import type { ProvisionStatus } from '../../core/contracts/provisioning.js';
import type { ProvisionFile, ProvisionPolicyFinding, ProvisionRequirements } from '../../core/provisioning/types.js';
import type { PullRequestRecords, PullRequestState } from '../git-host/port.js';
import type { BreakerRecord, PolicyMatch } from '../../core/policies/evaluate.js';
import type { PolicyActionType, PolicyAlert, SelfHealingPolicy } from '../../core/policies/model.js';

/** The store port: every table the product keeps, always scoped by tenant. */
export interface Store {
  readonly kind: 'pglite' | 'postgres' | 'supabase';
  /** Cheap round trip used by /health. */
  ping(): Promise<void>;
  close(): Promise<void>;

  tenants: TenantRepository;
  apiKeys: ApiKeyRepository;
  cmdb: CmdbRepository;
  incidents: IncidentRepository;
  results: ResultRepository;
  jobLogs: JobLogRepository;
  knowledge: KnowledgeRepository;
  credentials: CredentialRepository;
  hostKeys: HostKeyRepository;
  leases: LeaseRepository;
  runs: RunRepository;
  automation: AutomationRepository;
  policies: PolicyRepository;
  policyJobs: PolicyJobRepository;
  alertEvents: AlertEventRepository;
  integrationSettings: IntegrationSettingsRepository;
  sealedSecrets: SealedSecretRepository;
  chat: ChatRepository;
  provisioning: ProvisioningRepository;
}

/**
 * One scope's settings of one integration (migration 0011): the non-secret fields, and the names of
 * the secret fields that are set (their values live behind the secrets port, never here).
 */
export interface StoredIntegrationSettings {
  tenantId: string;
  /** Null: the tenant-wide settings; else the user's subject. */
  userId: string | null;
  integration: string;
  settings: Record<string, string>;
  secretFields: string[];
  updatedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A chat session (migration 0012): one conversation of one user. */
export interface ChatSession {
  id: string;
  tenantId: string;
  /** The principal who owns it; nobody else sees it. */
  userId: string;
  title: string;
  /** The conversation's summary, kept for a run that starts after the previous one ended. */
  summary: string | null;
  createdAt: string;
  updatedAt: string;
}

export type IntegrationSettingsInput = Omit<StoredIntegrationSettings, 'createdAt' | 'updatedAt'>;

export interface IntegrationSettingsRepository {
  /** Creates or replaces the scope's row (createdAt kept, updatedAt now). */
  put(input: IntegrationSettingsInput): Promise<StoredIntegrationSettings>;
  get(tenantId: string, userId: string | null, integration: string): Promise<StoredIntegrationSettings | null>;
  /** The tenant-wide rows and this user's rows, of every integration (or of one). */
  listFor(tenantId: string, userId: string, integration?: string): Promise<StoredIntegrationSettings[]>;
  delete(tenantId: string, userId: string | null, integration: string): Promise<boolean>;
}

/** A secret value sealed by the embedded secrets adapter: ciphertext only (migration 0011). */
export interface SealedSecret {
  tenantId: string;
  path: string;
  ciphertext: string;
  updatedAt: string;
}

export interface SealedSecretRepository {
  /** Creates or replaces. */
  put(tenantId: string, path: string, ciphertext: string): Promise<SealedSecret>;
  get(tenantId: string, path: string): Promise<SealedSecret | null>;
  delete(tenantId: string, path: string): Promise<boolean>;
}

export interface StoredChatMessage extends Omit<ChatMessageInput, 'key'> {
  /** Per session, increasing from 1 in the order the messages were stored. */
  seq: number;
  createdAt: string;
}

export interface ChatEvent {
  /** Per session, increasing from 1 (the SSE id). */
  seq: number;
  sessionId: string;
  type: ChatEventType;
  data: Record<string, unknown>;
  at: string;
}

export const CHAT_JOB_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;
export type ChatJobStatus = (typeof CHAT_JOB_STATUSES)[number];

/** An asynchronous chat message (POST /chat/async) and what became of it. */
export interface ChatJob {
  id: string;
  tenantId: string;
  sessionId: string;
  userId: string;
  messageId: string;
  status: ChatJobStatus;
  answer: string | null;
  turnStatus: ChatTurnStatus | null;
  steps: ChatStep[];
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ChatJobUpdate {
  status: ChatJobStatus;
  answer?: string | null | undefined;
  turnStatus?: ChatTurnStatus | null | undefined;
  steps?: ChatStep[] | undefined;
  error?: string | null | undefined;
}

export interface ChatRepository {
  /** Creates a session (ids are issued by the API: UUIDs, unique across tenants like their workflow ids). */
  createSession(tenantId: string, input: { id: string; userId: string; title: string }): Promise<ChatSession>;
  getSession(tenantId: string, id: string): Promise<ChatSession | null>;
  setSummary(tenantId: string, id: string, summary: string): Promise<void>;
  /**
   * Appends messages in order; a key the session already has is skipped (a retried persist adds
   * nothing). Returns each input's seq (the first one's for a repeated key). Null when the session is gone.
   */
  appendMessages(tenantId: string, sessionId: string, messages: ChatMessageInput[]): Promise<number[] | null>;
  /** Messages with seq above `afterSeq`, oldest first. */
  messages(tenantId: string, sessionId: string, afterSeq: number, limit: number): Promise<StoredChatMessage[]>;
  /** The last `limit` messages with seq at least `fromSeq`, oldest first (the model's context window). */
  lastMessages(tenantId: string, sessionId: string, fromSeq: number, limit: number): Promise<StoredChatMessage[]>;
  /** Appends stream events in order, keys already present skipped; returns the session's last event seq (0: session gone). */
  appendEvents(tenantId: string, sessionId: string, events: ChatEventInput[]): Promise<number>;
  /** Events with seq above `afterSeq`, oldest first. */
  events(tenantId: string, sessionId: string, afterSeq: number, limit: number): Promise<ChatEvent[]>;
  /** The last `limit` events of one type, oldest first (a new run's memory of the answers given). */
  lastEventsOfType(tenantId: string, sessionId: string, type: ChatEventType, limit: number): Promise<ChatEvent[]>;
  createJob(tenantId: string, job: { id: string; sessionId: string; userId: string; messageId: string }): Promise<ChatJob>;
  getJob(tenantId: string, id: string): Promise<ChatJob | null>;
  /** Moves a job on; a finished job (completed or failed) is never moved back. Null when absent. */
  updateJob(tenantId: string, id: string, update: ChatJobUpdate): Promise<ChatJob | null>;
}

/** A self-healing policy as stored (migration 0010): the policy, its tenant and its version. */
export interface StoredPolicy extends SelfHealingPolicy {
  tenantId: string;
  /** 1 when created, +1 at each replace: a replace names the version it read. */
  version: number;
}

export type PolicyInput = Omit<SelfHealingPolicy, 'id' | 'createdAt' | 'updatedAt'>;

export interface PolicyFilter {
  enabled?: boolean | undefined;
  actionType?: PolicyActionType | undefined;
}

export type PolicyWriteOutcome =
  | { kind: 'done'; policy: StoredPolicy | null }
  | { kind: 'not_found' }
  /** The policy is at another version than the one named. */
  | { kind: 'stale'; version: number };

export interface PolicyRepository {
  /** Version 1. Throws DuplicateKeyError when the tenant already has a policy of that name. */
  create(tenantId: string, input: PolicyInput): Promise<StoredPolicy>;
  get(tenantId: string, id: string): Promise<StoredPolicy | null>;
  /** In evaluation order (priority, then the older, then id). Throws InvalidCursorError for a cursor it did not issue. */
  list(tenantId: string, filter: PolicyFilter, page: PageRequest): Promise<Page<StoredPolicy>>;
  /** Every policy of the tenant, enabled or not, in evaluation order (what evaluation and simulation read). */
  all(tenantId: string): Promise<StoredPolicy[]>;
  /** Replaces every field when the stored version is `expectedVersion` (version + 1). DuplicateKeyError on a taken name. */
  replace(tenantId: string, id: string, input: PolicyInput, expectedVersion: number): Promise<PolicyWriteOutcome>;
  /** Deletes it (at `expectedVersion` when given); its breaker goes with it, its jobs stay in the log. */
  delete(tenantId: string, id: string, expectedVersion?: number): Promise<PolicyWriteOutcome>;
}

export const POLICY_JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'limited', 'unusable', 'unmatched', 'escalated'] as const;
/**
 * `queued` → `running` → `succeeded` | `failed`: a run (counts against the limits); `limited`: a
 * limit stopped it (limitReason); `unusable`: the matching policy could not use the alert;
 * `unmatched`: no policy matched; `escalated`: none matched and an incident was raised.
 */
export type PolicyJobStatus = (typeof POLICY_JOB_STATUSES)[number];

export const POLICY_LIMIT_REASONS = ['hourly', 'daily', 'cooldown', 'concurrency', 'host_busy', 'breaker_open'] as const;
export type PolicyLimitReason = (typeof POLICY_LIMIT_REASONS)[number];

/** One decision a policy (or the lack of one) took on an alert: the job log (migration 0010). */
export interface PolicyJob {
  id: string;
  tenantId: string;
  policyId: string | null;
  policyName: string | null;
  actionType: PolicyActionType | null;
  fingerprint: string;
  startsAt: string;
  alertStatus: PolicyAlert['status'];
  /** The alert's labels when it was decided. */
  labels: Record<string, string>;
  host: string | null;
  cooldownKey: string | null;
  /** The action's parameters with the alert's values in place (runs and limited decisions). */
  params: Record<string, string | number | boolean> | null;
  status: PolicyJobStatus;
  limitReason: PolicyLimitReason | null;
  detail: string | null;
  /** The run the breaker allowed as a trial after its open period. */
  trial: boolean;
  workflowId: string | null;
  decidedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

export type PolicyActMatch = Extract<PolicyMatch, { kind: 'act' }>;

export interface PolicyClaim {
  match: PolicyActMatch;
  alert: PolicyAlert;
  now: Date;
  /** A repeat with the same key answers the first decision (default: policy, fingerprint, startsAt, status). */
  idempotencyKey?: string | undefined;
}

/** A decision that is not a run: no policy matched (`unmatched`, `escalated`), or the one that did could not use the alert. */
export interface PolicyDecisionRecord {
  status: 'unusable' | 'unmatched' | 'escalated';
  alert: PolicyAlert;
  policy: Pick<SelfHealingPolicy, 'id' | 'name' | 'action'> | null;
  detail: string | null;
  workflowId?: string | null | undefined;
  now: Date;
  idempotencyKey?: string | undefined;
}

export interface PolicyJobFilter {
  policyId?: string | undefined;
  status?: PolicyJobStatus | undefined;
  host?: string | undefined;
  /** decidedAt at or after. */
  from?: string | undefined;
  /** decidedAt before. */
  to?: string | undefined;
}

export interface PolicyRunEnd {
  job: PolicyJob;
  breaker: BreakerRecord | null;
  /** This run's failure opened the breaker (the caller raises an incident). */
  breakerOpened: boolean;
}

export interface PolicyJobRepository {
  /**
   * Decides atomically whether the matched policy may act now: counts its usage (runs in the last
   * hour and day, the last run for the cooldown key, hosts in flight, the breaker), applies
   * checkLimits and records a `queued` job (a trial one when the breaker lets one through) or a
   * `limited` one, so two deliveries at once can never both pass a limit. A repeated idempotency
   * key answers the first decision with `created: false`.
   */
  claimRun(tenantId: string, claim: PolicyClaim): Promise<{ job: PolicyJob; created: boolean }>;
  /** Records a decision that is not a run (idempotent by key like claimRun). */
  record(tenantId: string, decision: PolicyDecisionRecord): Promise<{ job: PolicyJob; created: boolean }>;
  /** queued → running, with the run's workflow id. Null when absent; a job past queued is answered unchanged. */
  markRunning(tenantId: string, id: string, workflowId: string, now: Date): Promise<PolicyJob | null>;
  /**
   * Ends a queued or running job and moves the policy's breaker (breakerAfterRun). A job that
   * already ended is answered unchanged (a repeat never counts a failure twice). Null when absent.
   */
  finishRun(tenantId: string, id: string, outcome: { succeeded: boolean; detail?: string | null }, now: Date): Promise<PolicyRunEnd | null>;
  /**
   * Adds a line to a job's detail after the fact (the incident a breaker opening raised, a notice
   * sent instead): a line the detail already holds is not added again (a retried step). Null when absent.
   */
  addDetail(tenantId: string, id: string, line: string): Promise<PolicyJob | null>;
  get(tenantId: string, id: string): Promise<PolicyJob | null>;
  /** Newest first. Throws InvalidCursorError for a cursor it did not issue. */
  list(tenantId: string, filter: PolicyJobFilter, page: PageRequest): Promise<Page<PolicyJob>>;
  /**
   * Jobs of every tenant still queued or running and unchanged since `before`, oldest first, at most
   * `limit`: what the reconciler checks against their runs (a run terminated in Temporal runs no
   * `finally`, so its job would otherwise stay running and hold its host for good).
   */
  unfinished(before: Date, limit: number): Promise<PolicyJob[]>;
  /** The policy's breaker (closed when it has none yet). */
  breaker(tenantId: string, policyId: string): Promise<BreakerRecord>;
}

/** One alert notification as received. */
export interface AlertEvent {
  id: string;
  tenantId: string;
  /** Where it came from: `alertmanager`, `pagerduty`. */
  source: string;
  receivedAt: string;
  alert: PolicyAlert;
}

export interface AlertEventRepository {
  /** Appends the alerts of one notification. */
  append(tenantId: string, source: string, receivedAt: Date, alerts: PolicyAlert[]): Promise<AlertEvent[]>;
  /** Received in [from, to), oldest first, at most `limit`. */
  listWindow(tenantId: string, window: { from: string; to: string }, limit: number): Promise<AlertEvent[]>;
}

/** One Ansible automation run as its row keeps it (migration 0009). */
export interface AutomationRun {
  id: string;
  tenantId: string;
  /** Per-tenant, increasing from 1. */
  number: number;
  request: string;
  targets: string[];
  checkMode: boolean;
  /** Mirrored from the run's projection; the final one written by the result step. */
  status: AutomationStatus;
  workflowId: string;
  createdBy: string | null;
  generation: AutomationGeneration | null;
  artifacts: AutomationArtifacts | null;
  artifactsHash: string | null;
  findings: ValidationFinding[];
  approval: AutomationApproval | null;
  recap: Record<string, HostRecap> | null;
  /** The runner's last heartbeat, written while the playbook runs. */
  progress: AutomationProgress | null;
  summary: string | null;
  error: string | null;
  /** Lines of the stored log. */
  logLines: number;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface AutomationRunInput {
  id: string;
  request: string;
  targets: string[];
  checkMode: boolean;
  createdBy: string | null;
  /** A second create with the same key returns the first run. */
  idempotencyKey?: string | null | undefined;
}

export interface AutomationRunUpdate {
  status?: AutomationStatus | undefined;
  generation?: AutomationGeneration | null | undefined;
  artifacts?: AutomationArtifacts | null | undefined;
  artifactsHash?: string | null | undefined;
  findings?: ValidationFinding[] | undefined;
  approval?: AutomationApproval | null | undefined;
  recap?: Record<string, HostRecap> | null | undefined;
  progress?: AutomationProgress | null | undefined;
  summary?: string | null | undefined;
  error?: string | null | undefined;
}

export interface AutomationFilter {
  status?: AutomationStatus | undefined;
  /** Runs whose targets include this tagId. */
  target?: string | undefined;
}

export interface AutomationLogPage {
  /** Line numbers from 1. */
  lines: { n: number; text: string }[];
  /** Lines stored for the run. */
  total: number;
}

export interface AutomationRepository {
  /** Inserts the run with the next per-tenant number, status `queued`; a repeated idempotency key returns the first. */
  create(tenantId: string, input: AutomationRunInput): Promise<{ run: AutomationRun; created: boolean }>;
  get(tenantId: string, id: string): Promise<AutomationRun | null>;
  /** Newest first. Throws InvalidCursorError for a cursor it did not issue. */
  list(tenantId: string, filter: AutomationFilter, page: PageRequest): Promise<Page<AutomationRun>>;
  /** Sets the given fields; a final status sets finishedAt. Null when absent. */
  update(tenantId: string, id: string, update: AutomationRunUpdate): Promise<AutomationRun | null>;
  /** Removes a run that never got a workflow (start failed). */
  delete(tenantId: string, id: string): Promise<boolean>;
  /**
   * Stores log lines numbered from `firstLine` (1-based); a line number already stored is kept as it
   * was, so a retried store adds nothing. Returns the run's line count. False-y (0) when the run is gone.
   */
  appendLog(tenantId: string, runId: string, firstLine: number, lines: string[]): Promise<number>;
  /** Lines after `afterLine`, oldest first. */
  readLog(tenantId: string, runId: string, afterLine: number, limit: number): Promise<AutomationLogPage>;
  /** Runs of every tenant by status (every status present, 0 when none): the metrics' gauges. */
  countByStatus(): Promise<Record<AutomationStatus, number>>;
}

/** One infrastructure provisioning request as its row keeps it (migration 0014). */
export interface ProvisionRequestRecord {
  id: string;
  tenantId: string;
  /** Per-tenant, increasing from 1. */
  number: number;
  requester: string;
  request: string;
  /** The environment the request was sent with (the parsed one is in `requirements`). */
  environment: string | null;
  status: ProvisionStatus;
  /** The step running now, or the last one. */
  stage: string | null;
  requirements: ProvisionRequirements | null;
  parser: 'grammar' | 'llm' | null;
  files: ProvisionFile[] | null;
  findings: ProvisionPolicyFinding[];
  directory: string | null;
  branch: string | null;
  commitSha: string | null;
  prNumber: number | null;
  prUrl: string | null;
  prState: PullRequestState | null;
  reviewDeadline: string | null;
  remindedAt: string | null;
  summary: string | null;
  error: string | null;
  workflowId: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface ProvisionRequestInput {
  id: string;
  requester: string;
  request: string;
  environment: string | null;
  /** What the API's synchronous parse understood (the workflow parses again and keeps its own). */
  requirements?: ProvisionRequirements | null | undefined;
  parser?: 'grammar' | 'llm' | null | undefined;
  /** The client's Idempotency-Key: with one already recorded, create answers that request (its id differs from `id`). */
  idempotencyKey?: string | null | undefined;
}

export interface ProvisionRequestUpdate {
  status?: ProvisionStatus | undefined;
  stage?: string | null | undefined;
  requirements?: ProvisionRequirements | null | undefined;
  parser?: 'grammar' | 'llm' | null | undefined;
  files?: ProvisionFile[] | null | undefined;
  findings?: ProvisionPolicyFinding[] | undefined;
  directory?: string | null | undefined;
  branch?: string | null | undefined;
  commitSha?: string | null | undefined;
  prNumber?: number | null | undefined;
  prUrl?: string | null | undefined;
  prState?: PullRequestState | null | undefined;
  reviewDeadline?: string | null | undefined;
  remindedAt?: string | null | undefined;
  summary?: string | null | undefined;
  error?: string | null | undefined;
}

export interface ProvisionFilter {
  requester?: string | undefined;
  status?: ProvisionStatus | undefined;
}

/** Which pull-request records: one tenant's, one repository's; `url` makes a record's address from its number. */
export interface PullRequestScope {
  tenantId: string;
  repo: string;
  url: (number: number) => string;
}

export interface ProvisioningRepository {
  /** Inserts the request with the next per-tenant number, status `queued`. */
  create(tenantId: string, input: ProvisionRequestInput): Promise<ProvisionRequestRecord>;
  get(tenantId: string, id: string): Promise<ProvisionRequestRecord | null>;
  /** The request whose branch this is, whatever its tenant (the GitHub webhook knows only the branch). */
  findByBranch(branch: string): Promise<ProvisionRequestRecord | null>;
  /** Newest first. Throws InvalidCursorError for a cursor it did not issue. */
  list(tenantId: string, filter: ProvisionFilter, page: PageRequest): Promise<Page<ProvisionRequestRecord>>;
  /**
   * Sets the given fields; a final status sets finishedAt. A request already in a final status keeps
   * it (a late write of an earlier step cannot reopen it). Null when absent.
   */
  update(tenantId: string, id: string, update: ProvisionRequestUpdate): Promise<ProvisionRequestRecord | null>;
  /** Removes a request that never got a workflow (start failed). */
  delete(tenantId: string, id: string): Promise<boolean>;
  /** The local git host's pull-request records of one tenant's repository. */
  pullRequests(scope: PullRequestScope): PullRequestRecords;
}

/** What one projection write did: `applied` false when the store already had that version. */
export interface RunProjectionOutcome {
  applied: boolean;
  /** The version the store now holds. */
  version: number;
  /** The tenant sequence number of the last event appended; null when none was. */
  tenantSeq: number | null;
}

/** Run projections and their events (migration 0008): the read model of every workflow family. */
export interface RunRepository {
  /** Applies one write idempotently and in version order (a stale or repeated write changes nothing). */
  project(write: RunProjectionWrite): Promise<RunProjectionOutcome>;
  get(tenantId: string, family: RunFamily, runId: string): Promise<RunProjection | null>;
  /** One run's events with seq above `afterSeq`, oldest first. */
  eventsOfRun(tenantId: string, family: RunFamily, runId: string, afterSeq: number, limit: number): Promise<RunEvent[]>;
  /** A tenant's events with tenantSeq above `afterTenantSeq`, oldest first, optionally of one family. */
  eventsOfTenant(tenantId: string, afterTenantSeq: number, limit: number, family?: RunFamily): Promise<RunEvent[]>;
  /** The tenant's highest tenantSeq (0 before its first event). */
  latestTenantSeq(tenantId: string): Promise<number>;
}

export type LeaseOutcome =
  | { acquired: true; expiresAt: string }
  /** `host-busy`: another run changes this host; `tenant-cap`: the tenant already runs its maximum. */
  | { acquired: false; reason: 'host-busy' | 'tenant-cap'; holder: string | null };

/** Exclusive, expiring leases on hosts, capped per tenant. */
export interface LeaseRepository {
  /** Takes (or renews, for the same holder) the host's lease unless another live holder has it or the tenant is at its cap. */
  acquire(input: { tenantId: string; host: string; holder: string; ttlMs: number; maxPerTenant: number }): Promise<LeaseOutcome>;
  /** Gives the lease back; only its holder can. */
  release(tenantId: string, host: string, holder: string): Promise<boolean>;
  /** Live leases of a tenant. */
  list(tenantId: string): Promise<{ host: string; holder: string; expiresAt: string }[]>;
}

/** A stored SSH credential: the private key only as ciphertext sealed by the secrets adapter. */
export interface StoredCredential {
  tenantId: string;
  name: string;
  username: string;
  keyType: string;
  /** SHA256 fingerprint of the public key, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  ciphertext: string;
  createdAt: string;
}

export interface CredentialRepository {
  /** Throws DuplicateKeyError when the tenant already has a credential of that name. */
  insert(input: Omit<StoredCredential, 'createdAt'>): Promise<StoredCredential>;
  get(tenantId: string, name: string): Promise<StoredCredential | null>;
  list(tenantId: string): Promise<StoredCredential[]>;
  delete(tenantId: string, name: string): Promise<boolean>;
}

export interface HostKeyRecord {
  tenantId: string;
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  /** The key itself, base64 of its SSH wire format (known_hosts needs it); null for keys recorded before 0009. */
  publicKey?: string | null | undefined;
  firstSeenAt: string;
}

/** Host keys trusted on first use: the first key seen for host:port is the one expected ever after. */
export interface HostKeyRepository {
  /**
   * Records the key unless one is already known, and returns the one on record (race-safe). A known
   * key without its public key gets the given one when the fingerprints match.
   */
  trustOnFirstUse(input: Omit<HostKeyRecord, 'firstSeenAt'>): Promise<HostKeyRecord>;
  get(tenantId: string, host: string, port: number): Promise<HostKeyRecord | null>;
  list(tenantId: string): Promise<HostKeyRecord[]>;
  /** Forgets a host's key (after an operator checked a legitimate key change). */
  forget(tenantId: string, host: string, port: number): Promise<boolean>;
}

export const KNOWLEDGE_KINDS = ['sop', 'runbook', 'architecture', 'doc'] as const;
export type KnowledgeKind = (typeof KNOWLEDGE_KINDS)[number];

export const KNOWLEDGE_STATUSES = ['ingesting', 'ready', 'failed'] as const;
/** `ingesting` while a workflow indexes a large document; search only sees `ready` documents. */
export type KnowledgeStatus = (typeof KNOWLEDGE_STATUSES)[number];

export interface KnowledgeDocument {
  id: string;
  /** Null for global documents (bundled runbooks, architecture) visible to every tenant. */
  tenantId: string | null;
  title: string;
  kind: KnowledgeKind;
  source: string;
  contentType: string;
  contentHash: string;
  sizeBytes: number;
  /** Chunks the document has (known once chunked; 0 before). */
  chunkCount: number;
  /** Chunks indexed so far: equals chunkCount when ready. */
  chunksIndexed: number;
  status: KnowledgeStatus;
  /** Why ingestion failed (status `failed`). */
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface KnowledgeChunkRecord {
  id: string;
  docId: string;
  tenantId: string | null;
  index: number;
  section: string;
  text: string;
  /** Present when an embeddings endpoint was configured at ingest. */
  embedding: number[] | null;
}

export interface KnowledgeDocumentInput {
  id: string;
  tenantId: string | null;
  title: string;
  kind: KnowledgeKind;
  source: string;
  contentType: string;
  contentHash: string;
  sizeBytes: number;
  chunks: { index: number; section: string; text: string; embedding?: number[] | null }[];
  embeddingModel?: string | null;
}

export interface KnowledgeRepository {
  /** Stores a document with its chunks; the same content again (tenant + hash) returns the stored one. */
  addDocument(input: KnowledgeDocumentInput): Promise<{ document: KnowledgeDocument; created: boolean }>;
  /** A tenant's own documents, and the global ones when asked. */
  listDocuments(tenantId: string | null, options?: { includeGlobal?: boolean }): Promise<KnowledgeDocument[]>;
  getDocument(tenantId: string | null, id: string): Promise<KnowledgeDocument | null>;
  /** The document with this content for this tenant (null = global), if one was ingested. */
  findDocumentByHash(tenantId: string | null, contentHash: string): Promise<KnowledgeDocument | null>;
  deleteDocument(tenantId: string | null, id: string): Promise<boolean>;
  /**
   * Records a document to be indexed later (large documents, by a workflow): status `ingesting`,
   * text staged. The same content again returns the stored document; a `failed` one is restaged.
   */
  stageDocument(input: Omit<KnowledgeDocumentInput, 'chunks'>, text: string): Promise<{ document: KnowledgeDocument; created: boolean }>;
  /** The staged text of a document being ingested, or null (unknown, ready or failed). */
  stagedText(docId: string): Promise<string | null>;
  /** Records how many chunks an ingesting document has. Returns false when the document is gone. */
  setChunkCount(docId: string, chunkCount: number): Promise<boolean>;
  /** Upserts chunks of an ingesting document (by chunk index) and advances its progress; false when gone. */
  putChunks(docId: string, chunks: KnowledgeDocumentInput['chunks'], embeddingModel: string | null): Promise<boolean>;
  /** Marks an ingesting document ready (visible to search) and drops its staged text. */
  completeDocument(docId: string): Promise<KnowledgeDocument | null>;
  /** Marks an ingesting document failed with a reason, dropping its partial chunks and staged text. */
  failDocument(docId: string, error: string): Promise<KnowledgeDocument | null>;
  /** Every chunk of every ready document (the embedded index is rebuilt from this). */
  allChunks(): Promise<(KnowledgeChunkRecord & { title: string; kind: KnowledgeKind })[]>;
  /** Changes whenever a ready document is added or deleted, so each process can tell its index is stale. */
  revision(): Promise<string>;
}

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  createdAt: string;
}

export type Role = 'admin' | 'operator' | 'viewer';

export interface TenantRepository {
  /** Returns the tenant with this slug, creating it when absent (safe under concurrent calls). */
  ensure(slug: string, name?: string): Promise<Tenant>;
  getById(id: string): Promise<Tenant | null>;
  getBySlug(slug: string): Promise<Tenant | null>;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  role: Role;
  /** Public, non-secret part of the key used to find the row. */
  prefix: string;
  /** Hex SHA-256 of the whole key. */
  hash: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface ApiKeyRepository {
  /** Inserts a key; a key registered again with the same prefix (e.g. INFRAAI_API_KEY at each start) updates that row. */
  create(input: { tenantId: string; name: string; role: Role; prefix: string; hash: string }): Promise<ApiKeyRecord>;
  findByPrefix(prefix: string): Promise<ApiKeyRecord | null>;
  /** Records use; implementations may throttle the write. */
  touch(id: string): Promise<void>;
  revoke(tenantId: string, id: string): Promise<boolean>;
  list(tenantId: string): Promise<ApiKeyRecord[]>;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, or null at the end. */
  nextCursor: string | null;
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export type CmdbItemInput = Omit<CmdbItem, 'tenantId' | 'createdAt' | 'updatedAt'>;

export interface CmdbFilter {
  environment?: Environment | undefined;
  owner?: string | undefined;
  hostname?: string | undefined;
  instanceId?: string | undefined;
  /** Every pair must be present in the item's tags. */
  tags?: Record<string, string> | undefined;
  /** Case-insensitive substring over tagId, hostname, address and description. */
  q?: string | undefined;
}

export interface CmdbRepository {
  /** Throws DuplicateKeyError when the tenant already has this tagId. */
  create(tenantId: string, item: CmdbItemInput): Promise<CmdbItem>;
  get(tenantId: string, tagId: string): Promise<CmdbItem | null>;
  getByInstanceId(tenantId: string, instanceId: string): Promise<CmdbItem | null>;
  /** Ordered by tagId ascending. Throws InvalidCursorError for a cursor it did not issue. */
  list(tenantId: string, filter: CmdbFilter, page: PageRequest): Promise<Page<CmdbItem>>;
  /** Full replacement of the mutable fields; null when absent. */
  replace(tenantId: string, tagId: string, item: Omit<CmdbItemInput, 'tagId'>): Promise<CmdbItem | null>;
  delete(tenantId: string, tagId: string): Promise<boolean>;
}

export interface IncidentInput {
  id: string;
  title: string;
  description: string;
  severity: Severity;
  tagId: string;
  source: string;
  createdBy: string | null;
  /** Client-supplied Idempotency-Key; a second create with the same key returns the first incident. */
  idempotencyKey?: string | null | undefined;
  external?: Record<string, string> | undefined;
}

export interface IncidentFilter {
  status?: IncidentStatus | undefined;
  severity?: Severity | undefined;
  tagId?: string | undefined;
}

export interface IncidentUpdate {
  status?: IncidentStatus | undefined;
  targetHost?: string | null | undefined;
  summary?: string | null | undefined;
  /** Merged into the stored references (a notifier learned a ticket id). */
  external?: Record<string, string> | undefined;
}

export interface IncidentRepository {
  /**
   * Inserts the incident with the next per-tenant number and status `open`.
   * With an idempotency key already used by this tenant, returns `{ incident: existing, created: false }`.
   */
  create(tenantId: string, input: IncidentInput): Promise<{ incident: Incident; created: boolean }>;
  get(tenantId: string, id: string): Promise<Incident | null>;
  getByNumber(tenantId: string, number: number): Promise<Incident | null>;
  /** Newest first (by per-tenant number, descending). Throws InvalidCursorError for a cursor it did not issue. */
  list(tenantId: string, filter: IncidentFilter, page: PageRequest): Promise<Page<Incident>>;
  /** Sets the given fields; sets resolvedAt when the status becomes terminal. Null when absent. */
  update(tenantId: string, id: string, update: IncidentUpdate): Promise<Incident | null>;
  /** Removes an incident that never got a workflow (start failed). */
  delete(tenantId: string, id: string): Promise<boolean>;
  /** How many incidents hold each status, across all tenants (every status present, 0 when none): the metrics gauges. */
  countByStatus(): Promise<Record<IncidentStatus, number>>;
}

export interface ResultInput {
  /** The new row's id (default: a random UUID); a repeat of the idempotency key keeps the first row's. */
  id?: string;
  incidentId: string;
  idempotencyKey: string;
  status: IncidentStatus;
  summary: string;
  details: Record<string, unknown>;
}

export interface ResultRepository {
  /** Idempotent by (tenant, idempotencyKey): a repeat returns the stored row unchanged. */
  write(tenantId: string, input: ResultInput): Promise<IncidentResult>;
  listForIncident(tenantId: string, incidentId: string): Promise<IncidentResult[]>;
}

export interface JobLogInput {
  incidentId: string | null;
  idempotencyKey: string;
  action: string;
  target: string;
  status: JobLog['status'];
  detail: Record<string, unknown>;
}

export interface JobLogRepository {
  /** Idempotent by (tenant, idempotencyKey): returns `created: false` and the stored row on a repeat. */
  append(tenantId: string, input: JobLogInput): Promise<{ log: JobLog; created: boolean }>;
  listForIncident(tenantId: string, incidentId: string): Promise<JobLog[]>;
}

/** A unique constraint was hit, e.g. a second CMDB item with the same tagId. */
export class DuplicateKeyError extends Error {
  override readonly name = 'DuplicateKeyError';
  constructor(
    readonly entity: string,
    readonly key: string,
  ) {
    super(`${entity} '${key}' already exists`);
  }
}

/** A pagination cursor that this store did not issue or that was tampered with. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor() {
    super('The cursor is not valid for this list');
  }
}

/** The store could not be reached or refused the operation for an operational reason. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}
