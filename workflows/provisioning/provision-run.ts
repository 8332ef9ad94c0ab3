import { setHandler } from '@temporalio/workflow';
import {
  provisionStateQuery,
  type FinalProvisionStatus,
  type ProvisionInfrastructureInput,
  type ProvisionStatus,
  type ProvisionStepName,
  type ProvisionWorkflowState,
} from '../../core/contracts/provisioning.js';
import { storeSteps } from './activities.js';

/**
 * One provisioning run's state and the helpers every stage uses: each step named as it runs (the
 * state query shows it), each status change written to the request's row, and the result written
 * once at the end.
 */
export class ProvisionRun {
  readonly ref: { tenantId: string; requestId: string };
  readonly state: ProvisionWorkflowState;
  private finalStatus: FinalProvisionStatus | null = null;

  constructor(readonly input: ProvisionInfrastructureInput) {
    this.ref = { tenantId: input.tenantId, requestId: input.requestId };
    this.state = {
      requestId: input.requestId,
      status: 'queued',
      stage: null,
      directory: null,
      files: [],
      findings: [],
      branch: null,
      commitSha: null,
      pullRequest: null,
      review: null,
      summary: null,
      error: null,
    };
    const state = this.state;
    setHandler(provisionStateQuery, () => state);
  }

  get ended(): boolean {
    return this.finalStatus !== null;
  }

  /** Runs one activity as the run's current stage. */
  step<T>(name: ProvisionStepName, run: () => Promise<T>): Promise<T> {
    this.state.stage = name;
    return run();
  }

  /** The new status, on the row before the stage it names begins. */
  async setStatus(status: ProvisionStatus, extra: { reviewDeadline?: string } = {}): Promise<void> {
    if (this.state.status === status) return;
    this.state.status = status;
    await this.step('recordProvisionStatus', () => storeSteps.recordProvisionStatus({ ...this.ref, status, ...extra }));
  }

  /** Ends the run's work: the result on the row, then the final status. Once only. */
  async finish(status: FinalProvisionStatus, summary: string): Promise<void> {
    if (this.finalStatus) return;
    const state = this.state;
    state.summary = summary;
    await this.step('writeProvisionResult', () =>
      storeSteps.writeProvisionResult({
        ...this.ref,
        status,
        summary,
        error: state.error,
        prState: state.pullRequest?.state ?? null,
      }),
    );
    state.status = status;
    this.finalStatus = status;
  }
}
