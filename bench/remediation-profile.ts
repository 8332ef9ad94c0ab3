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
  /** Sum of workflow task durations (scheduled → completed): dispatch plus workflow code. */
  workflowTasksMs: number;
  workflowTasks: number;
  /** Awaiting approval: the status write completing → the approval update accepted. */
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
  let workflowTasks = 0;
  let approvalWaitMs = 0;
  let lastActivity: { name: string; closedAt: number } | null = null;
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
        lastActivity = { name: entry.name, closedAt: ms(event) };
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        workflowTaskScheduled.set(id, ms(event));
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const at = workflowTaskScheduled.get(Number(event.workflowTaskCompletedEventAttributes?.scheduledEventId));
        if (at !== undefined) {
          workflowTasksMs += ms(event) - at;
          workflowTasks += 1;
        }
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        // The run waits for approval right after writing the awaiting_approval status.
        if (lastActivity?.name === 'setIncidentStatus') approvalWaitMs += ms(event) - lastActivity.closedAt;
        break;
    }
  }
  const startedAt = events.length ? ms(events[0]!) : Number.NaN;
  const closedAt = events.length ? ms(events[events.length - 1]!) : Number.NaN;
  return { activities, workflowTasksMs, workflowTasks, approvalWaitMs, workflowMs: closedAt - startedAt, startedAt, closedAt };
}

/** One line per activity and the totals, for the console. */
export function formatProfile(profile: RunProfile, apiToStartMs: number, closeToSeenMs: number): string {
  const lines = profile.activities.map(
    (a) => `    ${a.name.padEnd(24)} queue ${String(a.queueMs).padStart(4)} ms  run ${String(a.runMs).padStart(5)} ms`,
  );
  const queue = profile.activities.reduce((sum, a) => sum + a.queueMs, 0);
  const run = profile.activities.reduce((sum, a) => sum + a.runMs, 0);
  lines.push(
    `    API call → workflow started ${Math.round(apiToStartMs)} ms; workflow ${profile.workflowMs} ms = activities run ${run} ms + queue ${queue} ms + ${profile.workflowTasks} workflow tasks ${profile.workflowTasksMs} ms + approval wait ${profile.approvalWaitMs} ms (+ the rest between); closed → seen by the poller ${Math.round(closeToSeenMs)} ms`,
  );
  return lines.join('\n');
}
