import {
  InvalidCursorError,
  type ApiKeyRecord,
  type KnowledgeDocument,
  type KnowledgeKind,
  type KnowledgeStatus,
  type Role,
  type Tenant,
  type StoredCredential,
  type HostKeyRecord,
  type RunProjectionOutcome,
  type AutomationRun,
  type AlertEvent,
  type PolicyJob,
  type StoredPolicy,
  type StoredIntegrationSettings,
  type SealedSecret,
} from './port.js';
import type { RunEvent, RunEventType, RunFamily, RunProjection } from '../../core/contracts/run-events.js';
import type { CmdbItem, Environment, Incident, IncidentResult, IncidentStatus, JobLog, Severity } from '../../core/incident.js';

// Row mapping shared by every adapter: PostgreSQL, PGlite and PostgREST all return the schema's
// snake_case columns.

export type Row = Record<string, unknown>;

export function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}

export function str(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function json<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string, shape: ('string' | 'number')[]): unknown[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(values) || values.length !== shape.length) throw new InvalidCursorError();
    values.forEach((value, i) => {
      if (typeof value !== shape[i]) throw new InvalidCursorError();
    });
    return values;
  } catch {
    throw new InvalidCursorError();
  }
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const toTenant = (r: Row): Tenant => ({
  id: String(r.id),
  slug: String(r.slug),
  name: String(r.name),
  createdAt: iso(r.created_at),
});

export const toApiKey = (r: Row): ApiKeyRecord => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  name: String(r.name),
  role: r.role as Role,
  prefix: String(r.prefix),
  hash: String(r.hash),
  createdAt: iso(r.created_at),
  lastUsedAt: isoOrNull(r.last_used_at),
  revokedAt: isoOrNull(r.revoked_at),
});

export const toCmdbItem = (r: Row): CmdbItem => ({
  tenantId: String(r.tenant_id),
  tagId: String(r.tag_id),
  instanceId: str(r.instance_id),
  hostname: String(r.hostname),
  address: String(r.address),
  port: Number(r.port),
  environment: r.environment as Environment,
  owner: str(r.owner),
  os: str(r.os),
  serviceManager: str(r.service_manager),
  sshUser: str(r.ssh_user),
  sshCredential: str(r.ssh_credential),
  description: str(r.description),
  tags: json<Record<string, string>>(r.tags, {}),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export const toIncident = (r: Row): Incident => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  number: Number(r.number),
  title: String(r.title),
  description: String(r.description),
  severity: r.severity as Severity,
  tagId: String(r.tag_id),
  status: r.status as IncidentStatus,
  source: String(r.source),
  workflowId: String(r.workflow_id),
  targetHost: str(r.target_host),
  summary: str(r.summary),
  createdBy: str(r.created_by),
  external: externalOf(r.external),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  resolvedAt: isoOrNull(r.resolved_at),
});

function externalOf(value: unknown): Record<string, string> {
  const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (!parsed || typeof parsed !== 'object') return {};
  return Object.fromEntries(
    Object.entries(parsed as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

export const toResult = (r: Row): IncidentResult => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  incidentId: String(r.incident_id),
  incidentNumber: Number(r.incident_number ?? (r.incidents as { number?: unknown } | null)?.number ?? 0),
  status: r.status as IncidentStatus,
  summary: String(r.summary),
  details: json<Record<string, unknown>>(r.details, {}),
  createdAt: iso(r.created_at),
});

export const toJobLog = (r: Row): JobLog => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  incidentId: str(r.incident_id),
  idempotencyKey: String(r.idempotency_key),
  action: String(r.action),
  target: String(r.target),
  status: r.status as JobLog['status'],
  detail: json<Record<string, unknown>>(r.detail, {}),
  createdAt: iso(r.created_at),
});

export const toKnowledgeDocument = (r: Row): KnowledgeDocument => ({
  id: String(r.id),
  tenantId: str(r.tenant_id),
  title: String(r.title),
  kind: r.kind as KnowledgeKind,
  source: String(r.source),
  contentType: String(r.content_type),
  contentHash: String(r.content_hash),
  sizeBytes: Number(r.size_bytes),
  chunkCount: Number(r.chunk_count),
  chunksIndexed: Number(r.chunks_indexed ?? r.chunk_count),
  status: (r.status ?? 'ready') as KnowledgeStatus,
  error: str(r.error),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export function embeddingOf(value: unknown): number[] | null {
  const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  return Array.isArray(parsed) && parsed.every((n) => typeof n === 'number') ? (parsed as number[]) : null;
}

export const toCredential = (r: Row): StoredCredential => ({
  tenantId: String(r.tenant_id),
  name: String(r.name),
  username: String(r.username),
  keyType: String(r.key_type),
  fingerprint: String(r.fingerprint),
  ciphertext: String(r.ciphertext),
  createdAt: iso(r.created_at),
});

export const toIntegrationSettings = (r: Row): StoredIntegrationSettings => ({
  tenantId: String(r.tenant_id),
  // '' is the tenant-wide row (migration 0011).
  userId: r.user_id === '' || r.user_id === null || r.user_id === undefined ? null : String(r.user_id),
  integration: String(r.integration),
  settings: json<Record<string, string>>(r.settings, {}),
  secretFields: Array.isArray(r.secret_fields) ? r.secret_fields.map(String) : [],
  updatedBy: str(r.updated_by),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export const toSealedSecret = (r: Row): SealedSecret => ({
  tenantId: String(r.tenant_id),
  path: String(r.path),
  ciphertext: String(r.ciphertext),
  updatedAt: iso(r.updated_at),
});

export const toHostKey = (r: Row): HostKeyRecord => ({
  tenantId: String(r.tenant_id),
  host: String(r.host),
  port: Number(r.port),
  keyType: String(r.key_type),
  fingerprint: String(r.fingerprint),
  publicKey: str(r.public_key),
  firstSeenAt: iso(r.first_seen_at),
});

export const toAutomationRun = (r: Row): AutomationRun => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  number: Number(r.number),
  request: String(r.request),
  targets: json<string[]>(r.targets, []),
  checkMode: Boolean(r.check_mode),
  status: String(r.status) as AutomationRun['status'],
  workflowId: String(r.workflow_id),
  createdBy: str(r.created_by),
  generation: json<AutomationRun['generation']>(r.generation, null),
  artifacts: json<AutomationRun['artifacts']>(r.artifacts, null),
  artifactsHash: str(r.artifacts_hash),
  findings: json<AutomationRun['findings']>(r.findings, []),
  approval: json<AutomationRun['approval']>(r.approval, null),
  recap: json<AutomationRun['recap']>(r.recap, null),
  progress: json<AutomationRun['progress']>(r.progress, null),
  summary: str(r.summary),
  error: str(r.error),
  logLines: Number(r.log_lines ?? 0),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  finishedAt: isoOrNull(r.finished_at),
});

export const toRunProjection = (r: Row): RunProjection => ({
  tenantId: String(r.tenant_id),
  family: String(r.family) as RunFamily,
  runId: String(r.run_id),
  workflowId: String(r.workflow_id),
  version: Number(r.version),
  status: String(r.status),
  ended: r.ended === true || r.ended === 't' || r.ended === 'true',
  state: json<Record<string, unknown>>(r.state, {}),
  updatedAt: iso(r.updated_at),
});

export const toRunEvent = (r: Row): RunEvent => ({
  tenantId: String(r.tenant_id),
  family: String(r.family) as RunFamily,
  runId: String(r.run_id),
  seq: Number(r.seq),
  tenantSeq: Number(r.tenant_seq),
  type: String(r.type) as RunEventType,
  at: iso(r.at),
  data: json<Record<string, unknown>>(r.data, {}),
});

/** The jsonb the projection function answers, whichever client parsed (or did not parse) it. */
export function toProjectionOutcome(value: unknown): RunProjectionOutcome {
  const r = json<Row>(value, {});
  return { applied: r.applied === true, version: Number(r.version ?? 0), tenantSeq: r.tenantSeq == null ? null : Number(r.tenantSeq) };
}

export const toPolicy = (r: Row): StoredPolicy => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  name: String(r.name),
  description: str(r.description),
  enabled: r.enabled === true || r.enabled === 't' || r.enabled === 'true',
  priority: Number(r.priority),
  condition: json<StoredPolicy['condition']>(r.condition, { matchers: [], status: 'firing' }),
  action: json<StoredPolicy['action']>(r.action, { type: 'notify', params: {} }),
  hostLabel: String(r.host_label),
  limits: json<StoredPolicy['limits']>(r.limits, {} as StoredPolicy['limits']),
  breaker: json<StoredPolicy['breaker']>(r.breaker, {} as StoredPolicy['breaker']),
  version: Number(r.version),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export const toPolicyJob = (r: Row): PolicyJob => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  policyId: str(r.policy_id),
  policyName: str(r.policy_name),
  actionType: str(r.action_type) as PolicyJob['actionType'],
  fingerprint: String(r.fingerprint),
  startsAt: iso(r.starts_at),
  alertStatus: String(r.alert_status) as PolicyJob['alertStatus'],
  labels: json<Record<string, string>>(r.labels, {}),
  host: str(r.host),
  cooldownKey: str(r.cooldown_key),
  params: json<PolicyJob['params']>(r.params, null),
  status: String(r.status) as PolicyJob['status'],
  limitReason: str(r.limit_reason) as PolicyJob['limitReason'],
  detail: str(r.detail),
  trial: r.trial === true || r.trial === 't' || r.trial === 'true',
  workflowId: str(r.workflow_id),
  decidedAt: iso(r.decided_at),
  startedAt: isoOrNull(r.started_at),
  finishedAt: isoOrNull(r.finished_at),
  updatedAt: iso(r.updated_at),
});

export const toAlertEvent = (r: Row): AlertEvent => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  source: String(r.source),
  receivedAt: iso(r.received_at),
  alert: {
    status: String(r.status) as AlertEvent['alert']['status'],
    labels: json<Record<string, string>>(r.labels, {}),
    annotations: json<Record<string, string>>(r.annotations, {}),
    fingerprint: String(r.fingerprint),
    startsAt: iso(r.starts_at),
  },
});

/** The jsonb a store function answers, whichever client parsed (or did not parse) it. */
export function jsonRow(value: unknown): Row {
  return json<Row>(value, {});
}

/** A policy list cursor: priority, createdAt and id of the last policy of the page. */
export function decodePolicyCursor(cursor: string): [number, string, string] {
  const [priority, createdAt, id] = decodeCursor(cursor, ['number', 'string', 'string']) as [number, string, string];
  // Only what this store wrote: an int4 priority and an ISO instant as toISOString spells it.
  const at = new Date(createdAt);
  const exact = !Number.isNaN(at.getTime()) && at.toISOString() === createdAt;
  if (!Number.isInteger(priority) || Math.abs(priority) > 2_147_483_647 || !exact || !UUID_PATTERN.test(id)) throw new InvalidCursorError();
  return [priority, createdAt, id];
}

/** A cursor over a table's increasing seq (newest first: rows below it). */
export function decodeSeqCursor(cursor: string): number {
  const [seq] = decodeCursor(cursor, ['number']) as [number];
  if (!Number.isSafeInteger(seq) || seq < 1) throw new InvalidCursorError();
  return seq;
}
