// Contract of the PagerDuty incident workflow (`pd-<PagerDuty incident id>` for the PagerDuty tenant,
// `pd-<PagerDuty incident id>@<tenant slug>` for any other: pagerDutyWorkflowId), shared by the
// workflow, the worker, the API's webhook and the SQS bridge. Workflow-safe: plain types plus
// message definitions.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PagerDutyRelay, PagerDutyUpdate } from '../ingress/pagerduty.js';

/** Registered workflow type name; the webhook and the bridge start it by this name. */
export const PAGERDUTY_WORKFLOW_TYPE = 'pagerDutyIncident';

export { pagerDutyWorkflowId } from '../ingress/pagerduty.js';

/** What `incident.triggered` starts a run with (the event's incident, and whose it is). */
export interface PagerDutyIncidentInput {
  tenantId: string;
  tenantSlug: string;
  /** The triggering event's id (its repeat, by any path, joins this run). */
  eventId: string;
  incident: Extract<PagerDutyRelay, { kind: 'start' }>['incident'];
  /** Where the event came in: `webhook` or `sqs`. */
  via: PagerDutyIngressPath;
}

export type PagerDutyIngressPath = 'webhook' | 'sqs';

/**
 * Every later event of the incident (acknowledged, annotated, escalated, reassigned, resolved…).
 * The run applies each event id once, so the same event arriving by SQS and by webhook has one effect.
 */
export const pagerDutyEventSignal = defineSignal<[PagerDutyUpdate]>('pagerDutyEvent');

export type PagerDutyRunStatus =
  /** Recording the incident and looking up its target. */
  | 'starting'
  /** No CMDB item maps to the PagerDuty service: nothing to remediate, the incident stays with on-call. */
  | 'unmapped'
  /** The remediation run (a child incident workflow) is under way. */
  | 'remediating'
  /** Resolved in PagerDuty before InfraAI changed anything: the remediation was stopped (or never started). */
  | 'resolved_elsewhere'
  /** The remediation run ended (resolved, escalated…: its summary says); or the incident was already recorded. */
  | 'completed'
  | 'failed';

/** The CMDB tag naming the PagerDuty service a host belongs to: `pagerduty_service=<service id>` (e.g. PWIXJZS). */
export const PAGERDUTY_SERVICE_TAG = 'pagerduty_service';

/** Events the run keeps in `events` (the newest); older ones are counted in `droppedEvents`. */
export const PAGERDUTY_MAX_STORED_EVENTS = 200;
/** Event ids the run remembers for deduplication (the newest). */
export const PAGERDUTY_MAX_REMEMBERED_EVENT_IDS = 1000;
/** Notes forwarded to the incident run at most (a resolution is always forwarded). */
export const PAGERDUTY_MAX_FORWARDED_NOTES = 100;
/** How long a run whose service maps to no CMDB item waits for the incident to be resolved. */
export const PAGERDUTY_UNMAPPED_WAIT_MS = 7 * 24 * 60 * 60 * 1000;

export interface PagerDutyRunEvent {
  eventId: string;
  eventType: string;
  by: string | null;
  /** PagerDuty's occurred_at. */
  at: string;
  /** What the run did with it: `recorded` (kept here only), `forwarded` to the incident run, `not_forwarded` (the run had ended, or the note cap was reached). */
  handling: 'recorded' | 'pending' | 'forwarded' | 'not_forwarded';
}

export interface PagerDutyRunState {
  pagerDutyIncidentId: string;
  /** PagerDuty's incident number and page, from the triggering event. */
  pagerDutyNumber: number | null;
  pagerDutyUrl: string | null;
  title: string;
  serviceId: string | null;
  serviceName: string | null;
  /** How the triggering event arrived (`webhook` or `sqs`). */
  via: PagerDutyIngressPath;
  status: PagerDutyRunStatus;
  /** The InfraAI incident (store row) and its remediation run, once recorded. */
  incidentId: string | null;
  incidentNumber: number | null;
  remediationWorkflowId: string | null;
  /** The CMDB item the PagerDuty service maps to, when one does. */
  tagId: string | null;
  /** Event ids already applied (the start event included): the dedupe set (the newest PAGERDUTY_MAX_REMEMBERED_EVENT_IDS). */
  appliedEventIds: string[];
  /** The events applied, in order (the newest PAGERDUTY_MAX_STORED_EVENTS). */
  events: PagerDutyRunEvent[];
  /** Applied events no longer in `events` (the list is bounded). */
  droppedEvents: number;
  /** Notes forwarded to the incident run so far. */
  forwardedNotes: number;
  /** PagerDuty's view of the incident's status (triggered, acknowledged, resolved). */
  pagerDutyStatus: string;
  summary: string | null;
}

export const pagerDutyStateQuery = defineQuery<PagerDutyRunState>('pagerDutyState');
