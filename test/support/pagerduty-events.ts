import { randomUUID } from 'node:crypto';
import type { PagerDutyEventEnvelope } from '../../core/ingress/pagerduty.js';

// PagerDuty V3 webhook events as PagerDuty sends them (its webhook reference's shapes), for the
// workflow and webhook tests: an incident with a service, and the events of its life.

export interface PdIncident {
  id: string;
  number: number;
  title: string;
  urgency: 'high' | 'low';
  serviceId: string;
  serviceName: string;
}

/** A fresh PagerDuty incident (its id unique per call, as PagerDuty's are). */
export function pdIncident(serviceId: string, overrides: Partial<PdIncident> = {}): PdIncident {
  const id = `Q${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}`;
  return {
    id,
    number: 1000 + Math.floor(Math.random() * 9000),
    title: 'web is down',
    urgency: 'high',
    serviceId,
    serviceName: `Service ${serviceId}`,
    ...overrides,
  };
}

function incidentData(incident: PdIncident, status: string): Record<string, unknown> {
  return {
    id: incident.id,
    type: 'incident',
    self: `https://api.pagerduty.com/incidents/${incident.id}`,
    html_url: `https://acme.pagerduty.com/incidents/${incident.id}`,
    number: incident.number,
    status,
    incident_key: `key-${incident.id}`,
    created_at: '2026-12-06T10:00:00Z',
    title: incident.title,
    service: {
      id: incident.serviceId,
      type: 'service_reference',
      summary: incident.serviceName,
      html_url: 'https://acme.pagerduty.com/services/x',
    },
    assignees: [{ id: 'PTUXL6G', type: 'user_reference', summary: 'Alice Oncall' }],
    escalation_policy: { id: 'PUS0KTE', type: 'escalation_policy_reference', summary: 'Default' },
    teams: [],
    priority: null,
    urgency: incident.urgency,
    conference_bridge: null,
    resolve_reason: null,
  };
}

function envelope(
  eventType: string,
  data: Record<string, unknown>,
  { eventId = randomUUID(), by = 'Alice Oncall' }: { eventId?: string; by?: string | null } = {},
): PagerDutyEventEnvelope {
  return {
    event: {
      id: eventId,
      event_type: eventType,
      resource_type: 'incident',
      occurred_at: new Date().toISOString(),
      agent: by ? { id: 'PTUXL6G', type: 'user_reference', summary: by, html_url: 'https://acme.pagerduty.com/users/PTUXL6G' } : null,
      data,
    },
  };
}

export const pdEvents = {
  triggered: (incident: PdIncident, options?: { eventId?: string }) =>
    envelope('incident.triggered', incidentData(incident, 'triggered'), { by: null, ...options }),
  acknowledged: (incident: PdIncident, options?: { eventId?: string; by?: string }) =>
    envelope('incident.acknowledged', incidentData(incident, 'acknowledged'), options),
  resolved: (incident: PdIncident, options?: { eventId?: string; by?: string }) =>
    envelope('incident.resolved', incidentData(incident, 'resolved'), options),
  /** A note: data is the incident_note, naming its incident. */
  annotated: (incident: PdIncident, content: string, options?: { eventId?: string; by?: string }) =>
    envelope(
      'incident.annotated',
      { incident: { id: incident.id, type: 'incident_reference' }, id: 'PWL7QXS', type: 'incident_note', content, trimmed: false },
      options,
    ),
  /** An event of another resource (a service changed): acknowledged and ignored. */
  serviceUpdated: () =>
    ({
      event: {
        id: randomUUID(),
        event_type: 'service.updated',
        resource_type: 'service',
        occurred_at: new Date().toISOString(),
        agent: null,
        data: { id: 'PF9KMXH', type: 'service', name: 'API Service' },
      },
    }) satisfies PagerDutyEventEnvelope,
};
