// The notification port: when an incident run ends (resolved / escalated / failed / cancelled),
// InfraAI posts an update to the operator's ticketing and paging tools (ServiceNow, PagerDuty).
// Adapters make one attempt per call and classify failures for Temporal's retry policy: a
// NotifierError is retryable (429, 5xx, timeouts, network) or not (bad request, bad credentials,
// unknown record). A notifier that has nothing to act on (no external reference it can use)
// returns { delivered: false } instead of throwing.

import { truncateText } from '../../core/redact.js';

export type IncidentOutcome = 'resolved' | 'escalated' | 'failed' | 'cancelled';

export interface IncidentNotice {
  /** INC-42 in our system. */
  incidentNumber: number;
  title: string;
  status: IncidentOutcome;
  /** One paragraph, already redacted by the caller. */
  summary: string;
  rootCause: string | null;
  /** Fixes applied (may be empty). */
  actions: { command: string; outcome: string }[];
  /** Link to the incident in InfraAI, if known. */
  url: string | null;
  /** External references carried by the incident, e.g. { servicenowSysId, pagerdutyIncidentId, pagerdutyDedupKey }. */
  external: Record<string, string>;
}

export interface NotifyResult {
  delivered: boolean;
  detail: string;
  /**
   * References the notifier created or learned (ServiceNow: servicenowSysId and servicenowNumber
   * of a record it created), for the caller to store on the incident so later notices update the
   * same record.
   */
  external?: Record<string, string>;
}

/**
 * A notice about an alert rather than an incident: a self-healing policy's `notify` action, or a
 * breaker that opened for a host InfraAI cannot open an incident for (not in the CMDB).
 */
export interface AlertNotice {
  /** Unique per notice and stable across retries (e.g. `policy-job:<id>`): a retry updates what the first attempt created. */
  key: string;
  title: string;
  /** The message, already interpolated and redacted by the caller. */
  summary: string;
  /** The alert's severity label (critical, warning, info, …), when it has one. */
  severity: string | null;
  labels: Record<string, string>;
  /** Link to the job in InfraAI, if known. */
  url: string | null;
}

export interface Notifier {
  readonly name: string;
  notify(notice: IncidentNotice): Promise<NotifyResult>;
  /** Opens (or updates, by key) a ticket or page for an alert; absent: this tool takes incident notices only. */
  notifyAlert?(notice: AlertNotice): Promise<NotifyResult>;
}

/**
 * The tenants whose incidents and alerts the deployment's notifiers serve (INFRAAI_NOTIFY_TENANTS):
 * `*` every tenant, else these slugs. The notifiers hold one set of credentials for the whole
 * deployment, so a tenant left out must not reach them: its notices would land in, or act on
 * (note, resolve), another tenant's tickets and pages.
 */
export type NotifyTenants = '*' | readonly string[];

/**
 * Null when the notifiers serve the tenant; otherwise why not, for the step's detail. The tenant's
 * slug is looked up (store.tenants) only when not every tenant is served.
 */
export async function notServedReason(
  served: NotifyTenants,
  tenantId: string,
  tenants: { getById(id: string): Promise<{ slug: string } | null> },
): Promise<string | null> {
  if (served === '*') return null;
  const slug = (await tenants.getById(tenantId))?.slug ?? null;
  if (slug !== null && served.includes(slug)) return null;
  return `the deployment's notifiers do not serve tenant ${slug ?? tenantId}`;
}

/** A delivery failure. The message never contains the credentials the notifier was given. */
export class NotifierError extends Error {
  override readonly name = 'NotifierError';
  readonly notifier: string;
  readonly retryable: boolean;
  /** The HTTP status when the service answered; undefined for network failures, timeouts and bad configuration. */
  readonly status: number | undefined;
  /** From Retry-After (or PagerDuty's ratelimit-reset) when the service sent it. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    details: { notifier: string; retryable: boolean; status?: number | undefined; retryAfterMs?: number | undefined },
  ) {
    super(message);
    this.notifier = details.notifier;
    this.retryable = details.retryable;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

export const OUTCOME_LABEL: Record<IncidentOutcome, string> = {
  resolved: 'resolved by InfraAI',
  escalated: 'escalated to a human by InfraAI',
  failed: 'InfraAI remediation failed',
  cancelled: 'InfraAI remediation cancelled',
};

/** How many applied fixes a notice lists, and how long each command / outcome may be. */
const MAX_ACTIONS = 20;
const MAX_COMMAND_CHARS = 300;
const MAX_OUTCOME_CHARS = 300;

export function incidentRef(notice: Pick<IncidentNotice, 'incidentNumber'>): string {
  return `INC-${notice.incidentNumber}`;
}

/**
 * The plain-text body posted as a ServiceNow work note / description and a PagerDuty note. The
 * summary arrives redacted; the remaining free text is bounded so a runaway plan cannot produce
 * an oversized request (`maxChars` caps the whole text).
 */
export function renderNoticeText(notice: IncidentNotice, maxChars = 8000): string {
  const lines = [
    `InfraAI ${incidentRef(notice)}: ${OUTCOME_LABEL[notice.status]}`,
    `Title: ${notice.title}`,
    '',
    `Summary: ${notice.summary}`,
  ];
  if (notice.rootCause) lines.push('', `Root cause: ${notice.rootCause}`);
  if (notice.actions.length > 0) {
    lines.push('', 'Fixes applied:');
    for (const action of notice.actions.slice(0, MAX_ACTIONS)) {
      lines.push(`- ${truncateText(action.command, MAX_COMMAND_CHARS)} -> ${truncateText(action.outcome, MAX_OUTCOME_CHARS)}`);
    }
    if (notice.actions.length > MAX_ACTIONS) lines.push(`- … and ${notice.actions.length - MAX_ACTIONS} more`);
  } else {
    lines.push('', 'Fixes applied: none');
  }
  if (notice.url) lines.push('', `InfraAI incident: ${notice.url}`);
  return truncateText(lines.join('\n'), maxChars);
}

/** The plain text of an alert notice (a ServiceNow description or work note, a PagerDuty event's details). */
export function renderAlertText(notice: AlertNotice, maxChars = 8000): string {
  const labels = Object.entries(notice.labels)
    .slice(0, 50)
    .map(([name, value]) => `${name}=${truncateText(value, 200)}`)
    .join(', ');
  const lines = [`InfraAI alert: ${notice.title}`, '', notice.summary];
  if (labels) lines.push('', `Labels: ${labels}`);
  if (notice.url) lines.push('', `InfraAI job: ${notice.url}`);
  return truncateText(lines.join('\n'), maxChars);
}
