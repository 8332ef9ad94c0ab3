import { workflowInfo } from '@temporalio/workflow';
import type { ProjectedWorkflowStatus, StepStatus } from '../../core/contracts/incident.js';
import type { RunEventType } from '../../core/contracts/run-events.js';
import { failureMessage } from './failures.js';

// What every run family keeps the same way in its state and projection: the steps it ran (each
// activity a named step with its start, end and failure) and how its workflow stands. A family's
// run class (IncidentRun, AutomationRun, …) owns its state and calls these.

export interface RecordedStep<Name extends string> {
  name: Name;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  detail: string | null;
}

/** The part of a run's state the steps live in. */
export interface StepsState<Name extends string> {
  steps: RecordedStep<Name>[];
  currentStep: Name | null;
}

/**
 * Runs one activity as a named step of the run: recorded as running (the state query and the
 * projection show it), then completed or failed with the failure's message; `step.started` and
 * `step.ended` go to the projection.
 */
export async function recordStep<Name extends string, T>(
  state: StepsState<Name>,
  emit: (type: RunEventType, data: Record<string, unknown>) => void,
  name: Name,
  run: () => Promise<T>,
): Promise<T> {
  const entry = { name, status: 'running' as const, startedAt: new Date().toISOString(), finishedAt: null, detail: null };
  state.steps.push(entry);
  state.currentStep = name;
  const index = state.steps.length - 1;
  emit('step.started', { name, index });
  try {
    const value = await run();
    state.steps[index] = { ...entry, status: 'completed', finishedAt: new Date().toISOString() };
    return value;
  } catch (err) {
    state.steps[index] = { ...entry, status: 'failed', finishedAt: new Date().toISOString(), detail: failureMessage(err) };
    throw err;
  } finally {
    state.currentStep = null;
    const ended = state.steps[index]!;
    emit('step.ended', { name, index, status: ended.status, detail: ended.detail });
  }
}

/** How the run's workflow stands, as its projection shows it (the API reads it instead of asking Temporal). */
export class ProjectedWorkflow {
  private readonly info = workflowInfo();
  private status: ProjectedWorkflowStatus = 'RUNNING';
  private closedAt: string | null = null;

  get running(): boolean {
    return this.status === 'RUNNING';
  }

  /** Records how Temporal will close the run (a failed run throws after this, a cancelled one re-raises). */
  close(status: Exclude<ProjectedWorkflowStatus, 'RUNNING'>): void {
    this.status = status;
    this.closedAt = new Date().toISOString();
  }

  view(): { runId: string; status: ProjectedWorkflowStatus; startedAt: string; closedAt: string | null; historyLength: number } {
    return {
      runId: this.info.runId,
      status: this.status,
      startedAt: this.info.startTime.toISOString(),
      closedAt: this.closedAt,
      historyLength: workflowInfo().historyLength,
    };
  }
}
