import { setHandler } from '@temporalio/workflow';
import {
  PAGERDUTY_MAX_REMEMBERED_EVENT_IDS,
  PAGERDUTY_MAX_STORED_EVENTS,
  pagerDutyEventSignal,
  pagerDutyStateQuery,
  type PagerDutyIncidentInput,
  type PagerDutyRunEvent,
  type PagerDutyRunState,
} from '../../core/contracts/pagerduty.js';
import type { PagerDutyUpdate } from '../../core/ingress/pagerduty.js';

/** PagerDuty's status after an event that carries no incident (a note, a responder…). */
const STATUS_AFTER: Partial<Record<string, string>> = {
  'incident.acknowledged': 'acknowledged',
  'incident.unacknowledged': 'triggered',
  'incident.resolved': 'resolved',
  'incident.reopened': 'triggered',
};

/** An applied event waiting to be handed to the incident run, with its entry in `events`. */
export interface PendingEvent {
  update: PagerDutyUpdate;
  entry: PagerDutyRunEvent;
}

/**
 * One PagerDuty run's state: the events applied (each event id once, whichever path brought it and
 * however often: the dedupe set is the state's `appliedEventIds`), the queue of events for the
 * incident run, and PagerDuty's view of the incident. The signal handler only records: the run
 * forwards from the queue, so events that arrive before the incident run exists wait for it.
 */
export class PagerDutyRun {
  readonly state: PagerDutyRunState;
  /** Applied events the incident run has not been given yet, oldest first. */
  readonly pending: PendingEvent[] = [];
  /** The first incident.resolved applied. */
  resolved: PagerDutyUpdate | null = null;
  /** False once no incident run will hear of later events (none was started, or it has ended). */
  private relaying = true;
  private readonly remembered: Set<string>;

  constructor(readonly input: PagerDutyIncidentInput) {
    const { incident } = input;
    this.state = {
      pagerDutyIncidentId: incident.id,
      pagerDutyNumber: incident.number,
      pagerDutyUrl: incident.url,
      title: incident.title,
      serviceId: incident.serviceId,
      serviceName: incident.serviceName,
      via: input.via,
      status: 'starting',
      incidentId: null,
      incidentNumber: null,
      remediationWorkflowId: null,
      tagId: null,
      appliedEventIds: [input.eventId],
      events: [{ eventId: input.eventId, eventType: 'incident.triggered', by: null, at: incident.occurredAt, handling: 'recorded' }],
      droppedEvents: 0,
      forwardedNotes: 0,
      pagerDutyStatus: 'triggered',
      summary: null,
    };
    this.remembered = new Set([input.eventId]);
    setHandler(pagerDutyStateQuery, () => this.state);
    setHandler(pagerDutyEventSignal, (update) => this.apply(update));
  }

  /** Later events are kept in the state only: no incident run will be given them. */
  stopRelaying(): void {
    this.relaying = false;
    for (const { entry } of this.pending.splice(0)) entry.handling = 'not_forwarded';
  }

  private apply(update: PagerDutyUpdate): void {
    if (!update || typeof update.eventId !== 'string' || this.remembered.has(update.eventId)) return;
    // Another tenant's event (its run id keeps it apart already; this is the second line): not applied,
    // not remembered, so the run's own delivery of the same event id still counts. Only records: no command.
    if (update.tenantId !== undefined && update.tenantId !== this.input.tenantId) return;
    this.remember(update.eventId);
    const entry: PagerDutyRunEvent = {
      eventId: update.eventId,
      eventType: update.eventType,
      by: update.by,
      at: update.occurredAt,
      handling: this.relaying ? 'pending' : 'recorded',
    };
    const { state } = this;
    state.events.push(entry);
    if (state.events.length > PAGERDUTY_MAX_STORED_EVENTS) {
      state.events.splice(0, state.events.length - PAGERDUTY_MAX_STORED_EVENTS);
      state.droppedEvents += 1;
    }
    // Once resolved, only a reopening changes PagerDuty's status (a late acknowledgement does not).
    if (state.pagerDutyStatus !== 'resolved' || update.eventType === 'incident.reopened') {
      state.pagerDutyStatus = update.status ?? STATUS_AFTER[update.eventType] ?? state.pagerDutyStatus;
    }
    if (update.eventType === 'incident.resolved') this.resolved ??= update;
    if (this.relaying) this.pending.push({ update, entry });
  }

  private remember(eventId: string): void {
    const ids = this.state.appliedEventIds;
    ids.push(eventId);
    this.remembered.add(eventId);
    if (ids.length > PAGERDUTY_MAX_REMEMBERED_EVENT_IDS) {
      for (const old of ids.splice(0, ids.length - PAGERDUTY_MAX_REMEMBERED_EVENT_IDS)) this.remembered.delete(old);
    }
  }
}
