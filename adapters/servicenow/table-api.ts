// ServiceNow incidents over the Table API (/api/now/table/incident), with basic auth or an OAuth
// bearer token. No SDK: ServiceNow publishes no Node client for its REST APIs (@servicenow/sdk
// builds applications that run on the platform), and these are a handful of JSON requests. The
// notifier (adapters/notify/servicenow.ts) shares the authorization and error parsing below.
//
//   list    GET   /api/now/table/incident?sysparm_query=<encoded query>^ORDERBYDESCsys_updated_on
//                 &sysparm_limit&sysparm_offset  → { result: [...] }, X-Total-Count header
//   get     GET   /api/now/table/incident/{sys_id}, or ?sysparm_query=number=<number>
//   create  GET   ?sysparm_query=correlation_id=<id> first (a retried create finds its record), then
//           POST  /api/now/table/incident
//   update  PATCH /api/now/table/incident/{sys_id}   (work_notes adds a journal entry)
// Reads ask for sysparm_display_value=all, so each field comes as { value, display_value }: the
// model reads 'In Progress' and 'Network' where the table holds 2 and a sys_id.

import { requestJson, normalizeBaseUrl, type FailureFactory, type JsonRequest } from '../http/request-json.js';
import {
  INCIDENT_STATES,
  ServiceNowError,
  ServiceNowNotFoundError,
  type CallOptions,
  type IncidentChanges,
  type IncidentFilter,
  type IncidentPage,
  type NewIncident,
  type Reference,
  type ServiceNowIncident,
  type ServiceNowIncidents,
} from './port.js';

const NAME = 'servicenow';
export const SYS_ID = /^[0-9a-f]{32}$/i;
/** Task numbers: a prefix and digits (INC0010001). */
export const INCIDENT_NUMBER = /^[A-Z]{2,8}\d{4,12}$/i;
/** What a correlation id may hold: it travels inside an encoded query, where ^ separates conditions. */
const CORRELATION_ID = /^[\w.:/@#-]{1,100}$/;
const INCIDENT_TABLE = '/api/now/table/incident';
/** Journal entries (work notes, comments) of every table. */
const JOURNAL_TABLE = '/api/now/table/sys_journal_field';
const FIELDS = [
  'sys_id',
  'number',
  'state',
  'active',
  'short_description',
  'description',
  'priority',
  'urgency',
  'impact',
  'assignment_group',
  'assigned_to',
  'caller_id',
  'category',
  'opened_at',
  'sys_updated_on',
  'close_code',
  'close_notes',
  'correlation_id',
].join(',');
const READ_PARAMS = { sysparm_display_value: 'all', sysparm_exclude_reference_link: 'true', sysparm_fields: FIELDS };

export type TableApiCredentials =
  { username: string; password: string; token?: undefined } | { token: string; username?: undefined; password?: undefined };

/** The Authorization header for the credentials, and the values no message may show. */
export function tableApiAuthorization(credentials: TableApiCredentials): { authorization: string; secrets: string[] } {
  if (credentials.token !== undefined) return { authorization: `Bearer ${credentials.token}`, secrets: [credentials.token] };
  const encoded = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  return { authorization: `Basic ${encoded}`, secrets: [credentials.password, encoded] };
}

/** ServiceNow errors: { "error": { "message": "...", "detail": "..." }, "status": "failure" }. */
export function serviceNowErrorText(body: unknown): string | undefined {
  const error = (body as { error?: { message?: unknown; detail?: unknown } } | undefined)?.error;
  if (!error || typeof error !== 'object') return undefined;
  const parts = [error.message, error.detail].filter((part): part is string => typeof part === 'string' && part.trim() !== '');
  return parts.length > 0 ? parts.join(' - ') : undefined;
}

export interface TableApiOptions {
  /** https://<instance>.service-now.com */
  instanceUrl: string;
  credentials: TableApiCredentials;
  /** Per request. Default 15 s. */
  timeoutMs?: number | undefined;
}

const fail: FailureFactory = (message, failure) =>
  failure.status === 404 ? new ServiceNowNotFoundError(message) : new ServiceNowError(message, failure);

export class ServiceNowTableApi implements ServiceNowIncidents {
  private readonly baseUrl: string;
  private readonly authorization: string;
  private readonly secrets: string[];
  private readonly timeoutMs: number;

  constructor(options: TableApiOptions) {
    this.baseUrl = normalizeBaseUrl(options.instanceUrl, 'instanceUrl', NAME, fail);
    const { credentials } = options;
    if (credentials.token !== undefined ? !credentials.token.trim() : !credentials.username?.trim() || !credentials.password)
      throw new ServiceNowError(`${NAME}: a token, or a username and a password, are required`, { retryable: false });
    ({ authorization: this.authorization, secrets: this.secrets } = tableApiAuthorization(credentials));
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  async listIncidents(filter: IncidentFilter, options: CallOptions = {}): Promise<IncidentPage> {
    const limit = filter.limit ?? 20;
    const offset = filter.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('limit must be a whole number from 1 to 100');
    if (!Number.isInteger(offset) || offset < 0) throw invalid('offset must be a whole number from 0');
    const conditions: string[] = [];
    if (filter.active !== undefined) conditions.push(`active=${filter.active}`);
    if (filter.states?.length) conditions.push(`stateIN${filter.states.map((s) => INCIDENT_STATES[s]).join(',')}`);
    if (filter.assignmentGroup !== undefined) {
      const group = queryValue(filter.assignmentGroup, 'assignmentGroup');
      conditions.push(SYS_ID.test(group) ? `assignment_group=${group}` : `assignment_group.name=${group}`);
    }
    if (filter.text !== undefined) {
      const text = queryValue(filter.text, 'text');
      conditions.push(`short_descriptionLIKE${text}^ORdescriptionLIKE${text}`);
    }
    conditions.push('ORDERBYDESCsys_updated_on');
    const response = await this.call('list incidents', 'GET', INCIDENT_TABLE, options, {
      ...READ_PARAMS,
      sysparm_query: conditions.join('^'),
      sysparm_limit: String(limit),
      sysparm_offset: String(offset),
    });
    const incidents = resultList(response.body, 'list incidents').map((record) => this.toIncident(record));
    const header = response.headers.get('x-total-count');
    if (header !== null && /^\d+$/.test(header.trim())) {
      const total = Number(header);
      return { incidents, total, offset, limit, more: offset + incidents.length < total };
    }
    // A proxy that strips the header: a full page may have a next one; the total is what was seen.
    return { incidents, total: offset + incidents.length, offset, limit, more: incidents.length === limit };
  }

  async getIncident(ref: string, options: CallOptions = {}): Promise<ServiceNowIncident> {
    const target = ref.trim();
    if (SYS_ID.test(target)) {
      const response = await this.call('get incident', 'GET', `${INCIDENT_TABLE}/${target}`, options, READ_PARAMS);
      return this.toIncident(resultRecord(response.body, 'get incident'));
    }
    if (!INCIDENT_NUMBER.test(target))
      throw invalid(`${JSON.stringify(ref.slice(0, 40))} is not an incident number (INC0010001) or a sys_id`);
    const response = await this.call('get incident', 'GET', INCIDENT_TABLE, options, {
      ...READ_PARAMS,
      sysparm_query: `number=${target.toUpperCase()}`,
      sysparm_limit: '1',
    });
    const [record] = resultList(response.body, 'get incident');
    if (!record) throw new ServiceNowNotFoundError(`${NAME}: no incident ${target.toUpperCase()} (or this account may not read it)`);
    return this.toIncident(record);
  }

  async createIncident(
    fields: NewIncident,
    correlationId: string,
    options: CallOptions = {},
  ): Promise<{ incident: ServiceNowIncident; created: boolean }> {
    if (!CORRELATION_ID.test(correlationId)) throw invalid('the correlation id may hold up to 100 letters, digits and . _ : / @ # -');
    if (!fields.shortDescription.trim()) throw invalid('a short description is required');
    const existing = await this.call('find incident', 'GET', INCIDENT_TABLE, options, {
      ...READ_PARAMS,
      sysparm_query: `correlation_id=${correlationId}`,
      sysparm_limit: '1',
    });
    const [earlier] = resultList(existing.body, 'find incident');
    if (earlier) return { incident: this.toIncident(earlier), created: false };
    const body: Record<string, string> = {
      short_description: fields.shortDescription.trim(),
      correlation_id: correlationId,
      correlation_display: 'InfraAI',
    };
    if (fields.description !== undefined) body.description = fields.description;
    if (fields.urgency !== undefined) body.urgency = fields.urgency;
    if (fields.impact !== undefined) body.impact = fields.impact;
    if (fields.category !== undefined) body.category = fields.category;
    if (fields.assignmentGroup !== undefined) body.assignment_group = sysId(fields.assignmentGroup, 'assignmentGroup');
    const response = await this.call('create incident', 'POST', INCIDENT_TABLE, options, READ_PARAMS, body);
    return { incident: this.toIncident(resultRecord(response.body, 'create incident')), created: true };
  }

  async updateIncident(ref: string, changes: IncidentChanges, options: CallOptions = {}): Promise<ServiceNowIncident> {
    const body: Record<string, string> = {};
    if (changes.state !== undefined) body.state = INCIDENT_STATES[changes.state];
    if (changes.shortDescription !== undefined) body.short_description = changes.shortDescription;
    if (changes.description !== undefined) body.description = changes.description;
    if (changes.urgency !== undefined) body.urgency = changes.urgency;
    if (changes.impact !== undefined) body.impact = changes.impact;
    if (changes.assignmentGroup !== undefined) body.assignment_group = sysId(changes.assignmentGroup, 'assignmentGroup');
    if (changes.closeCode !== undefined) body.close_code = changes.closeCode;
    if (changes.closeNotes !== undefined) body.close_notes = changes.closeNotes;
    const key = changes.workNoteKey;
    if (key !== undefined && !CORRELATION_ID.test(key))
      throw invalid('the work note key may hold up to 100 letters, digits and . _ : / @ # -');
    if (changes.workNote !== undefined && changes.workNote.trim() !== '') {
      body.work_notes = key === undefined ? changes.workNote : `${changes.workNote}\n\n[${key}]`;
    }
    if (Object.keys(body).length === 0) throw invalid('nothing to change: give at least one field or a work note');
    const target = ref.trim();
    const id = SYS_ID.test(target) ? target : (await this.getIncident(target, options)).sysId;
    // A journal entry is added by every write: a retry (after a lost worker, with the first write
    // applied) would add the note twice. The key in the note tells whether an earlier attempt wrote it.
    if (key !== undefined && body.work_notes !== undefined && (await this.hasWorkNote(id, `[${key}]`, options))) {
      delete body.work_notes;
      if (Object.keys(body).length === 0) return this.getIncident(id, options);
    }
    const response = await this.call('update incident', 'PATCH', `${INCIDENT_TABLE}/${id}`, options, READ_PARAMS, body);
    return this.toIncident(resultRecord(response.body, 'update incident'));
  }

  /**
   * Whether the incident's journal has a work note containing `marker`. An account that may not read
   * the journal (403) gets false: the note is then written without the check, as before.
   */
  private async hasWorkNote(sysId: string, marker: string, options: CallOptions): Promise<boolean> {
    try {
      const response = await this.call('find work note', 'GET', JOURNAL_TABLE, options, {
        sysparm_query: `name=incident^element_id=${sysId}^element=work_notes^valueLIKE${marker}`,
        sysparm_fields: 'sys_id',
        sysparm_limit: '1',
      });
      return resultList(response.body, 'find work note').length > 0;
    } catch (err) {
      if (err instanceof ServiceNowError && err.status === 403) return false;
      throw err;
    }
  }

  private call(
    operation: string,
    method: JsonRequest['method'],
    path: string,
    options: CallOptions,
    query: Record<string, string>,
    body?: Record<string, string>,
  ) {
    return requestJson({
      service: NAME,
      operation,
      method,
      url: `${this.baseUrl}${path}?${new URLSearchParams(query)}`,
      headers: {
        Accept: 'application/json',
        Authorization: this.authorization,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body,
      timeoutMs: this.timeoutMs,
      signal: options.signal,
      secrets: this.secrets,
      errorText: serviceNowErrorText,
      fail,
    });
  }

  private toIncident(record: Record<string, unknown>): ServiceNowIncident {
    const sysIdValue = field(record, 'sys_id').value;
    if (!SYS_ID.test(sysIdValue)) throw unexpectedAnswer('read incident');
    const state = field(record, 'state');
    return {
      sysId: sysIdValue,
      number: field(record, 'number').value,
      state: { value: state.value, label: state.display },
      active: field(record, 'active').value === 'true',
      shortDescription: field(record, 'short_description').value,
      description: field(record, 'description').value,
      priority: field(record, 'priority').display,
      urgency: field(record, 'urgency').display,
      impact: field(record, 'impact').display,
      assignmentGroup: reference(record, 'assignment_group'),
      assignedTo: reference(record, 'assigned_to'),
      caller: reference(record, 'caller_id'),
      category: field(record, 'category').display,
      openedAt: field(record, 'opened_at').display,
      updatedAt: field(record, 'sys_updated_on').display,
      closeCode: field(record, 'close_code').display,
      closeNotes: field(record, 'close_notes').value,
      correlationId: field(record, 'correlation_id').value,
      url: `${this.baseUrl}/incident.do?sys_id=${sysIdValue}`,
    };
  }
}

/** A field as { value, display }: display_value=all gives objects; an instance without it gives strings. */
function field(record: Record<string, unknown>, name: string): { value: string; display: string } {
  const raw = record[name];
  if (raw && typeof raw === 'object') {
    const { value, display_value: display } = raw as { value?: unknown; display_value?: unknown };
    const v = value === null || value === undefined ? '' : String(value);
    return { value: v, display: display === null || display === undefined ? v : String(display) };
  }
  const v = raw === null || raw === undefined ? '' : String(raw);
  return { value: v, display: v };
}

function reference(record: Record<string, unknown>, name: string): Reference | null {
  const { value, display } = field(record, name);
  return value ? { sysId: value, name: display } : null;
}

function resultList(body: unknown, operation: string): Record<string, unknown>[] {
  const result = (body as { result?: unknown } | undefined)?.result;
  if (!Array.isArray(result)) throw unexpectedAnswer(operation);
  return result as Record<string, unknown>[];
}

function resultRecord(body: unknown, operation: string): Record<string, unknown> {
  const result = (body as { result?: unknown } | undefined)?.result;
  if (!result || typeof result !== 'object' || Array.isArray(result)) throw unexpectedAnswer(operation);
  return result as Record<string, unknown>;
}

/** A value inside an encoded query: ^ would start a new condition and a line break ends the query. */
function queryValue(value: string, what: string): string {
  const cleaned = value
    .replace(/[\^\r\n]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!cleaned) throw invalid(`${what} is empty`);
  if (cleaned.length > 200) throw invalid(`${what} is longer than 200 characters`);
  return cleaned;
}

function sysId(value: string, what: string): string {
  if (!SYS_ID.test(value.trim())) throw invalid(`${what} must be a sys_id (32 hex characters); list incidents to see the group's sys_id`);
  return value.trim();
}

function invalid(message: string): ServiceNowError {
  return new ServiceNowError(`${NAME}: ${message}`, { retryable: false });
}

/** A 2xx answer that is not a Table API result: a wrong instanceUrl, or a hibernating developer instance answering with a web page. */
function unexpectedAnswer(operation: string): ServiceNowError {
  return new ServiceNowError(`${NAME} ${operation} failed: the answer was not a Table API result; check instanceUrl`, { retryable: false });
}
