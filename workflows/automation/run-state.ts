import { setHandler, workflowInfo } from '@temporalio/workflow';
import {
  automationStateQuery,
  type AutomationRunProjectionState,
  type AutomationStatus,
  type AutomationStepName,
  type AutomationWorkflowState,
  type FinalAutomationStatus,
  type RunAutomationInput,
} from '../../core/contracts/automation.js';
import type { ProjectedWorkflowStatus } from '../../core/contracts/incident.js';
import type { RunEventType } from '../../core/contracts/run-events.js';
import { failureMessage } from '../incident/failures.js';
import { RunProjector } from '../runs/projector.js';
import { storeSteps } from './activities.js';

/**
 * One automation run's state and the helpers every stage uses: each step recorded as it runs (the
 * state query and the projection show it), status changes as events (the store mirrors the status
 * onto the run's row), and the end of the run (result write, then the final event).
 */
export class AutomationRun {
  readonly ref: { tenantId: string; runId: string };
  readonly state: AutomationWorkflowState;
  /** Set when a host lease was lost while the playbook ran: the run cannot claim a clean success. */
  hostLeaseLost: string | null = null;
  /** Set when the run failed in a way the workflow reports as a failure (it throws after its result). */
  failedRun = false;
  private readonly projector: RunProjector;
  private workflowStatus: ProjectedWorkflowStatus = 'RUNNING';
  private closedAt: string | null = null;
  private finalStatus: FinalAutomationStatus | null = null;

  constructor(readonly input: RunAutomationInput) {
    this.ref = { tenantId: input.tenantId, runId: input.runId };
    this.state = {
      runId: input.runId,
      status: 'queued',
      checkMode: input.checkMode,
      currentStep: null,
      steps: [],
      hosts: [],
      generation: null,
      understood: null,
      artifacts: null,
      artifactsHash: null,
      findings: [],
      approval: null,
      progress: null,
      outcome: null,
      summary: null,
      error: null,
    };
    const state = this.state;
    const info = workflowInfo();
    this.projector = new RunProjector(
      { tenantId: input.tenantId, family: 'automation', runId: input.runId, workflowId: info.workflowId },
      () => ({
        status: state.status,
        ended: this.workflowStatus !== 'RUNNING',
        state: {
          run: state,
          workflow: {
            runId: info.runId,
            status: this.workflowStatus,
            startedAt: info.startTime.toISOString(),
            closedAt: this.closedAt,
            historyLength: workflowInfo().historyLength,
          },
        } satisfies AutomationRunProjectionState as unknown as Record<string, unknown>,
      }),
      true,
    );
    setHandler(automationStateQuery, () => state);
  }

  get ended(): boolean {
    return this.finalStatus !== null;
  }

  setStatus(status: AutomationStatus): void {
    if (this.state.status === status) return;
    this.state.status = status;
    this.emit('status.changed', { status });
  }

  emit(type: RunEventType, data: Record<string, unknown>): void {
    this.projector.emit(type, data);
  }

  /** Waits until the projection shows everything so far: before the run waits on a user. */
  projected(): Promise<void> {
    return this.projector.flush();
  }

  /** Runs one activity as a named step of the run, recording its start, end and failure. */
  async step<T>(name: AutomationStepName, run: () => Promise<T>): Promise<T> {
    const entry = { name, status: 'running' as const, startedAt: new Date().toISOString(), finishedAt: null, detail: null };
    this.state.steps.push(entry);
    this.state.currentStep = name;
    const index = this.state.steps.length - 1;
    this.emit('step.started', { name, index });
    try {
      const value = await run();
      this.state.steps[index] = { ...entry, status: 'completed', finishedAt: new Date().toISOString() };
      return value;
    } catch (err) {
      this.state.steps[index] = { ...entry, status: 'failed', finishedAt: new Date().toISOString(), detail: failureMessage(err) };
      throw err;
    } finally {
      this.state.currentStep = null;
      const ended = this.state.steps[index]!;
      this.emit('step.ended', { name, index, status: ended.status, detail: ended.detail });
    }
  }

  /** Ends the run's work: the result on the row, then the final status. Once only. */
  async finish(status: FinalAutomationStatus, summary: string): Promise<void> {
    if (this.finalStatus) return;
    const state = this.state;
    state.summary = summary;
    await this.step('writeAutomationResult', () =>
      storeSteps.writeAutomationResult({
        ...this.ref,
        status,
        summary,
        recap: state.outcome?.recap ?? null,
        approval: state.approval,
        error: state.error,
      }),
    );
    this.emit('result.written', { status, summary });
    this.setStatus(status);
    this.finalStatus = status;
  }

  /** The run's last word to its projection, once nothing else will run (leases released, runner cleaned up). */
  async end(): Promise<void> {
    if (!this.finalStatus || this.workflowStatus !== 'RUNNING') return;
    const status = this.finalStatus;
    this.workflowStatus = status === 'cancelled' ? 'CANCELLED' : this.failedRun ? 'FAILED' : 'COMPLETED';
    this.closedAt = new Date().toISOString();
    this.emit('run.ended', { status, summary: this.state.summary });
    await this.projected();
  }
}
