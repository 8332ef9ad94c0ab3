// What the process counts about itself (HTTP requests, workflow runs, activity failures) and how a
// scrape reads it. The API, the activities and the worker's interceptor see only this interface.

/** Workflow families a run can belong to: a label on the run metrics, bounded by this list. */
export type RunFamily = 'incident' | 'ansible' | 'chat' | 'provisioning';

/** Runs of one family that are not finished yet, read from the store at scrape time. */
export interface RunCounts {
  family: RunFamily;
  running: number;
  waitingForApproval: number;
  /** Every status of the family (final ones included) and its runs; absent: no by-status gauge for it. */
  byStatus?: Record<string, number>;
}

export interface Telemetry {
  /** One answered request; `route` is the matched route pattern (or 'unmatched'), never the raw path. */
  httpRequest(route: string, method: string, status: number, seconds: number): void;
  /** A run the API started (not one it joined or found already started). */
  runStarted(family: RunFamily): void;
  /** A run that reached its final status (`outcome`), `seconds` after it was raised. */
  runEnded(family: RunFamily, outcome: string, seconds: number): void;
  /** A fix applied and verified, `seconds` after the incident was raised. */
  remediationVerified(seconds: number): void;
  /** The Ansible runner answered for a playbook run (`status`: the runner's), `seconds` after the run step was first scheduled. */
  playbookFinished(status: string, seconds: number): void;
  /** Log lines of automation runs newly stored (a retried attempt rewriting stored lines adds none). */
  automationLogLinesStored(lines: number): void;
  /** One failed activity attempt, by activity type and failure type (ApplicationFailure type or error name). */
  activityFailed(activityType: string, failureType: string): void;
  /** Everything this process exports, in the Prometheus text format. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** What relaying one PagerDuty event came to (the relay's outcome), a label on the bridge's metrics. */
export type BridgeRelayOutcome = 'started' | 'joined' | 'signalled' | 'no_run' | 'ignored';

/** Why the bridge moved a message to the dead-letter queue, a label bounded by this list. */
export type BridgeDeadLetterReason = 'unparseable' | 'unknown_tenant' | 'relay_failed';

/**
 * What the SQS bridge (bridge/) counts about itself: one registry per bridge, rendered at its own
 * /metrics (beside the API's under `npm start`, never mixed into it).
 */
export interface BridgeTelemetry {
  /** Messages a receive handed over (a redelivery counts again). */
  received(count: number): void;
  /** A receive that completed, at `atSeconds` (Unix time): the last-poll gauge. */
  polled(atSeconds: number): void;
  pollFailed(): void;
  /** One message relayed: Temporal accepted it (or it was ignored / had no run), in `seconds`. */
  relayed(outcome: BridgeRelayOutcome, seconds: number): void;
  /** A relay Temporal did not accept: `unavailable` (held and retried) or `error` (left for redelivery). */
  relayFailed(kind: 'unavailable' | 'error'): void;
  deleted(): void;
  deadLettered(reason: BridgeDeadLetterReason): void;
  /** A message left on the queue for a later delivery (visibility set to a backoff, or released at shutdown). */
  left(reason: string): void;
  /** Messages received and not finished yet. */
  inFlight(count: number): void;
  /** 1 while Temporal accepts relays, 0 while the bridge holds its messages waiting for it. */
  temporalAvailable(up: boolean): void;
  render(): Promise<{ contentType: string; body: string }>;
}
