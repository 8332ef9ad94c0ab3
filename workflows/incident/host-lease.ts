import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { IncidentTarget } from '../../core/contracts/incident.js';
import { leaseWaitSteps, storeSteps } from './activities.js';
import type { IncidentRun } from './run-state.js';

/**
 * Runs `change` while this run holds the host's lease: one run changes a host at a time, whatever
 * started it; a second incident for the same host waits here for its turn (up to the preset's 30
 * minutes, then it escalates). The lease is released even when the run is cancelled.
 */
export async function withHostLease(run: IncidentRun, target: IncidentTarget, change: () => Promise<void>): Promise<void> {
  const lease = { tenantId: run.input.tenantId, host: target.address };
  try {
    await run.step('acquireHostLease', () => leaseWaitSteps.acquireHostLease(lease));
  } catch (err) {
    if (isCancellation(err)) throw err;
    await run.finish(
      'escalated',
      `${target.hostname} stayed busy with another remediation (or the tenant at its limit) for 30 minutes; escalated, nothing was changed.`,
    );
    return;
  }
  try {
    await change();
  } finally {
    await CancellationScope.nonCancellable(() => run.step('releaseHostLease', () => storeSteps.releaseHostLease(lease)));
  }
}
