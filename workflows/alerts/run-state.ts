import { setHandler, workflowInfo } from '@temporalio/workflow';
import {
  alertResolvedSignal,
  alertStateQuery,
  DEFAULT_ALERT_SETTINGS,
  type AlertRunProjectionState,
  type AlertRunState,
  type AlertRunStatus,
  type AlertSettings,
  type HandleAlertInput,
} from '../../core/contracts/alerts.js';
import type { RunEventType } from '../../core/contracts/run-events.js';
import { RunProjector } from '../runs/projector.js';
import { localFinishSteps, localLeaseReleaseSteps, localLeaseTrySteps, localStoreSteps } from './activities.js';
import { ProjectedWorkflow, recordStep } from '../runs/run-record.js';
import { initialAlertState } from './outcome.js';

/**
 * One alert run's state and the helpers every stage uses: each activity a named step (the state
 * query and the projection, family `alert`, show it), status changes as events, the resolved
 * signal recorded whenever it comes, and the run's last word to its projection.
 */
export class AlertRun {
  readonly state: AlertRunState;
  readonly settings: AlertSettings;
  readonly tenantId: string;
  readonly workflowId: string;
  /** The store steps (local activities), one at a time and never beside a projection write. */
  readonly store: typeof localStoreSteps;
  readonly finishing: typeof localFinishSteps;
  readonly leaseRelease: typeof localLeaseReleaseSteps;
  readonly leaseTry: typeof localLeaseTrySteps;
  private readonly projector: RunProjector;
  private readonly workflow = new ProjectedWorkflow();
  private cancelled = false;

  constructor(readonly input: HandleAlertInput) {
    const info = workflowInfo();
    this.workflowId = info.workflowId;
    this.tenantId = input.tenantId;
    this.settings = { ...DEFAULT_ALERT_SETTINGS, ...input.settings };
    this.state = initialAlertState(input, info.workflowId);
    const state = this.state;
    this.projector = new RunProjector(
      { tenantId: input.tenantId, family: 'alert', runId: info.workflowId, workflowId: info.workflowId },
      () => ({
        status: state.status,
        ended: !this.workflow.running,
        state: { run: state, workflow: this.workflow.view() } satisfies AlertRunProjectionState as unknown as Record<string, unknown>,
      }),
      true,
    );
    this.store = this.exclusively(localStoreSteps);
    this.finishing = this.exclusively(localFinishSteps);
    this.leaseRelease = this.exclusively(localLeaseReleaseSteps);
    this.leaseTry = this.exclusively(localLeaseTrySteps);
    setHandler(alertStateQuery, () => state);
    // Recorded whenever it comes (Alertmanager repeats it): the first endsAt is kept.
    setHandler(alertResolvedSignal, ({ endsAt }) => {
      if (state.resolvedAt === null)
        state.resolvedAt = typeof endsAt === 'string' && endsAt ? endsAt.slice(0, 64) : new Date().toISOString();
    });
  }

  /**
   * Local activities of the run go through the projector's `exclusive`: two local activities in
   * flight at once could finish inside one workflow task in an order replay cannot reproduce.
   */
  private exclusively<T extends object>(steps: T): T {
    return new Proxy(steps, {
      get: (target, name: string) => {
        const call = target[name as keyof T] as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => this.projector.exclusive(() => call(...args));
      },
    });
  }

  get resolved(): boolean {
    return this.state.resolvedAt !== null;
  }

  get alert() {
    return this.input.alert;
  }

  setStatus(status: AlertRunStatus): void {
    if (this.state.status === status) return;
    this.state.status = status;
    this.emit('status.changed', { status, ...(this.state.resolvedAt ? { resolvedAt: this.state.resolvedAt } : {}) });
  }

  emit(type: RunEventType, data: Record<string, unknown>): void {
    this.projector.emit(type, data);
  }

  /** Waits until the projection shows everything so far: before the run waits on a user. */
  projected(): Promise<void> {
    return this.projector.flush();
  }

  step<T>(name: string, run: () => Promise<T>): Promise<T> {
    return recordStep(this.state, (type, data) => this.emit(type, data), name, run);
  }

  /** Sets the final status and summary (the run may still wait on nothing after this). */
  conclude(status: AlertRunStatus, summary: string): void {
    // Details end as they end; the summary is one sentence.
    this.state.summary = summary.replace(/([.!?])\.$/, '$1');
    this.setStatus(status);
  }

  markCancelled(): void {
    this.cancelled = true;
  }

  /** The run's last word to its projection: how its workflow closes, then `run.ended`. */
  async end(): Promise<void> {
    if (!this.workflow.running) return;
    this.workflow.close(this.cancelled ? 'CANCELLED' : 'COMPLETED');
    this.emit('run.ended', { status: this.state.status, summary: this.state.summary });
    await this.projected();
  }
}
