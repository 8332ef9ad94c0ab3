import { CancellationScope, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import type { RunEventInput, RunEventType, RunFamily, RunProjectionWrite } from '../../core/contracts/run-events.js';
import { PROJECTION_STEP } from '../activity-options.js';

const projectionSteps = proxyLocalActivities<Pick<Activities, 'projectRun'>>(PROJECTION_STEP);

export interface RunSnapshot {
  status: string;
  ended: boolean;
  state: Record<string, unknown>;
}

/**
 * Keeps a run's projection in the store (the API's read model) in step with the run: each change
 * becomes an event numbered 1, 2, 3…; the events of one activation go out together in one local
 * activity with a snapshot of the whole state; writes are chained, never concurrent, so they land
 * in version order. A write that fails keeps its events for the next one. `flush()` waits until
 * every event so far is stored: the run calls it wherever a user acts on what it shows.
 * `exclusive()` runs another local activity with no projection write in flight (see there).
 */
export class RunProjector {
  private seq = 0;
  private pending: RunEventInput[] = [];
  private writing: Promise<void> | null = null;
  /** Local activities of the run in flight (exclusive): no write starts meanwhile. */
  private holds = 0;

  constructor(
    private readonly ids: { tenantId: string; family: RunFamily; runId: string; workflowId: string },
    private readonly snapshot: () => RunSnapshot,
    /** False for runs recorded before projections existed: events are counted but nothing is written. */
    private readonly enabled: boolean,
  ) {}

  emit(type: RunEventType, data: Record<string, unknown>): void {
    this.seq += 1;
    this.pending.push({ seq: this.seq, type, at: new Date().toISOString(), data });
    this.startWriting();
  }

  /** Resolves once every event emitted so far has been written (or a write gave up). */
  async flush(): Promise<void> {
    if (!this.enabled) return;
    this.startWriting();
    while (this.writing) await this.writing;
  }

  /**
   * Runs another local activity of the run (a store step) while no projection write is in flight,
   * and starts none until it is done: two local activities in flight at once finish inside one
   * workflow task in an order replay cannot reproduce. Events emitted meanwhile (the step's start
   * and end) go out together in the next write, after it.
   */
  async exclusive<T>(localActivity: () => Promise<T>): Promise<T> {
    this.holds += 1;
    try {
      // A write already scheduled finishes first; a drain not yet writing stops at its next check.
      while (this.writing) await this.writing;
      return await localActivity();
    } finally {
      this.holds -= 1;
      this.startWriting();
    }
  }

  private startWriting(): void {
    if (this.enabled && !this.writing && this.holds === 0 && this.pending.length > 0) this.writing = this.drain();
  }

  private async drain(): Promise<void> {
    // Let the rest of this activation emit first: its events share one write.
    await Promise.resolve();
    try {
      while (this.pending.length > 0 && this.holds === 0) {
        const events = this.pending;
        const { status, ended, state } = this.snapshot();
        const write: RunProjectionWrite = { ...this.ids, version: events.at(-1)!.seq, status, ended, state, events };
        // Not cancellable: a cancelled run still records how it ended.
        const stored = await CancellationScope.nonCancellable(() =>
          projectionSteps.projectRun(JSON.parse(JSON.stringify(write)) as RunProjectionWrite).then(
            () => true,
            () => false,
          ),
        );
        if (!stored) return;
        this.pending = this.pending.filter((e) => e.seq > write.version);
      }
    } finally {
      this.writing = null;
    }
  }
}
