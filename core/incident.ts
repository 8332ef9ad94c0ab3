// Workflow-safe domain contracts: plain types and constants only, no imports, no Node APIs.

export const INCIDENT_STATUSES = [
  'open',
  'investigating',
  'awaiting_approval',
  'remediating',
  'verifying',
  'resolved',
  'escalated',
  'failed',
  'cancelled',
] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Statuses after which the incident workflow has finished and nothing changes the row any more. */
export const TERMINAL_INCIDENT_STATUSES: readonly IncidentStatus[] = ['resolved', 'escalated', 'failed', 'cancelled'];

export function isTerminalIncidentStatus(status: IncidentStatus): boolean {
  return TERMINAL_INCIDENT_STATUSES.includes(status);
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ENVIRONMENTS = ['production', 'staging', 'development', 'test', 'other'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export interface CmdbItem {
  tenantId: string;
  tagId: string;
  instanceId: string | null;
  hostname: string;
  address: string;
  port: number;
  environment: Environment;
  owner: string | null;
  /** Operating system family, e.g. "linux"; used to pick runbooks. */
  os: string | null;
  /** How services are managed on the host: systemd, sysv, supervisor. */
  serviceManager: string | null;
  sshUser: string | null;
  /** Name of a stored credential (never the secret itself). */
  sshCredential: string | null;
  description: string | null;
  tags: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface Incident {
  id: string;
  tenantId: string;
  /** Per-tenant human number, e.g. 42 (shown as INC-42). */
  number: number;
  title: string;
  description: string;
  severity: Severity;
  tagId: string;
  status: IncidentStatus;
  source: string;
  workflowId: string;
  /** Host the incident targets, copied from the CMDB when the workflow looked it up. */
  targetHost: string | null;
  summary: string | null;
  createdBy: string | null;
  /** References in other tools: servicenowSysId, pagerdutyIncidentId, pagerdutyDedupKey. */
  external: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
}

export interface IncidentResult {
  id: string;
  tenantId: string;
  incidentId: string;
  incidentNumber: number;
  status: IncidentStatus;
  summary: string;
  details: Record<string, unknown>;
  createdAt: string;
}

export interface JobLog {
  id: string;
  tenantId: string;
  incidentId: string | null;
  /** Unique per side effect: a retried activity writes the same key and adds nothing. */
  idempotencyKey: string;
  action: string;
  target: string;
  status: 'succeeded' | 'failed' | 'skipped';
  detail: Record<string, unknown>;
  createdAt: string;
}
