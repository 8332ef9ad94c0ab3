import { CancellationScope, condition, isCancellation, patched } from '@temporalio/workflow';
import { FAILURE } from '../../core/contracts/failures.js';
import type { IncidentTarget } from '../../core/contracts/incident.js';
import { leaseRenewSteps, leaseWaitSteps } from './activities.js';
import { failureMessage, failureType } from '../runs/failures.js';
import type { IncidentRun } from './run-state.js';

/** The TTL when the acquire step did not say (it ran on a worker from before renewal). */
const FALLBACK_LEASE_TTL_MS = 15 * 60_000;

/**
 * Runs `change` while this run holds the host's lease: one run changes a host at a time, whatever
 * started it; a second incident for the same host waits here for its turn (up to the preset's 30
 * minutes, then it escalates). The lease is renewed every third of its TTL while `change` runs, so
 * a slow fix cannot outlive it; a lease lost anyway is recorded on the run (`hostLeaseLost`), which
 * then escalates instead of resolving. The lease is released even when the run is cancelled.
 */
export async function withHostLease(run: IncidentRun, target: IncidentTarget, change: () => Promise<void>): Promise<void> {
  const lease = { tenantId: run.input.tenantId, host: target.address };
  let acquired: { ttlMs?: number };
  try {
    acquired = await run.step('acquireHostLease', () => leaseWaitSteps.acquireHostLease(lease));
  } catch (err) {
    if (isCancellation(err)) throw err;
    await run.finish(
      'escalated',
      `${target.hostname} stayed busy with another remediation (or the tenant at its limit) for 30 minutes; escalated, nothing was changed.`,
    );
    return;
  }
  // Runs recorded before renewal existed replay without it.
  const renewal = patched('host-lease-renewal') ? renewWhileChanging(run, target, acquired.ttlMs ?? FALLBACK_LEASE_TTL_MS) : null;
  try {
    await change();
  } finally {
    // The renewal stops (an in-flight renewal finishes first) before the lease is given back, so
    // no renewal can re-take it after the release.
    await renewal?.stop();
    await CancellationScope.nonCancellable(() => run.step('releaseHostLease', () => run.store.releaseHostLease(lease)));
  }
}

/**
 * Renews the lease every ttl/3 until stopped. Not cancellable: a cancelled run still holds the
 * host until its release, and an abandoned renewal could land after it.
 */
function renewWhileChanging(run: IncidentRun, target: IncidentTarget, ttlMs: number): { stop(): Promise<void> } {
  const lease = { tenantId: run.input.tenantId, host: target.address };
  const interval = Math.max(1_000, Math.floor(ttlMs / 3));
  let stopped = false;
  const loop = CancellationScope.nonCancellable(async () => {
    while (!(await condition(() => stopped, interval))) {
      try {
        await leaseRenewSteps.renewHostLease(lease);
      } catch (err) {
        if (failureType(err) !== FAILURE.HostLeaseLost) continue; // the store was briefly down: next interval
        run.hostLeaseLost = failureMessage(err);
        run.state.findings.push(`Host lease lost while changing ${target.hostname}: ${run.hostLeaseLost}`);
        return;
      }
    }
  });
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
