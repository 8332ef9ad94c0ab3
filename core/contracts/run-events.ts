// The read model every workflow family shares: a run's state projected into the store as it
// changes, and the ordered events of those changes. The API answers status reads from the
// projection and streams the events (Server-Sent Events), so polling never reaches Temporal.
// Workflow-safe: plain types only.

/** Workflow families whose runs are projected. Each new family adds its name here. */
export const RUN_FAMILIES = ['incident', 'automation', 'alert'] as const;
export type RunFamily = (typeof RUN_FAMILIES)[number];

/** What happened, as a frontend shows it. `run.ended` is always a run's last event. */
export const RUN_EVENT_TYPES = [
  'status.changed',
  'step.started',
  'step.ended',
  'approval.requested',
  'approval.decided',
  'command.ran',
  'result.written',
  'run.ended',
] as const;
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

/** An event as the workflow emits it; `seq` numbers a run's events 1, 2, 3… without gaps. */
export interface RunEventInput {
  seq: number;
  type: RunEventType;
  /** Workflow time of the change (deterministic). */
  at: string;
  data: Record<string, unknown>;
}

/** An event as the store keeps it: `tenantSeq` orders every event of a tenant in commit order. */
export interface RunEvent extends RunEventInput {
  tenantId: string;
  family: RunFamily;
  runId: string;
  tenantSeq: number;
}

/**
 * One write of a run's projection: its whole state at `version` (the seq of its last event) and
 * the events since the previous write. Writes are idempotent and ordered by version: a retried or
 * late write with a version the store already has changes nothing.
 */
export interface RunProjectionWrite<State = Record<string, unknown>> {
  tenantId: string;
  family: RunFamily;
  /** The family's own id of the run (an incident's id for incident runs). */
  runId: string;
  workflowId: string;
  version: number;
  /** Family status (an IncidentStatus for incidents); mirrored onto the family's row where it has one. */
  status: string;
  /** Whether the run has ended (its final event is among `events` or earlier). */
  ended: boolean;
  state: State;
  events: RunEventInput[];
}

export interface RunProjection<State = Record<string, unknown>> {
  tenantId: string;
  family: RunFamily;
  runId: string;
  workflowId: string;
  version: number;
  status: string;
  ended: boolean;
  state: State;
  updatedAt: string;
}
