// The PagerDuty run's activities (workflows/pagerduty/README.md maps step → file): which CMDB item a
// PagerDuty service is, and the InfraAI incident row a triggered PagerDuty incident becomes. Every
// write is idempotent across retries (the row is keyed by the PagerDuty incident id).
import { randomUUID } from 'node:crypto';
import type { Store } from '../../adapters/store/port.js';
import { PAGERDUTY_SERVICE_TAG, type PagerDutyIncidentInput, type PagerDutyIngressPath } from '../../core/contracts/pagerduty.js';
import type { IncidentStatus, Severity } from '../../core/incident.js';
import { DEFAULT_REMEDIATION_SETTINGS, type RemediationSettings } from '../../core/remediation.js';

export interface PagerDutyActivityDeps {
  store: Store;
  /** Approval timeout and auto-run policy handed to each remediation run a PagerDuty incident starts (the API's, from config). */
  remediationSettings?: RemediationSettings;
}

/** The CMDB item a PagerDuty service maps to. */
export interface PagerDutyTarget {
  tagId: string;
  hostname: string;
  /** Other items carrying the same tag (the first by tagId was taken), at most a few. */
  alsoMapped: string[];
}

export interface RecordPagerDutyIncidentInput {
  tenantId: string;
  tagId: string;
  incident: PagerDutyIncidentInput['incident'];
  via: PagerDutyIngressPath;
}

export interface RecordedPagerDutyIncident {
  incidentId: string;
  number: number;
  severity: Severity;
  status: IncidentStatus;
  /** False when the row already existed (a retried step, or a run of this PagerDuty incident before). */
  created: boolean;
  /** Fixed into the remediation run's input, so its history shows them. */
  settings: RemediationSettings;
}

/** The idempotency key of the incident row of a PagerDuty incident (per tenant). */
export function pagerDutyIncidentKey(pagerDutyIncidentId: string): string {
  return `pagerduty:${pagerDutyIncidentId}`;
}

/** PagerDuty's urgency as an InfraAI severity: high → high, low → low; none or another value → high (PagerDuty's default urgency). */
export function severityOfUrgency(urgency: string | null): Severity {
  return urgency?.toLowerCase() === 'low' ? 'low' : 'high';
}

// eslint-disable-next-line no-control-regex -- NUL is what it removes
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** PagerDuty's text as the store can hold it (no NUL, no lone surrogate), cut at `max` code points. */
function storable(value: string, max: number): string {
  const clean = value.replace(UNSTORABLE, '');
  const points = [...clean];
  return points.length > max ? `${points.slice(0, max - 1).join('')}…` : clean;
}

function describe(incident: PagerDutyIncidentInput['incident'], via: PagerDutyIngressPath): string {
  const lines = [
    `PagerDuty incident ${incident.number !== null ? `#${incident.number} ` : ''}(${incident.id}) triggered at ${incident.occurredAt}, relayed by ${via === 'sqs' ? 'the SQS bridge' : 'the webhook'}.`,
    `Title: ${incident.title}`,
    incident.serviceId ? `Service: ${incident.serviceName ?? incident.serviceId} (${incident.serviceId})` : null,
    incident.urgency ? `Urgency: ${incident.urgency}` : null,
    incident.url ? `PagerDuty: ${incident.url}` : null,
  ];
  return storable(lines.filter((line): line is string => line !== null).join('\n'), 10_000);
}

export function createPagerDutyActivities({ store, remediationSettings = DEFAULT_REMEDIATION_SETTINGS }: PagerDutyActivityDeps) {
  return {
    /**
     * The CMDB item whose tags hold `pagerduty_service=<service id>`; with several, the first by
     * tagId (the others are named). Null when none does, or the event names no service.
     */
    async resolvePagerDutyTarget({ tenantId, serviceId }: { tenantId: string; serviceId: string | null }): Promise<PagerDutyTarget | null> {
      if (!serviceId) return null;
      const page = await store.cmdb.list(tenantId, { tags: { [PAGERDUTY_SERVICE_TAG]: serviceId } }, { limit: 6 });
      const [first, ...others] = page.items;
      if (!first) return null;
      return { tagId: first.tagId, hostname: first.hostname, alsoMapped: others.map((item) => item.tagId) };
    },

    /**
     * The InfraAI incident of a PagerDuty incident: one row per PagerDuty incident and tenant (the
     * idempotency key `pagerduty:<id>`), so a retried step, or a second run, finds the first.
     */
    async recordPagerDutyIncident({ tenantId, tagId, incident, via }: RecordPagerDutyIncidentInput): Promise<RecordedPagerDutyIncident> {
      const external: Record<string, string> = { pagerdutyIncidentId: incident.id };
      if (incident.url) external.pagerdutyUrl = storable(incident.url, 2000);
      if (incident.number !== null) external.pagerdutyNumber = String(incident.number);
      const { incident: row, created } = await store.incidents.create(tenantId, {
        id: randomUUID(),
        title: storable(incident.title, 200),
        description: describe(incident, via),
        severity: severityOfUrgency(incident.urgency),
        tagId,
        source: 'pagerduty',
        createdBy: `pagerduty:${via}`,
        idempotencyKey: pagerDutyIncidentKey(incident.id),
        external,
      });
      return { incidentId: row.id, number: row.number, severity: row.severity, status: row.status, created, settings: remediationSettings };
    },
  };
}

export type PagerDutyActivities = ReturnType<typeof createPagerDutyActivities>;
