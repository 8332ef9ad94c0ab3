// PagerDuty notifier: the REST API v2 (a note on the incident, and resolving it when InfraAI
// resolved the run) or, with only an integration routing key, the Events API v2. No SDK: PagerDuty's
// JavaScript client (@pagerduty/pdjs) is a thin wrapper around these same HTTP calls that adds
// nothing two small JSON requests need, so it is not worth a dependency (see http.ts).
//
// REST, with apiKey + fromEmail and external.pagerdutyIncidentId:
//   POST {apiBaseUrl}/incidents/{id}/notes   { note: { content } }
//   PUT  {apiBaseUrl}/incidents/{id}         { incident: { type: 'incident_reference', status: 'resolved' } }   (resolved only)
//   headers: Authorization: Token token=<apiKey>, Accept: application/vnd.pagerduty+json;version=2,
//            Content-Type: application/json, From: <fromEmail>
// Events API v2, with routingKey and external.pagerdutyDedupKey (used when REST cannot be):
//   POST {eventsBaseUrl}/v2/enqueue  { routing_key, event_action: 'resolve', dedup_key }
//   For escalated / failed / cancelled nothing is sent unless acknowledgeUnresolved is set
//   ('acknowledge'): acknowledging would stop the escalation policy from paging the on-call at the
//   very moment InfraAI hands the incident to a human. The Events API cannot carry a note.

import { isAlreadyResolved, PAGERDUTY_ACCEPT, PAGERDUTY_ID, pagerDutyRestErrorText, pagerDutyRestHeaders } from '../pagerduty/rest-v2.js';
import { normalizeBaseUrl, requestJson } from './http.js';
import { truncateText } from '../../core/redact.js';
import {
  incidentRef,
  NotifierError,
  renderAlertText,
  renderNoticeText,
  type AlertNotice,
  type IncidentNotice,
  type Notifier,
  type NotifyResult,
} from './port.js';

export interface PagerDutyConfig {
  /** REST API v2 key (account or user token). Needs fromEmail. */
  apiKey?: string;
  /** Email of a valid PagerDuty user of the account, sent as From (required to write to incidents with an account key). */
  fromEmail?: string;
  /** Events API v2 integration ("routing") key of a service. */
  routingKey?: string;
  /** Default https://api.pagerduty.com */
  apiBaseUrl?: string;
  /** Default https://events.pagerduty.com (the adapter posts to {eventsBaseUrl}/v2/enqueue). */
  eventsBaseUrl?: string;
  /** Events API only: send 'acknowledge' for escalated / failed / cancelled runs. Off by default (see above). */
  acknowledgeUnresolved?: boolean;
  /** Per request. Default 15 s. */
  timeoutMs?: number;
}

const NAME = 'pagerduty';
export { PAGERDUTY_ACCEPT };

export class PagerDutyNotifier implements Notifier {
  readonly name = NAME;
  private readonly apiBaseUrl: string;
  private readonly eventsBaseUrl: string;
  private readonly secrets: string[];
  private readonly timeoutMs: number;

  constructor(private readonly config: PagerDutyConfig) {
    const apiKey = config.apiKey?.trim();
    const routingKey = config.routingKey?.trim();
    if (!apiKey && !routingKey) throw configError('an apiKey (REST API) or a routingKey (Events API) is required');
    if (apiKey && !config.fromEmail?.trim())
      throw configError('fromEmail (the email of a PagerDuty user, sent as From) is required with apiKey');
    if (apiKey && !/^[^\s@]+@[^\s@]+$/.test(config.fromEmail!.trim())) throw configError('fromEmail is not an email address');
    this.apiBaseUrl = normalizeBaseUrl(config.apiBaseUrl ?? 'https://api.pagerduty.com', 'apiBaseUrl', NAME);
    this.eventsBaseUrl = normalizeBaseUrl(config.eventsBaseUrl ?? 'https://events.pagerduty.com', 'eventsBaseUrl', NAME);
    this.secrets = [apiKey, routingKey].filter((s): s is string => Boolean(s));
    this.timeoutMs = config.timeoutMs ?? 15_000;
  }

  async notify(notice: IncidentNotice): Promise<NotifyResult> {
    const incidentId = notice.external.pagerdutyIncidentId?.trim();
    if (this.config.apiKey?.trim() && incidentId) return this.viaRest(incidentId, notice);
    const dedupKey = notice.external.pagerdutyDedupKey?.trim();
    if (this.config.routingKey?.trim() && dedupKey) return this.viaEvents(dedupKey, notice);
    const wanted = [this.config.apiKey?.trim() ? 'incident id' : undefined, this.config.routingKey?.trim() ? 'dedup key' : undefined]
      .filter(Boolean)
      .join(' or ');
    return { delivered: false, detail: `no PagerDuty ${wanted} on this incident` };
  }

  /**
   * An alert notice: an Events API v2 `trigger` with the notice's key as dedup_key, so a retry (or
   * a repeat) updates the one PagerDuty alert instead of opening another. Needs the routing key:
   * without an incident to write to, the REST API has nothing to add a note to.
   */
  async notifyAlert(notice: AlertNotice): Promise<NotifyResult> {
    if (!this.config.routingKey?.trim()) return { delivered: false, detail: 'paging for an alert needs a routing key (Events API v2)' };
    const severity = (notice.severity ?? '').toLowerCase();
    const pdSeverity = ['critical', 'page'].includes(severity)
      ? 'critical'
      : ['error', 'warning', 'info'].includes(severity)
        ? severity
        : 'error';
    const dedupKey = `infraai:${notice.key}`.slice(0, 255);
    await requestJson({
      notifier: NAME,
      operation: 'send trigger event',
      method: 'POST',
      url: `${this.eventsBaseUrl}/v2/enqueue`,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: {
        routing_key: this.config.routingKey.trim(),
        event_action: 'trigger',
        dedup_key: dedupKey,
        payload: {
          summary: truncateText(notice.title, 1000),
          source: notice.labels.instance ?? notice.labels.host ?? 'infraai',
          severity: pdSeverity,
          component: notice.labels.job,
          custom_details: { summary: renderAlertText(notice, 4000), labels: notice.labels },
        },
        ...(notice.url ? { links: [{ href: notice.url, text: 'InfraAI job' }] } : {}),
      },
      timeoutMs: this.timeoutMs,
      secrets: this.secrets,
      errorText: eventsErrorText,
    });
    return { delivered: true, detail: `trigger event accepted for PagerDuty dedup key ${dedupKey}` };
  }

  private async viaRest(incidentId: string, notice: IncidentNotice): Promise<NotifyResult> {
    if (!PAGERDUTY_ID.test(incidentId))
      throw new NotifierError(`${NAME}: external.pagerdutyIncidentId is not a PagerDuty incident id`, { notifier: NAME, retryable: false });
    const headers = pagerDutyRestHeaders(this.config.apiKey!.trim(), this.config.fromEmail!.trim());
    const base = { notifier: NAME, timeoutMs: this.timeoutMs, secrets: this.secrets, errorText: pagerDutyRestErrorText, headers };
    const incidentUrl = `${this.apiBaseUrl}/incidents/${incidentId}`;
    await requestJson({
      ...base,
      operation: 'add note',
      method: 'POST',
      url: `${incidentUrl}/notes`,
      body: { note: { content: renderNoticeText(notice) } },
    });
    if (notice.status !== 'resolved') return { delivered: true, detail: `note added to PagerDuty incident ${incidentId}` };

    const resolved = await requestJson({
      ...base,
      operation: 'resolve incident',
      method: 'PUT',
      url: incidentUrl,
      body: { incident: { type: 'incident_reference', status: 'resolved' } },
      // Someone resolved it first: that is the state we wanted.
      tolerate: isAlreadyResolved,
    });
    const already = resolved.status === 400;
    return {
      delivered: true,
      detail: `note added to PagerDuty incident ${incidentId}; ${already ? 'incident was already resolved' : 'incident resolved'}`,
    };
  }

  private async viaEvents(dedupKey: string, notice: IncidentNotice): Promise<NotifyResult> {
    const action = notice.status === 'resolved' ? 'resolve' : this.config.acknowledgeUnresolved ? 'acknowledge' : undefined;
    if (!action) {
      return {
        delivered: false,
        detail: `PagerDuty alert ${dedupKey} left open for the on-call (${incidentRef(notice)} ${notice.status}; the Events API cannot add a note and acknowledging would stop the paging)`,
      };
    }
    await requestJson({
      notifier: NAME,
      operation: `send ${action} event`,
      method: 'POST',
      url: `${this.eventsBaseUrl}/v2/enqueue`,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: { routing_key: this.config.routingKey!.trim(), event_action: action, dedup_key: dedupKey },
      timeoutMs: this.timeoutMs,
      secrets: this.secrets,
      errorText: eventsErrorText,
    });
    return { delivered: true, detail: `${action} event accepted for PagerDuty dedup key ${dedupKey}` };
  }
}

function configError(message: string): NotifierError {
  return new NotifierError(`${NAME}: ${message}`, { notifier: NAME, retryable: false });
}

/** Events API errors: { "status": "invalid event", "message": "...", "errors": ["..."] }. */
function eventsErrorText(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const { message, errors } = body as { message?: unknown; errors?: unknown };
  return joinParts(message, errors);
}

function joinParts(message: unknown, errors: unknown): string | undefined {
  const parts = [message, ...(Array.isArray(errors) ? errors : [])].filter(
    (part): part is string => typeof part === 'string' && part.trim() !== '',
  );
  return parts.length > 0 ? parts.join('; ') : undefined;
}
