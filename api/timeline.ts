import { arrayFromPayloads, defaultPayloadConverter, type Payload, type PayloadConverter } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import type { temporal } from '@temporalio/proto';
import type { IncidentResult } from '../core/incident.js';
import { redact, truncateText } from '../core/redact.js';

/** One line of an incident's audit trail, built from its workflow history. */
export interface TimelineEntry {
  /** Activity name (e.g. lookupCmdbItem), signal name, or a workflow-level event (started, completed…). */
  step: string;
  /** manual: a result an operator recorded by hand (POST /api/v1/storeResult), not in the run's history. */
  kind: 'workflow' | 'activity' | 'signal' | 'update' | 'timer' | 'manual';
  outcome: 'running' | 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'scheduled' | 'info';
  scheduledAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Attempt that produced the outcome (1 = first try); retries show up here. */
  attempt: number;
  durationMs: number | null;
  input: unknown;
  output: unknown;
  failure: string | null;
}

export interface TimelineOptions {
  payloadConverter?: PayloadConverter;
  /** Decodes payloads first (e.g. a payload codec's decode) when the history holds encoded payloads. */
  decodePayloads?: (payloads: Payload[]) => Promise<Payload[]>;
  /** Cap for each decoded input/output, in characters of JSON. */
  maxValueChars?: number;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Failure = temporal.api.failure.v1.IFailure;

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function eventMs(event: HistoryEvent): number | undefined {
  return optionalTsToMs(event.eventTime);
}

function failureMessage(failure: Failure | null | undefined): string | null {
  if (!failure) return null;
  const parts: string[] = [];
  let current: Failure | null | undefined = failure;
  while (current && parts.length < 4) {
    const type = current.applicationFailureInfo?.type;
    parts.push(type ? `${type}: ${current.message ?? ''}` : (current.message ?? 'failure'));
    current = current.cause;
  }
  return redact(parts.join(' ← '));
}

function eventId(event: HistoryEvent): string {
  return String(event.eventId ?? '');
}

/**
 * Turns a workflow history into the audit trail shown by `GET /incidents/{id}/timeline`: each
 * activity with its times, outcome and attempt count, signals, timers and the run's own start and
 * end, with inputs and outputs decoded, redacted and size-capped.
 */
export async function buildIncidentTimeline(
  history: temporal.api.history.v1.IHistory,
  options: TimelineOptions = {},
): Promise<TimelineEntry[]> {
  const converter = options.payloadConverter ?? defaultPayloadConverter;
  const maxChars = options.maxValueChars ?? 4000;

  async function decode(payloads: temporal.api.common.v1.IPayloads | null | undefined): Promise<unknown> {
    const list = (payloads?.payloads ?? []) as Payload[];
    if (list.length === 0) return null;
    try {
      const decoded = options.decodePayloads ? await options.decodePayloads(list) : list;
      const values = arrayFromPayloads(converter, decoded);
      const value = values.length === 1 ? values[0] : values;
      const redacted = redact(value);
      const json = JSON.stringify(redacted) ?? 'null';
      return json.length > maxChars ? { truncated: true, preview: truncateText(json, maxChars) } : redacted;
    } catch {
      return { undecodable: true, count: list.length };
    }
  }

  const entries: TimelineEntry[] = [];
  const activitiesByScheduledId = new Map<string, TimelineEntry>();
  const timersById = new Map<string, TimelineEntry>();

  const finishActivity = (scheduledEventId: unknown, event: HistoryEvent): TimelineEntry | undefined => {
    const entry = activitiesByScheduledId.get(String(scheduledEventId ?? ''));
    if (!entry) return undefined;
    entry.finishedAt = iso(eventMs(event));
    const from = entry.startedAt ?? entry.scheduledAt;
    if (from && entry.finishedAt) entry.durationMs = Date.parse(entry.finishedAt) - Date.parse(from);
    return entry;
  };

  for (const event of history.events ?? []) {
    const at = iso(eventMs(event));

    if (event.workflowExecutionStartedEventAttributes) {
      const attrs = event.workflowExecutionStartedEventAttributes;
      entries.push({
        step: 'workflowStarted',
        kind: 'workflow',
        outcome: 'info',
        scheduledAt: at,
        startedAt: at,
        finishedAt: at,
        attempt: attrs.attempt ?? 1,
        durationMs: 0,
        input: await decode(attrs.input),
        output: null,
        failure: null,
      });
    } else if (event.activityTaskScheduledEventAttributes) {
      const attrs = event.activityTaskScheduledEventAttributes;
      const entry: TimelineEntry = {
        step: attrs.activityType?.name ?? 'activity',
        kind: 'activity',
        outcome: 'scheduled',
        scheduledAt: at,
        startedAt: null,
        finishedAt: null,
        attempt: 1,
        durationMs: null,
        input: await decode(attrs.input),
        output: null,
        failure: null,
      };
      entries.push(entry);
      activitiesByScheduledId.set(eventId(event), entry);
    } else if (event.activityTaskStartedEventAttributes) {
      const attrs = event.activityTaskStartedEventAttributes;
      const entry = activitiesByScheduledId.get(String(attrs.scheduledEventId ?? ''));
      if (entry) {
        entry.startedAt = at;
        entry.attempt = attrs.attempt ?? 1;
        entry.outcome = 'running';
        // Temporal writes the started event only once an attempt ends; earlier attempts' failure is kept here.
        entry.failure = failureMessage(attrs.lastFailure);
      }
    } else if (event.activityTaskCompletedEventAttributes) {
      const attrs = event.activityTaskCompletedEventAttributes;
      const entry = finishActivity(attrs.scheduledEventId, event);
      if (entry) {
        entry.outcome = 'completed';
        entry.output = await decode(attrs.result);
      }
    } else if (event.activityTaskFailedEventAttributes) {
      const attrs = event.activityTaskFailedEventAttributes;
      const entry = finishActivity(attrs.scheduledEventId, event);
      if (entry) {
        entry.outcome = 'failed';
        entry.failure = failureMessage(attrs.failure);
      }
    } else if (event.activityTaskTimedOutEventAttributes) {
      const attrs = event.activityTaskTimedOutEventAttributes;
      const entry = finishActivity(attrs.scheduledEventId, event);
      if (entry) {
        entry.outcome = 'timed_out';
        entry.failure = failureMessage(attrs.failure);
      }
    } else if (event.activityTaskCanceledEventAttributes) {
      const attrs = event.activityTaskCanceledEventAttributes;
      const entry = finishActivity(attrs.scheduledEventId, event);
      if (entry) entry.outcome = 'cancelled';
    } else if (event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) {
      const entry = await localActivityEntry(event, at, decode);
      if (entry) entries.push(entry);
    } else if (event.workflowExecutionSignaledEventAttributes) {
      const attrs = event.workflowExecutionSignaledEventAttributes;
      entries.push({
        step: attrs.signalName ?? 'signal',
        kind: 'signal',
        outcome: 'info',
        scheduledAt: at,
        startedAt: at,
        finishedAt: at,
        attempt: 1,
        durationMs: 0,
        input: await decode(attrs.input),
        output: null,
        failure: null,
      });
    } else if (event.workflowExecutionUpdateAcceptedEventAttributes) {
      // An approval or rejection: who decided, on which plan, and when.
      const attrs = event.workflowExecutionUpdateAcceptedEventAttributes;
      entries.push({
        step: attrs.acceptedRequest?.input?.name ?? 'update',
        kind: 'update',
        outcome: 'info',
        scheduledAt: at,
        startedAt: at,
        finishedAt: at,
        attempt: 1,
        durationMs: 0,
        input: await decode(attrs.acceptedRequest?.input?.args),
        output: null,
        failure: null,
      });
    } else if (event.timerStartedEventAttributes) {
      const attrs = event.timerStartedEventAttributes;
      const entry: TimelineEntry = {
        step: `timer:${attrs.timerId ?? ''}`,
        kind: 'timer',
        outcome: 'running',
        scheduledAt: at,
        startedAt: at,
        finishedAt: null,
        attempt: 1,
        durationMs: null,
        // A protobuf Duration has the same {seconds, nanos} shape as a Timestamp.
        input: { timeoutMs: optionalTsToMs(attrs.startToFireTimeout as Parameters<typeof optionalTsToMs>[0]) ?? null },
        output: null,
        failure: null,
      };
      entries.push(entry);
      timersById.set(eventId(event), entry);
    } else if (event.timerFiredEventAttributes || event.timerCanceledEventAttributes) {
      const attrs = event.timerFiredEventAttributes ?? event.timerCanceledEventAttributes;
      const entry = timersById.get(String(attrs?.startedEventId ?? ''));
      if (entry) {
        entry.finishedAt = at;
        entry.outcome = event.timerFiredEventAttributes ? 'completed' : 'cancelled';
        if (entry.startedAt && at) entry.durationMs = Date.parse(at) - Date.parse(entry.startedAt);
      }
    } else if (event.workflowExecutionCancelRequestedEventAttributes) {
      entries.push(
        workflowEvent('cancelRequested', 'info', at, null, {
          reason: event.workflowExecutionCancelRequestedEventAttributes.cause || null,
          identity: event.workflowExecutionCancelRequestedEventAttributes.identity || null,
        }),
      );
    } else if (event.workflowExecutionCompletedEventAttributes) {
      entries.push(
        workflowEvent('workflowCompleted', 'completed', at, null, await decode(event.workflowExecutionCompletedEventAttributes.result)),
      );
    } else if (event.workflowExecutionFailedEventAttributes) {
      entries.push(
        workflowEvent('workflowFailed', 'failed', at, failureMessage(event.workflowExecutionFailedEventAttributes.failure), null),
      );
    } else if (event.workflowExecutionCanceledEventAttributes) {
      entries.push(workflowEvent('workflowCancelled', 'cancelled', at, null, null));
    } else if (event.workflowExecutionTerminatedEventAttributes) {
      const reason = event.workflowExecutionTerminatedEventAttributes.reason ?? null;
      entries.push(workflowEvent('workflowTerminated', 'failed', at, reason ? redact(reason) : 'terminated', null));
    } else if (event.workflowExecutionTimedOutEventAttributes) {
      entries.push(workflowEvent('workflowTimedOut', 'timed_out', at, 'workflow run timed out', null));
    } else if (event.workflowExecutionContinuedAsNewEventAttributes) {
      entries.push(
        workflowEvent('continuedAsNew', 'info', at, null, {
          newRunId: event.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId ?? null,
        }),
      );
    }
  }
  return entries;
}

/** The marker Temporal's SDK core records for a local activity's outcome. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
/** Local activities that keep the read model, not the run's own work: left out of the audit trail. */
const READ_MODEL_STEPS = new Set(['projectRun']);

interface LocalActivityMarkerData {
  attempt?: number;
  activity_type?: string;
  complete_time?: { seconds?: number | string; nanos?: number } | null;
  original_schedule_time?: { seconds?: number | string; nanos?: number } | null;
}

const protoTimeMs = (t: LocalActivityMarkerData['complete_time']): number | undefined =>
  t && t.seconds !== undefined ? Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : undefined;

/**
 * A local activity (the run's store steps) as the audit trail shows an activity: its marker holds
 * the type, the attempt, when it was first scheduled and when it completed, and the result or the
 * failure; it keeps no input.
 */
async function localActivityEntry(
  event: HistoryEvent,
  at: string | null,
  decode: (payloads: temporal.api.common.v1.IPayloads | null | undefined) => Promise<unknown>,
): Promise<TimelineEntry | null> {
  const attrs = event.markerRecordedEventAttributes!;
  const data = (await decode(attrs.details?.data)) as LocalActivityMarkerData | null;
  const step = data?.activity_type;
  if (!step || READ_MODEL_STEPS.has(step)) return null;
  const scheduledMs = protoTimeMs(data.original_schedule_time);
  const finishedMs = protoTimeMs(data.complete_time) ?? eventMs(event);
  return {
    step,
    kind: 'activity',
    outcome: attrs.failure ? (attrs.failure.canceledFailureInfo ? 'cancelled' : 'failed') : 'completed',
    scheduledAt: iso(scheduledMs) ?? at,
    startedAt: iso(scheduledMs) ?? at,
    finishedAt: iso(finishedMs) ?? at,
    attempt: data.attempt ?? 1,
    durationMs: scheduledMs !== undefined && finishedMs !== undefined ? finishedMs - scheduledMs : null,
    input: null,
    output: attrs.failure ? null : await decode(attrs.details?.result),
    failure: failureMessage(attrs.failure),
  };
}

function workflowEvent(
  step: string,
  outcome: TimelineEntry['outcome'],
  at: string | null,
  failure: string | null,
  output: unknown,
): TimelineEntry {
  return {
    step,
    kind: 'workflow',
    outcome,
    scheduledAt: at,
    startedAt: at,
    finishedAt: at,
    attempt: 1,
    durationMs: 0,
    input: null,
    output,
    failure,
  };
}

/** One command run on a host, as the audit trail lists it. */
export interface HostCommandEntry {
  at: string | null;
  /** The activity that ran it. */
  step: string;
  phase: string;
  id: string;
  command: string;
  allowedBy: string;
  exitCode: number | null;
  timedOut: boolean;
  output: string;
}

/** Activities whose results carry the commands they ran (runs: HostCommandRun[]). */
const COMMAND_STEPS = new Set(['runDiagnostics', 'applyRemediationAction', 'verifyRemediation']);

/**
 * Every command run on a host, from the results of the activities that ran them: the command, the
 * policy or person that allowed it, its exit status and its (already redacted, truncated) output.
 */
export function hostCommandsFromHistory(
  history: temporal.api.history.v1.IHistory,
  options: { payloadConverter?: PayloadConverter } = {},
): HostCommandEntry[] {
  const converter = options.payloadConverter ?? defaultPayloadConverter;
  const typeByScheduledId = new Map<string, string>();
  const commands: HostCommandEntry[] = [];
  for (const event of history.events ?? []) {
    if (event.activityTaskScheduledEventAttributes) {
      typeByScheduledId.set(eventId(event), event.activityTaskScheduledEventAttributes.activityType?.name ?? '');
      continue;
    }
    const completed = event.activityTaskCompletedEventAttributes;
    if (!completed) continue;
    const step = typeByScheduledId.get(String(completed.scheduledEventId ?? '')) ?? '';
    if (!COMMAND_STEPS.has(step)) continue;
    let value: unknown;
    try {
      value = arrayFromPayloads(converter, (completed.result?.payloads ?? []) as Payload[])[0];
    } catch {
      continue;
    }
    const runs = Array.isArray(value) ? value : ((value as { runs?: unknown } | null)?.runs ?? []);
    if (!Array.isArray(runs)) continue;
    for (const run of runs as Record<string, unknown>[]) {
      commands.push({
        at: typeof run.at === 'string' ? run.at : iso(eventMs(event)),
        step,
        phase: String(run.phase ?? ''),
        id: String(run.id ?? ''),
        command: redact(String(run.command ?? '')),
        allowedBy: String(run.allowedBy ?? ''),
        exitCode: typeof run.exitCode === 'number' ? run.exitCode : null,
        timedOut: run.timedOut === true,
        output: truncateText(redact(String(run.output ?? '')), 2000),
      });
    }
  }
  return commands;
}

/** A result recorded by hand (its details carry `manual`), as a timeline entry; null for a run's own result. */
export function manualResultEntry(result: IncidentResult): TimelineEntry | null {
  const manual = result.details.manual as { recordedBy?: unknown; note?: unknown } | undefined;
  if (!manual || typeof manual !== 'object') return null;
  return {
    step: 'manualResult',
    kind: 'manual',
    outcome: 'info',
    scheduledAt: result.createdAt,
    startedAt: result.createdAt,
    finishedAt: result.createdAt,
    attempt: 1,
    durationMs: 0,
    input: { status: result.status, summary: result.summary, note: manual.note ?? null, recordedBy: manual.recordedBy ?? null },
    output: { resultId: result.id },
    failure: null,
  };
}

/**
 * The run's history entries with the results recorded by hand placed by time: each goes before the
 * first entry that started after it (history order is kept; an entry without a time never moves).
 */
export function mergeManualResults(
  entries: TimelineEntry[],
  // Oldest first, as listForIncident returns them.
  results: readonly IncidentResult[],
): TimelineEntry[] {
  const manual = results.map(manualResultEntry).filter((entry): entry is TimelineEntry => entry !== null);
  if (manual.length === 0) return entries;
  const merged: TimelineEntry[] = [];
  let next = 0;
  for (const entry of entries) {
    const at = entry.startedAt ?? entry.scheduledAt;
    while (next < manual.length && at !== null && Date.parse(manual[next]!.startedAt!) < Date.parse(at)) merged.push(manual[next++]!);
    merged.push(entry);
  }
  merged.push(...manual.slice(next));
  return merged;
}
