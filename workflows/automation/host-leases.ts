import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import { FAILURE } from '../../core/contracts/failures.js';
import { failureMessage, failureType } from '../runs/failures.js';
import { leaseRenewSteps, leaseWaitSteps, storeSteps } from './activities.js';
import type { AutomationRun } from './run-state.js';

/**
 * Runs `work` while this run holds the lease of every target host (the leases incident runs take,
 * keyed by address, so a playbook and a remediation never change one host at once). The run waits
 * while a host is busy (up to the lease-wait preset's 30 minutes, then it fails without running);
 * the leases are renewed every third of their TTL while `work` runs, and released afterwards, also
 * when the run is cancelled. Returns false when the hosts never became free.
 */
export async function withHostLeases(run: AutomationRun, work: () => Promise<void>): Promise<boolean> {
  const lease = { tenantId: run.input.tenantId, hosts: run.state.hosts.map((h) => h.address) };
  run.setStatus('waiting_for_hosts');
  let acquired: { ttlMs: number };
  try {
    acquired = await run.step('acquireAutomationLeases', () => leaseWaitSteps.acquireAutomationLeases(lease));
  } catch (err) {
    if (isCancellation(err)) {
      await releaseLeases(run, lease);
      throw err;
    }
    run.state.error = failureMessage(err);
    await releaseLeases(run, lease);
    await run.finish('failed', `The target hosts stayed busy with other runs for 30 minutes (${run.state.error}); nothing was run.`);
    return false;
  }
  const renewal = renewWhileRunning(run, lease, acquired.ttlMs);
  try {
    await work();
  } finally {
    await renewal.stop();
    await releaseLeases(run, lease);
  }
  return true;
}

function releaseLeases(run: AutomationRun, lease: { tenantId: string; hosts: string[] }): Promise<void> {
  return CancellationScope.nonCancellable(() => run.step('releaseAutomationLeases', () => storeSteps.releaseAutomationLeases(lease)));
}

/** Renews every ttl/3 until stopped; not cancellable, so no renewal can land after the release. */
function renewWhileRunning(run: AutomationRun, lease: { tenantId: string; hosts: string[] }, ttlMs: number): { stop(): Promise<void> } {
  const interval = Math.max(1_000, Math.floor(ttlMs / 3));
  let stopped = false;
  const loop = CancellationScope.nonCancellable(async () => {
    while (!(await condition(() => stopped, interval))) {
      try {
        await leaseRenewSteps.renewAutomationLeases(lease);
      } catch (err) {
        if (failureType(err) !== FAILURE.HostLeaseLost) continue; // the store was briefly down: next interval
        run.hostLeaseLost = failureMessage(err);
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
