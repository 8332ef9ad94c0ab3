// PagerDuty V3 webhook events (delivered by webhook, or through EventBridge / a webhook-to-SQS relay)
// and what InfraAI does with each: one decision function, used by the SQS bridge and the webhook
// alike, so an event has the same effect whichever way it arrives. Plain types (workflow-safe); the
// API and the bridge validate the envelope with zod before calling this.
//
// Event shapes (PagerDuty's V3 webhook reference): `{ event: { id, event_type, resource_type,
// occurred_at, agent, client, data } }`; `data` is the incident for most incident events, and an
// object carrying `incident: { id }` for incident.annotated (incident_note), responder and status
// update events.
import { TENANT_SLUG } from '../tenant-slug.js';

export interface PagerDutyReference {
  id: string;
  type?: string | undefined;
  summary?: string | undefined;
  html_url?: string | undefined;
}

export interface PagerDutyIncidentData {
  id: string;
  type: 'incident';
  number?: number | undefined;
  status?: string | undefined;
  title?: string | undefined;
  urgency?: string | undefined;
  incident_key?: string | null | undefined;
  html_url?: string | undefined;
  service?: PagerDutyReference | null | undefined;
  priority?: PagerDutyReference | null | undefined;
  assignees?: PagerDutyReference[] | undefined;
  resolve_reason?: unknown;
}

export interface PagerDutyEventEnvelope {
  event: {
    id: string;
    event_type: string;
    resource_type: string;
    occurred_at: string;
    agent?: PagerDutyReference | null | undefined;
    data: Record<string, unknown>;
  };
}

/** Events that change an incident's run once it exists: relayed as a signal to its run (pagerDutyWorkflowId). */
export const PAGERDUTY_SIGNALLED_EVENTS = [
  'incident.acknowledged',
  'incident.unacknowledged',
  'incident.annotated',
  'incident.escalated',
  'incident.reassigned',
  'incident.delegated',
  'incident.priority_updated',
  'incident.reopened',
  'incident.resolved',
  'incident.status_update_published',
  'incident.responder.added',
  'incident.responder.replied',
] as const;
export type PagerDutySignalledEvent = (typeof PAGERDUTY_SIGNALLED_EVENTS)[number];

/** What a PagerDuty event asks of InfraAI. */
export interface PagerDutyUpdate {
  eventId: string;
  eventType: PagerDutySignalledEvent;
  occurredAt: string;
  /** Who acted (PagerDuty's summary of the agent), when PagerDuty says. */
  by: string | null;
  /** A note's content, a status update's message, a responder's message (bounded). */
  text: string | null;
  /** The incident's status after the event, where the event carries the incident. */
  status: string | null;
  /**
   * The tenant (id) whose event this is, set by the relayer: a run refuses an update naming another
   * tenant than its own. Absent from signals sent before it existed (and from recorded histories).
   */
  tenantId?: string | undefined;
}

export type PagerDutyRelay =
  | {
      kind: 'start';
      workflowId: string;
      eventId: string;
      incident: {
        id: string;
        number: number | null;
        title: string;
        urgency: string | null;
        serviceId: string | null;
        serviceName: string | null;
        url: string | null;
        occurredAt: string;
      };
    }
  | { kind: 'signal'; workflowId: string; update: PagerDutyUpdate }
  | { kind: 'ignore'; eventId: string; reason: string };

/**
 * String message attributes of an event put on the queue by InfraAI itself (POST /api/v1/queueAdd):
 * the tenant it belongs to and who sent it. An event from PagerDuty's own relay carries none.
 */
export const QUEUED_EVENT_ATTRIBUTES = { tenant: 'infraai.tenant', sentBy: 'infraai.sentBy' } as const;

const MAX_TEXT = 4000;
/** A PagerDuty id (incident, service…): never holds `@`, the separator of a scoped run id. */
const PD_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Whose run a PagerDuty event goes to: `null` for the PagerDuty tenant (the one
 * INFRAAI_PAGERDUTY_TENANT names, whose incidents PagerDuty itself delivers), any other tenant's slug.
 */
export type PagerDutyTenantScope = string | null;

/**
 * The one workflow id of a PagerDuty incident's run within a tenant, whichever way its events arrive.
 * The PagerDuty tenant's run is `pd-<incident id>`: PagerDuty's own deliveries (webhook, or SQS with
 * no tenant attribute) and its users' POST /api/v1/queueAdd name the same run, so an event arriving
 * by SQS, by webhook or both has one effect. Any other tenant's run is `pd-<incident id>@<tenant
 * slug>`: an event a tenant queues with someone else's incident id reaches only its own run (most
 * often none), never theirs. Neither a PagerDuty id nor a slug holds `@`, so no two (incident,
 * tenant) pairs share an id, and no scoped id is an unscoped one.
 */
export function pagerDutyWorkflowId(incidentId: string, tenantScope: PagerDutyTenantScope): string {
  if (!PD_ID.test(incidentId)) throw new Error(`not a PagerDuty incident id: ${JSON.stringify(incidentId.slice(0, 80))}`);
  if (tenantScope === null) return `pd-${incidentId}`;
  if (!TENANT_SLUG.test(tenantScope)) throw new Error(`not a tenant slug: ${JSON.stringify(tenantScope.slice(0, 80))}`);
  return `pd-${incidentId}@${tenantScope}`;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, MAX_TEXT) : null;
}

/** The incident id an event is about: `data.id` for incident data, `data.incident.id` otherwise. */
export function incidentIdOf(envelope: PagerDutyEventEnvelope): string | null {
  const { data } = envelope.event;
  const nested = data.incident as { id?: unknown } | undefined;
  const id = data.type === 'incident' ? data.id : nested?.id;
  return typeof id === 'string' && PD_ID.test(id) ? id : null;
}

/**
 * What to do with one PagerDuty event: start the incident's run (triggered), signal it (every event
 * that changes the incident), or acknowledge and ignore it (another resource, an unknown type). The
 * run is the incident's within `tenantScope` (pagerDutyWorkflowId).
 */
export function relayPagerDutyEvent(
  envelope: PagerDutyEventEnvelope,
  { tenantScope }: { tenantScope: PagerDutyTenantScope },
): PagerDutyRelay {
  const { event } = envelope;
  if (event.resource_type !== 'incident') {
    return { kind: 'ignore', eventId: event.id, reason: `${event.event_type}: not an incident event` };
  }
  const incidentId = incidentIdOf(envelope);
  if (!incidentId) return { kind: 'ignore', eventId: event.id, reason: `${event.event_type}: no incident id in the event` };
  const workflowId = pagerDutyWorkflowId(incidentId, tenantScope);
  const data = event.data;
  if (event.event_type === 'incident.triggered') {
    const incident = data as unknown as PagerDutyIncidentData;
    return {
      kind: 'start',
      workflowId,
      eventId: event.id,
      incident: {
        id: incidentId,
        number: typeof incident.number === 'number' ? incident.number : null,
        title: text(incident.title) ?? `PagerDuty incident ${incidentId}`,
        urgency: text(incident.urgency),
        serviceId: text(incident.service?.id),
        serviceName: text(incident.service?.summary),
        url: text(incident.html_url),
        occurredAt: event.occurred_at,
      },
    };
  }
  if ((PAGERDUTY_SIGNALLED_EVENTS as readonly string[]).includes(event.event_type)) {
    return {
      kind: 'signal',
      workflowId,
      update: {
        eventId: event.id,
        eventType: event.event_type as PagerDutySignalledEvent,
        occurredAt: event.occurred_at,
        by: text(event.agent?.summary),
        text: text(data.content) ?? text(data.message),
        status: data.type === 'incident' ? text(data.status) : null,
      },
    };
  }
  return { kind: 'ignore', eventId: event.id, reason: `${event.event_type}: not an event InfraAI acts on` };
}
