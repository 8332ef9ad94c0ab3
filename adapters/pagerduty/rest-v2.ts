// PagerDuty incidents over the REST API v2. No SDK: @pagerduty/pdjs is a thin wrapper around the
// same HTTP calls and adds nothing four small JSON requests need. The notifier
// (adapters/notify/pagerduty.ts) shares the headers and error parsing below.
//
//   list         GET /incidents?statuses[]=…&service_ids[]=…&since&until&limit&offset&total=true
//                → { incidents, limit, offset, more, total }
//   get          GET /incidents/{id} → { incident }
//   acknowledge  PUT /incidents/{id} { incident: { type: 'incident_reference', status: 'acknowledged' } }
//   resolve      PUT /incidents/{id} { incident: { type: 'incident_reference', status: 'resolved' } }
//                (400 "Incident Already Resolved" is success: the incident is in the state wanted)
// Headers: Authorization: Token token=<apiToken>, Accept: application/vnd.pagerduty+json;version=2,
//          From: <email of a PagerDuty user> on changes.

import { requestJson, normalizeBaseUrl, type FailureFactory, type JsonRequest } from '../http/request-json.js';
import {
  PAGERDUTY_STATUSES,
  PagerDutyError,
  PagerDutyNotFoundError,
  type CallOptions,
  type PagerDutyIncident,
  type PagerDutyIncidentFilter,
  type PagerDutyIncidentPage,
  type PagerDutyIncidents,
  type PagerDutyStatus,
} from './port.js';

const NAME = 'pagerduty';
export const PAGERDUTY_ACCEPT = 'application/vnd.pagerduty+json;version=2';
/** PagerDuty object ids: letters and digits (PT4KHLK, Q1ABCDEF…). */
export const PAGERDUTY_ID = /^[A-Za-z0-9]{1,64}$/;

/** The REST API v2 headers; From only on changes. */
export function pagerDutyRestHeaders(apiToken: string, fromEmail?: string): Record<string, string> {
  return {
    Authorization: `Token token=${apiToken}`,
    Accept: PAGERDUTY_ACCEPT,
    ...(fromEmail !== undefined ? { 'Content-Type': 'application/json', From: fromEmail } : {}),
  };
}

/** REST API errors: { "error": { "message": "...", "code": 2001, "errors": ["..."] } }. */
export function pagerDutyRestErrorText(body: unknown): string | undefined {
  const error = (body as { error?: { message?: unknown; errors?: unknown } } | undefined)?.error;
  if (!error || typeof error !== 'object') return undefined;
  const parts = [error.message, ...(Array.isArray(error.errors) ? (error.errors as unknown[]) : [])].filter(
    (part): part is string => typeof part === 'string' && part.trim() !== '',
  );
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** PagerDuty's answer to resolving a resolved incident: the state wanted, someone was first. */
export function isAlreadyResolved(status: number, body: unknown): boolean {
  return status === 400 && /already resolved/i.test(pagerDutyRestErrorText(body) ?? '');
}

export interface RestV2Options {
  apiToken: string;
  /** The email of a PagerDuty user, sent as From on changes. */
  fromEmail: string;
  /** Default https://api.pagerduty.com */
  baseUrl?: string | undefined;
  /** Per request. Default 15 s. */
  timeoutMs?: number | undefined;
}

const fail: FailureFactory = (message, failure) =>
  failure.status === 404 ? new PagerDutyNotFoundError(message) : new PagerDutyError(message, failure);

export class PagerDutyRestV2 implements PagerDutyIncidents {
  private readonly baseUrl: string;
  private readonly apiToken: string;
  private readonly fromEmail: string;
  private readonly timeoutMs: number;

  constructor(options: RestV2Options) {
    this.apiToken = options.apiToken.trim();
    this.fromEmail = options.fromEmail.trim();
    if (!this.apiToken) throw invalid('an API token is required');
    if (!/^[^\s@]+@[^\s@]+$/.test(this.fromEmail)) throw invalid('fromEmail (the email of a PagerDuty user) is required');
    this.baseUrl = normalizeBaseUrl(options.baseUrl ?? 'https://api.pagerduty.com', 'baseUrl', NAME, fail);
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  async listIncidents(filter: PagerDutyIncidentFilter, options: CallOptions = {}): Promise<PagerDutyIncidentPage> {
    const limit = filter.limit ?? 25;
    const offset = filter.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('limit must be a whole number from 1 to 100');
    if (!Number.isInteger(offset) || offset < 0) throw invalid('offset must be a whole number from 0');
    const query = new URLSearchParams({ limit: String(limit), offset: String(offset), total: 'true', sort_by: 'created_at:desc' });
    for (const status of filter.statuses ?? ['triggered', 'acknowledged']) {
      if (!PAGERDUTY_STATUSES.includes(status))
        throw invalid(`${JSON.stringify(status)} is not a status (${PAGERDUTY_STATUSES.join(', ')})`);
      query.append('statuses[]', status);
    }
    for (const id of filter.serviceIds ?? []) query.append('service_ids[]', checkId(id, 'service id'));
    for (const [name, value] of [
      ['since', filter.since],
      ['until', filter.until],
    ] as const) {
      if (value === undefined) continue;
      if (Number.isNaN(Date.parse(value))) throw invalid(`${name} is not an ISO 8601 date and time`);
      query.set(name, value);
    }
    const response = await this.call('list incidents', 'GET', `/incidents?${query}`, options);
    const body = response.body as { incidents?: unknown; limit?: unknown; offset?: unknown; more?: unknown; total?: unknown } | undefined;
    if (!body || !Array.isArray(body.incidents)) throw unexpectedAnswer('list incidents');
    const incidents = body.incidents.map((item) => this.toIncident(item, 'list incidents'));
    return {
      incidents,
      limit: typeof body.limit === 'number' ? body.limit : limit,
      offset: typeof body.offset === 'number' ? body.offset : offset,
      more: body.more === true,
      total: typeof body.total === 'number' ? body.total : null,
    };
  }

  async getIncident(id: string, options: CallOptions = {}): Promise<PagerDutyIncident> {
    const response = await this.call('get incident', 'GET', `/incidents/${checkId(id, 'incident id')}`, options);
    return this.toIncident((response.body as { incident?: unknown } | undefined)?.incident, 'get incident');
  }

  async acknowledgeIncident(id: string, options: CallOptions = {}): Promise<PagerDutyIncident> {
    const response = await this.change('acknowledge incident', id, 'acknowledged', options);
    return this.toIncident((response.body as { incident?: unknown } | undefined)?.incident, 'acknowledge incident');
  }

  async resolveIncident(id: string, options: CallOptions = {}): Promise<{ incident: PagerDutyIncident; alreadyResolved: boolean }> {
    const response = await this.change('resolve incident', id, 'resolved', options, isAlreadyResolved);
    if (response.status === 400) return { incident: await this.getIncident(id, options), alreadyResolved: true };
    return {
      incident: this.toIncident((response.body as { incident?: unknown } | undefined)?.incident, 'resolve incident'),
      alreadyResolved: false,
    };
  }

  private change(operation: string, id: string, status: PagerDutyStatus, options: CallOptions, tolerate?: JsonRequest['tolerate']) {
    return this.call(operation, 'PUT', `/incidents/${checkId(id, 'incident id')}`, options, {
      body: { incident: { type: 'incident_reference', status } },
      from: this.fromEmail,
      tolerate,
    });
  }

  private call(
    operation: string,
    method: JsonRequest['method'],
    path: string,
    options: CallOptions,
    write: { body: unknown; from: string; tolerate?: JsonRequest['tolerate'] } | undefined = undefined,
  ) {
    return requestJson({
      service: NAME,
      operation,
      method,
      url: `${this.baseUrl}${path}`,
      headers: pagerDutyRestHeaders(this.apiToken, write?.from),
      body: write?.body,
      tolerate: write?.tolerate,
      timeoutMs: this.timeoutMs,
      signal: options.signal,
      secrets: [this.apiToken],
      errorText: pagerDutyRestErrorText,
      fail,
    });
  }

  private toIncident(raw: unknown, operation: string): PagerDutyIncident {
    const item = raw as Record<string, unknown> | undefined;
    if (!item || typeof item !== 'object' || typeof item.id !== 'string' || !PAGERDUTY_STATUSES.includes(item.status as PagerDutyStatus))
      throw unexpectedAnswer(operation);
    const service = item.service as { id?: unknown; summary?: unknown } | null | undefined;
    const assignments = Array.isArray(item.assignments) ? (item.assignments as { assignee?: { summary?: unknown } }[]) : [];
    const summary = (value: unknown) => (value && typeof value === 'object' ? text((value as { summary?: unknown }).summary) : null);
    return {
      id: item.id,
      number: typeof item.incident_number === 'number' ? item.incident_number : 0,
      title: text(item.title) ?? text(item.summary) ?? '',
      status: item.status as PagerDutyStatus,
      urgency: text(item.urgency) ?? '',
      priority: summary(item.priority),
      service: service && typeof service.id === 'string' ? { id: service.id, name: text(service.summary) ?? service.id } : null,
      assignees: assignments.map((a) => text(a.assignee?.summary)).filter((name): name is string => name !== null),
      escalationPolicy: summary(item.escalation_policy),
      createdAt: text(item.created_at) ?? '',
      lastStatusChangeAt: text(item.last_status_change_at),
      url: text(item.html_url) ?? '',
    };
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function checkId(id: string, what: string): string {
  if (!PAGERDUTY_ID.test(id)) throw invalid(`${JSON.stringify(id.slice(0, 70))} is not a PagerDuty ${what}`);
  return id;
}

function invalid(message: string): PagerDutyError {
  return new PagerDutyError(`${NAME}: ${message}`, { retryable: false });
}

function unexpectedAnswer(operation: string): PagerDutyError {
  return new PagerDutyError(`${NAME} ${operation} failed: the answer was not a REST API v2 incident; check baseUrl`, { retryable: false });
}
