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
import type { RunEventType } from '../../core/contracts/run-events.js';
import { RunProjector } from '../runs/projector.js';
import { ProjectedWorkflow, recordStep } from '../runs/run-record.js';
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
  private readonly workflow = new ProjectedWorkflow();
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
    this.projector = new RunProjector(
      { tenantId: input.tenantId, family: 'automation', runId: input.runId, workflowId: workflowInfo().workflowId },
      () => ({
        status: state.status,
        ended: !this.workflow.running,
        state: { run: state, workflow: this.workflow.view() } satisfies AutomationRunProjectionState as unknown as Record<string, unknown>,
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
  step<T>(name: AutomationStepName, run: () => Promise<T>): Promise<T> {
    return recordStep(this.state, (type, data) => this.emit(type, data), name, run);
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
    if (!this.finalStatus || !this.workflow.running) return;
    const status = this.finalStatus;
    this.workflow.close(status === 'cancelled' ? 'CANCELLED' : this.failedRun ? 'FAILED' : 'COMPLETED');
    this.emit('run.ended', { status, summary: this.state.summary });
    await this.projected();
  }
}
