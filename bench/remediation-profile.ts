import { tsToMs } from '@temporalio/common';
import proto, { type temporal } from '@temporalio/proto';

// Where one remediation run's time goes, from its Temporal history (event times are the server's
// clock, the same machine as the benchmark): each activity's wait in the queue (schedule → start)
// and its run (start → close), the workflow tasks between them, and the approval wait, which the
// benchmark's overhead figure leaves out (it is a human's time, not the product's).

// A CommonJS package: its namespace object comes through the default export under tsx.
const EventType = proto.temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ActivityTiming {
  name: string;
  /** Schedule → start: dispatch to a worker slot. */
  queueMs: number;
  /** Start → completed / failed: the activity's own work (SSH, store, planner). */
  runMs: number;
}

export interface RunProfile {
  activities: ActivityTiming[];
  /** Local activities (store steps, projection writes): they run inside the workflow tasks, whose time includes them. */
  localActivities: ActivityTiming[];
  /** Sum of workflow task durations (scheduled → completed): dispatch plus workflow code. */
  workflowTasksMs: number;
  /** Of workflowTasksMs: scheduled → picked up by the worker (dispatch), the rest is the worker's. */
  workflowTaskDispatchMs: number;
  workflowTasks: number;
  /** Awaiting approval: the workflow task that wrote the awaiting_approval status completing → the approval update accepted. */
  approvalWaitMs: number;
  /** Workflow started → closed. */
  workflowMs: number;
  startedAt: number;
  closedAt: number;
}

const ms = (event: HistoryEvent): number => tsToMs(event.eventTime);

export function profileHistory(history: temporal.api.history.v1.IHistory): RunProfile {
  const events = history.events ?? [];
  const scheduled = new Map<number, { name: string; at: number; startedAt?: number }>();
  const activities: ActivityTiming[] = [];
  const workflowTaskScheduled = new Map<number, number>();
  let workflowTasksMs = 0;
  let workflowTaskDispatchMs = 0;
  let workflowTasks = 0;
  let approvalWaitMs = 0;
  const localActivities: ActivityTiming[] = [];
  // The two last workflow tasks completed: an update is accepted by a task of its own, scheduled
  // when the update arrived, so the wait runs from the task before it to that task's schedule.
  let lastTask: { scheduledAt: number; completedAt: number } | null = null;
  let taskBefore: { scheduledAt: number; completedAt: number } | null = null;
  for (const event of events) {
    const id = Number(event.eventId);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(id, { name: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?', at: ms(event) });
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const entry = scheduled.get(Number(event.activityTaskStartedEventAttributes?.scheduledEventId));
        if (entry) entry.startedAt = ms(event);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        const attributes =
          event.activityTaskCompletedEventAttributes ??
          event.activityTaskFailedEventAttributes ??
          event.activityTaskTimedOutEventAttributes;
        const entry = scheduled.get(Number(attributes?.scheduledEventId));
        if (!entry) break;
        const startedAt = entry.startedAt ?? entry.at;
        activities.push({ name: entry.name, queueMs: startedAt - entry.at, runMs: ms(event) - startedAt });
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        workflowTaskScheduled.set(id, ms(event));
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
        const at = workflowTaskScheduled.get(Number(event.workflowTaskStartedEventAttributes?.scheduledEventId));
        if (at !== undefined) workflowTaskDispatchMs += ms(event) - at;
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const at = workflowTaskScheduled.get(Number(event.workflowTaskCompletedEventAttributes?.scheduledEventId));
        if (at !== undefined) {
          workflowTasksMs += ms(event) - at;
          workflowTasks += 1;
        }
        if (at !== undefined) {
          taskBefore = lastTask;
          lastTask = { scheduledAt: at, completedAt: ms(event) };
        }
        break;
      }
      case EventType.EVENT_TYPE_MARKER_RECORDED: {
        const local = localActivityTiming(event);
        if (local) localActivities.push(local);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        // The run waits for approval once the workflow task that wrote the awaiting_approval status
        // (and flushed its projection) completes; the update's arrival schedules the task that accepts it.
        if (lastTask && taskBefore) approvalWaitMs += Math.max(0, lastTask.scheduledAt - taskBefore.completedAt);
        break;
    }
  }
  const startedAt = events.length ? ms(events[0]!) : Number.NaN;
  const closedAt = events.length ? ms(events[events.length - 1]!) : Number.NaN;
  return {
    activities,
    localActivities,
    workflowTasksMs,
    workflowTaskDispatchMs,
    workflowTasks,
    approvalWaitMs,
    workflowMs: closedAt - startedAt,
    startedAt,
    closedAt,
  };
}

/** A local activity's marker: its type, when it was first scheduled and when it completed. */
function localActivityTiming(event: HistoryEvent): ActivityTiming | null {
  const attributes = event.markerRecordedEventAttributes;
  if (attributes?.markerName !== 'core_local_activity') return null;
  const payload = attributes.details?.data?.payloads?.[0]?.data;
  if (!payload) return null;
  const data = JSON.parse(Buffer.from(payload).toString('utf8')) as {
    activity_type?: string;
    complete_time?: { seconds?: number | string; nanos?: number } | null;
    original_schedule_time?: { seconds?: number | string; nanos?: number } | null;
  };
  const time = (t: typeof data.complete_time) => (t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : Number.NaN);
  return { name: data.activity_type ?? '?', queueMs: 0, runMs: time(data.complete_time) - time(data.original_schedule_time) };
}

/** One line per activity and the totals, for the console. */
export function formatProfile(profile: RunProfile, apiToStartMs: number, closeToSeenMs: number): string {
  const lines = profile.activities.map(
    (a) => `    ${a.name.padEnd(24)} queue ${String(a.queueMs).padStart(4)} ms  run ${String(a.runMs).padStart(5)} ms`,
  );
  lines.push(
    ...profile.localActivities.map((a) => `    ${`(local) ${a.name}`.padEnd(24)}             run ${String(a.runMs).padStart(5)} ms`),
  );
  const queue = profile.activities.reduce((sum, a) => sum + a.queueMs, 0);
  const run = profile.activities.reduce((sum, a) => sum + a.runMs, 0);
  lines.push(
    `    API call → workflow started ${Math.round(apiToStartMs)} ms; workflow ${profile.workflowMs} ms = activities run ${run} ms + queue ${queue} ms + ${profile.workflowTasks} workflow tasks ${profile.workflowTasksMs} ms (dispatch ${profile.workflowTaskDispatchMs} ms; local activities ${profile.localActivities.reduce((sum, a) => sum + a.runMs, 0)} ms of it) + approval wait ${profile.approvalWaitMs} ms (+ the rest between); closed → seen by the poller ${Math.round(closeToSeenMs)} ms`,
  );
  return lines.join('\n');
}
