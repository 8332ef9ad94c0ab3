// Contract of the PagerDuty incident workflow (`pd-<PagerDuty incident id>`), shared by the
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
  /** Resolved in PagerDuty before InfraAI changed anything: the remediation was stopped. */
  | 'resolved_elsewhere'
  | 'completed'
  | 'failed';

export interface PagerDutyRunState {
  pagerDutyIncidentId: string;
  status: PagerDutyRunStatus;
  /** The InfraAI incident (store row) and its remediation run, once recorded. */
  incidentId: string | null;
  incidentNumber: number | null;
  remediationWorkflowId: string | null;
  /** The CMDB item the PagerDuty service maps to, when one does. */
  tagId: string | null;
  /** Event ids already applied (the start event included): the dedupe set. */
  appliedEventIds: string[];
  /** The events applied, in order (type, who, when). */
  events: { eventId: string; eventType: string; by: string | null; at: string }[];
  /** PagerDuty's view of the incident's status (triggered, acknowledged, resolved). */
  pagerDutyStatus: string;
  summary: string | null;
}

export const pagerDutyStateQuery = defineQuery<PagerDutyRunState>('pagerDutyState');
