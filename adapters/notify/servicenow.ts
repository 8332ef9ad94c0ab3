// ServiceNow notifier over the Table API (/api/now/table/incident), with basic auth or an OAuth
// bearer token. No SDK: ServiceNow publishes no Node client for its REST APIs (@servicenow/sdk
// builds applications that run on the platform; it does not call the Table API from outside), and
// these are three small JSON requests (see http.ts).
//
// With external.servicenowSysId:  PATCH /api/now/table/incident/{sys_id}
//   resolved            → work_notes + state 6 (Resolved) + close_code + close_notes
//   escalated / failed  → work_notes (+ assignment_group when configured); state unchanged
//   cancelled           → work_notes only
// Without it: GET /api/now/table/incident?sysparm_query=correlation_id=<prefix>:INC-<n> first, so a
// retried activity updates the record an earlier attempt created instead of opening a second one;
// when there is none, POST /api/now/table/incident with short_description, description,
// urgency/impact, correlation_id (and the resolution fields when the run resolved the incident).
// The created record's sys_id is returned in `detail` and in `external.servicenowSysId`.

import { truncateText } from '../../core/redact.js';
import { SYS_ID, serviceNowErrorText, tableApiAuthorization } from '../servicenow/table-api.js';
import { normalizeBaseUrl, requestJson } from './http.js';
import {
  incidentRef,
  NotifierError,
  renderAlertText,
  renderNoticeText,
  type AlertNotice,
  type IncidentNotice,
  type IncidentOutcome,
  type Notifier,
  type NotifyResult,
} from './port.js';

interface ServiceNowCommon {
  /** https://<instance>.service-now.com */
  instanceUrl: string;
  /** sys_id of the group that escalated and failed incidents are assigned to (assignment_group is a reference field). */
  assignmentGroup?: string;
  /** sys_id of the user set as caller (caller_id) on records InfraAI creates. */
  callerId?: string;
  /**
   * close_code when resolving. Default 'Solved (Permanently)' (the classic choice list); instances
   * on the newer resolution-code list use values such as 'Solution provided'.
   */
  closeCode?: string;
  /** correlation_id is `<prefix>:INC-<n>`; give each InfraAI deployment sharing an instance its own prefix. Default 'infraai'. */
  correlationPrefix?: string;
  /** Per request. Default 15 s. */
  timeoutMs?: number;
}

export type ServiceNowConfig = ServiceNowCommon &
  ({ username: string; password: string; token?: undefined } | { token: string; username?: undefined; password?: undefined });

/** Incident state values of the out-of-the-box incident state model. */
export const SERVICENOW_STATE = { new: '1', inProgress: '2', onHold: '3', resolved: '6', closed: '7', canceled: '8' } as const;

/** urgency / impact: 1 High, 2 Medium, 3 Low. */
const PRIORITY: Record<IncidentOutcome, { urgency: string; impact: string }> = {
  escalated: { urgency: '1', impact: '2' },
  failed: { urgency: '2', impact: '2' },
  cancelled: { urgency: '3', impact: '3' },
  resolved: { urgency: '3', impact: '3' },
};

const NAME = 'servicenow';
const RESPONSE_FIELDS = 'sys_id,number,state';

interface IncidentRecord {
  sys_id: string;
  number?: string;
  state?: string;
}

export class ServiceNowNotifier implements Notifier {
  readonly name = NAME;
  private readonly baseUrl: string;
  private readonly authorization: string;
  private readonly secrets: string[];
  private readonly closeCode: string;
  private readonly correlationPrefix: string;
  private readonly timeoutMs: number;

  constructor(private readonly config: ServiceNowConfig) {
    this.baseUrl = normalizeBaseUrl(config.instanceUrl, 'instanceUrl', NAME);
    if (config.token !== undefined) {
      if (!config.token.trim()) throw configError('token is empty');
    } else if (!config.username?.trim() || !config.password) throw configError('username and password, or token, are required');
    ({ authorization: this.authorization, secrets: this.secrets } = tableApiAuthorization(config));
    for (const [what, value] of [
      ['assignmentGroup', config.assignmentGroup],
      ['callerId', config.callerId],
    ] as const) {
      if (value !== undefined && !SYS_ID.test(value)) throw configError(`${what} must be a sys_id (32 hex characters)`);
    }
    this.closeCode = config.closeCode?.trim() || 'Solved (Permanently)';
    this.correlationPrefix = config.correlationPrefix ?? 'infraai';
    if (!/^[A-Za-z0-9._-]{1,40}$/.test(this.correlationPrefix))
      throw configError('correlationPrefix may hold letters, digits, ".", "_" and "-" only');
    this.timeoutMs = config.timeoutMs ?? 15_000;
  }

  async notify(notice: IncidentNotice): Promise<NotifyResult> {
    const text = renderNoticeText(notice);
    const sysId = notice.external.servicenowSysId?.trim();
    if (sysId) {
      if (!SYS_ID.test(sysId))
        throw new NotifierError(`${NAME}: external.servicenowSysId is not a sys_id (32 hex characters)`, {
          notifier: NAME,
          retryable: false,
        });
      return this.update(sysId, notice, text);
    }
    const existing = await this.findCreated(notice);
    if (existing) {
      const updated = await this.update(existing.sys_id, notice, text);
      return { ...updated, external: refs(existing) };
    }
    return this.create(notice, text);
  }

  /**
   * An alert notice: the incident record keyed by correlation_id `<prefix>:<notice key>` gets a work
   * note when an earlier attempt created it, else is created (urgency and impact from the alert's
   * severity, the assignment group when one is configured: an alert InfraAI could not handle is
   * for people).
   */
  async notifyAlert(notice: AlertNotice): Promise<NotifyResult> {
    const correlationId = `${this.correlationPrefix}:${notice.key}`.slice(0, 100);
    const text = renderAlertText(notice);
    const existing = await this.findByCorrelation(correlationId);
    if (existing) {
      const record = await this.call('update incident', 'PATCH', `/api/now/table/incident/${existing.sys_id}`, { work_notes: text });
      return { delivered: true, detail: `updated ${record.number ?? existing.sys_id} (sys_id ${record.sys_id}): work note added` };
    }
    const severity = (notice.severity ?? '').toLowerCase();
    const level = ['critical', 'page', 'error'].includes(severity) ? '1' : severity === 'warning' ? '2' : '3';
    const fields: Record<string, string> = {
      short_description: truncateText(`[InfraAI alert] ${notice.title}`, 150),
      description: text,
      urgency: level,
      impact: level,
      correlation_id: correlationId,
      correlation_display: 'InfraAI',
    };
    if (this.config.callerId) fields.caller_id = this.config.callerId;
    if (this.config.assignmentGroup) fields.assignment_group = this.config.assignmentGroup;
    const record = await this.call('create incident', 'POST', '/api/now/table/incident', fields);
    return { delivered: true, detail: `created ${record.number ?? 'incident'} (sys_id ${record.sys_id})` };
  }

  private async update(sysId: string, notice: IncidentNotice, text: string): Promise<NotifyResult> {
    const fields: Record<string, string> = { work_notes: text };
    if (notice.status === 'resolved') Object.assign(fields, this.resolution(notice));
    else if ((notice.status === 'escalated' || notice.status === 'failed') && this.config.assignmentGroup)
      fields.assignment_group = this.config.assignmentGroup;
    const record = await this.call('update incident', 'PATCH', `/api/now/table/incident/${sysId}`, fields);
    const changes = [
      'work note added',
      ...(fields.state ? ['state Resolved'] : []),
      ...(fields.assignment_group ? ['assignment group set'] : []),
    ];
    return { delivered: true, detail: `updated ${record.number ?? sysId} (sys_id ${record.sys_id}): ${changes.join(', ')}` };
  }

  private async create(notice: IncidentNotice, text: string): Promise<NotifyResult> {
    const ref = incidentRef(notice);
    const fields: Record<string, string> = {
      short_description: truncateText(`[InfraAI ${ref}] ${notice.title}`, 150),
      description: text,
      ...PRIORITY[notice.status],
      correlation_id: this.correlationId(notice),
      correlation_display: 'InfraAI',
    };
    if (this.config.callerId) fields.caller_id = this.config.callerId;
    if ((notice.status === 'escalated' || notice.status === 'failed') && this.config.assignmentGroup)
      fields.assignment_group = this.config.assignmentGroup;
    if (notice.status === 'resolved') Object.assign(fields, this.resolution(notice));
    const record = await this.call('create incident', 'POST', '/api/now/table/incident', fields);
    return { delivered: true, detail: `created ${record.number ?? 'incident'} (sys_id ${record.sys_id})`, external: refs(record) };
  }

  /** The record an earlier attempt for this InfraAI incident created, found by correlation_id. */
  private findCreated(notice: IncidentNotice): Promise<IncidentRecord | undefined> {
    return this.findByCorrelation(this.correlationId(notice));
  }

  private async findByCorrelation(correlationId: string): Promise<IncidentRecord | undefined> {
    const query = new URLSearchParams({
      sysparm_query: `correlation_id=${correlationId}`,
      sysparm_fields: RESPONSE_FIELDS,
      sysparm_limit: '1',
    });
    const response = await requestJson({
      ...this.request('find incident'),
      method: 'GET',
      url: `${this.baseUrl}/api/now/table/incident?${query}`,
      headers: { Accept: 'application/json', Authorization: this.authorization },
    });
    const result = (response.body as { result?: unknown } | undefined)?.result;
    if (!Array.isArray(result)) throw unexpectedAnswer('find incident');
    const first = result[0] as IncidentRecord | undefined;
    return first && typeof first.sys_id === 'string' && SYS_ID.test(first.sys_id) ? first : undefined;
  }

  private async call(operation: string, method: 'POST' | 'PATCH', path: string, fields: Record<string, string>): Promise<IncidentRecord> {
    const query = new URLSearchParams({ sysparm_fields: RESPONSE_FIELDS, sysparm_exclude_reference_link: 'true' });
    const response = await requestJson({
      ...this.request(operation),
      method,
      url: `${this.baseUrl}${path}?${query}`,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', Authorization: this.authorization },
      body: fields,
    });
    const result = (response.body as { result?: Partial<IncidentRecord> } | undefined)?.result;
    if (!result || typeof result !== 'object' || typeof result.sys_id !== 'string' || !result.sys_id) throw unexpectedAnswer(operation);
    return { sys_id: result.sys_id, number: typeof result.number === 'string' ? result.number : undefined, state: result.state };
  }

  private request(operation: string) {
    return { notifier: NAME, operation, timeoutMs: this.timeoutMs, secrets: this.secrets, errorText: serviceNowErrorText };
  }

  private resolution(notice: IncidentNotice): Record<string, string> {
    const notes = [`Resolved by InfraAI (${incidentRef(notice)}).`, notice.summary];
    if (notice.rootCause) notes.push(`Root cause: ${notice.rootCause}`);
    if (notice.actions.length > 0) notes.push(`Fixes: ${notice.actions.map((a) => a.command).join('; ')}`);
    return { state: SERVICENOW_STATE.resolved, close_code: this.closeCode, close_notes: truncateText(notes.join('\n'), 3900) };
  }

  private correlationId(notice: IncidentNotice): string {
    return `${this.correlationPrefix}:${incidentRef(notice)}`;
  }
}

function refs(record: IncidentRecord): Record<string, string> {
  return { servicenowSysId: record.sys_id, ...(record.number ? { servicenowNumber: record.number } : {}) };
}

/** A 2xx answer that is not a Table API record: a wrong instanceUrl, or an instance that answers with a web page (a hibernating developer instance). */
function unexpectedAnswer(operation: string): NotifierError {
  return new NotifierError(`${NAME} ${operation} failed: the answer was not a Table API result; check instanceUrl`, {
    notifier: NAME,
    retryable: false,
  });
}

function configError(message: string): NotifierError {
  return new NotifierError(`${NAME}: ${message}`, { notifier: NAME, retryable: false });
}
