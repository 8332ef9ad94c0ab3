import type { RunEventBus } from '../../adapters/events/port.js';
import type { RunProjectionOutcome, Store } from '../../adapters/store/port.js';
import type { RunProjectionWrite } from '../../core/contracts/run-events.js';

// The read model's one writer: every workflow family hands its run's state and new events to this
// activity (as a local activity: a store write, not a queued task), which stores them and then
// wakes the API's event streams. A lost wake-up costs a stream one poll interval, never an event.

export interface RunProjectionDeps {
  store: Store;
  /** Absent in tests that need no streams: the write still lands, nobody is woken. */
  events?: RunEventBus | null;
  /** Where a failed wake-up is reported (it never fails the write). */
  warn?: (line: string) => void;
}

export function createRunProjectionActivities({ store, events, warn = console.warn }: RunProjectionDeps) {
  return {
    /** Stores one projection write (idempotent by version) and announces its events. */
    async projectRun(write: RunProjectionWrite): Promise<RunProjectionOutcome> {
      const outcome = await store.runs.project(write);
      if (outcome.applied && outcome.tenantSeq !== null && events) {
        await events
          .publish({
            tenantId: write.tenantId,
            family: write.family,
            runId: write.runId,
            seq: outcome.version,
            tenantSeq: outcome.tenantSeq,
          })
          .catch((err: unknown) => warn(`[infraai] run-event notice for ${write.workflowId} not sent: ${(err as Error).message}`));
      }
      return outcome;
    },
  };
}
