import { describe, expect, it } from 'vitest';
import { alertWorkflowId } from '../../core/ingress/alertmanager.js';
import { pagerDutyWorkflowId, relayPagerDutyEvent, type PagerDutyEventEnvelope } from '../../core/ingress/pagerduty.js';
import { pagerDutySignatures, signPagerDutyBody, verifyPagerDutySignature } from '../../api/webhooks/pagerduty-signature.js';

// The pure halves of event ingress: what a PagerDuty event asks for (the bridge and the webhook share
// it), the identity of an alert's run, and PagerDuty's signature over the raw body.

const incident = {
  id: 'PGR0VU2',
  type: 'incident',
  number: 2,
  status: 'triggered',
  title: 'A little bump in the road',
  urgency: 'high',
  html_url: 'https://acme.pagerduty.com/incidents/PGR0VU2',
  service: { id: 'PF9KMXH', type: 'service_reference', summary: 'API Service' },
};

function envelope(eventType: string, data: Record<string, unknown>, resourceType = 'incident'): PagerDutyEventEnvelope {
  return {
    event: {
      id: `evt-${eventType}`,
      event_type: eventType,
      resource_type: resourceType,
      occurred_at: '2026-12-06T10:00:00.000Z',
      agent: { id: 'PLH1HKV', type: 'user_reference', summary: 'Tenex Engineer' },
      data,
    },
  };
}

/** The PagerDuty tenant's scope (INFRAAI_PAGERDUTY_TENANT): its runs are `pd-<incident id>`. */
const pd = { tenantScope: null };

describe('PagerDuty relay decisions', () => {
  it('incident.triggered starts pd-<incident id> with what the incident says', () => {
    expect(relayPagerDutyEvent(envelope('incident.triggered', incident), pd)).toEqual({
      kind: 'start',
      workflowId: 'pd-PGR0VU2',
      eventId: 'evt-incident.triggered',
      incident: {
        id: 'PGR0VU2',
        number: 2,
        title: 'A little bump in the road',
        urgency: 'high',
        serviceId: 'PF9KMXH',
        serviceName: 'API Service',
        url: 'https://acme.pagerduty.com/incidents/PGR0VU2',
        occurredAt: '2026-12-06T10:00:00.000Z',
      },
    });
  });

  it('acknowledged, escalated, reassigned and resolved signal the same run; a note carries its text', () => {
    for (const type of ['incident.acknowledged', 'incident.escalated', 'incident.reassigned', 'incident.resolved']) {
      expect(relayPagerDutyEvent(envelope(type, { ...incident, status: 'resolved' }), pd)).toMatchObject({
        kind: 'signal',
        workflowId: 'pd-PGR0VU2',
        update: { eventType: type, by: 'Tenex Engineer', status: 'resolved' },
      });
    }
    const note = {
      incident: { id: 'PGR0VU2', type: 'incident_reference' },
      id: 'P2LA89X',
      content: 'restarted by hand',
      type: 'incident_note',
    };
    expect(relayPagerDutyEvent(envelope('incident.annotated', note), pd)).toMatchObject({
      kind: 'signal',
      workflowId: 'pd-PGR0VU2',
      update: { eventType: 'incident.annotated', text: 'restarted by hand', status: null },
    });
  });

  it('another tenant’s event names its own run of the incident, never the PagerDuty tenant’s nor a third’s', () => {
    const resolved = envelope('incident.resolved', { ...incident, status: 'resolved' });
    expect(relayPagerDutyEvent(resolved, { tenantScope: 'acme' })).toMatchObject({ kind: 'signal', workflowId: 'pd-PGR0VU2@acme' });
    expect(relayPagerDutyEvent(envelope('incident.triggered', incident), { tenantScope: 'acme' })).toMatchObject({
      kind: 'start',
      workflowId: 'pd-PGR0VU2@acme',
      incident: { id: 'PGR0VU2' },
    });
    const ids = [null, 'acme', 'globex', 'acme-2', 'acme_2'].map((scope) => pagerDutyWorkflowId('PGR0VU2', scope));
    expect(ids).toEqual(['pd-PGR0VU2', 'pd-PGR0VU2@acme', 'pd-PGR0VU2@globex', 'pd-PGR0VU2@acme-2', 'pd-PGR0VU2@acme_2']);
    // An incident id whose tail looks like a scope is no PagerDuty id (`@` is not in one): nothing to collide with.
    expect(relayPagerDutyEvent(envelope('incident.resolved', { ...incident, id: 'PGR0VU2@acme' }), pd)).toMatchObject({ kind: 'ignore' });
    expect(() => pagerDutyWorkflowId('PGR0VU2@acme', null)).toThrow(/not a PagerDuty incident id/);
    // A scope that is not a tenant slug could smuggle a separator: refused.
    for (const scope of ['', 'acme@x', 'Acme', '-acme', 'a'.repeat(64)])
      expect(() => pagerDutyWorkflowId('PGR0VU2', scope)).toThrow(/not a tenant slug/);
  });

  it('acknowledges and ignores other resources, unknown types and events without a usable incident id', () => {
    expect(relayPagerDutyEvent(envelope('service.updated', { id: 'PF9KMXH', type: 'service' }, 'service'), pd)).toMatchObject({
      kind: 'ignore',
    });
    expect(relayPagerDutyEvent(envelope('incident.custom_field_values.updated', incident), pd)).toMatchObject({ kind: 'ignore' });
    expect(relayPagerDutyEvent(envelope('incident.triggered', { ...incident, id: '../../etc' }), pd)).toMatchObject({ kind: 'ignore' });
  });
});

describe('alert run identity', () => {
  it('the fingerprint and the firing episode name the run', () => {
    const a = { fingerprint: 'c7a3f0e1d2b4a596', startsAt: '2026-12-06T10:00:00.123456789Z' };
    expect(alertWorkflowId(a)).toBe('alert-c7a3f0e1d2b4a596-2026-12-06T10:00:00.123456789Z');
    expect(alertWorkflowId({ ...a, startsAt: '2026-12-06T11:00:00Z' })).not.toBe(alertWorkflowId(a));
  });
});

describe('PagerDuty signatures', () => {
  const body = Buffer.from(JSON.stringify(envelope('incident.triggered', incident)));

  it('accepts any v1 signature under any current secret (rotation), over the raw bytes', () => {
    const header = signPagerDutyBody(body, ['old-secret', 'new-secret']);
    expect(pagerDutySignatures(header)).toHaveLength(2);
    expect(verifyPagerDutySignature(body, header, ['new-secret'])).toBe(true);
    expect(verifyPagerDutySignature(body, signPagerDutyBody(body, ['old-secret']), ['new-secret', 'old-secret'])).toBe(true);
    expect(verifyPagerDutySignature(body, `v0=abc, ${signPagerDutyBody(body, ['new-secret'])}`, ['new-secret'])).toBe(true);
  });

  it('refuses a wrong secret, a changed body (one byte, or re-serialised), no header, malformed values', () => {
    const header = signPagerDutyBody(body, ['s3cret']);
    expect(verifyPagerDutySignature(body, header, ['other'])).toBe(false);
    const changed = Buffer.from(body);
    changed[10] = changed[10]! ^ 1;
    expect(verifyPagerDutySignature(changed, header, ['s3cret'])).toBe(false);
    expect(verifyPagerDutySignature(Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1)), header, ['s3cret'])).toBe(false);
    expect(verifyPagerDutySignature(body, undefined, ['s3cret'])).toBe(false);
    expect(verifyPagerDutySignature(body, 'v1=zz', ['s3cret'])).toBe(false);
    expect(verifyPagerDutySignature(body, header, [])).toBe(false);
  });
});
