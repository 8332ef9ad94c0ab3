import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import { FAILURE } from '../../core/contracts/failures.js';
import { failureMessage, failureType } from '../runs/failures.js';
import { leaseRenewSteps, leaseWaitSteps } from './activities.js';
import { failed, type ActionResult } from './outcome.js';
import type { AlertRun } from './run-state.js';

/**
 * Runs `change` while this run holds the host's lease: the lease incident and automation runs take
 * (keyed by the host's address, held by the workflow id, counted against the tenant's remediation
 * cap), so a policy and a remediation never change one host at once. While another run holds it the
 * run waits (up to 30 minutes, then the action fails without running); the alert resolving meanwhile
 * ends the wait without acting. The lease is renewed every third of its TTL and always released.
 */
export async function withAlertHostLease(run: AlertRun, address: string, change: () => Promise<ActionResult>): Promise<ActionResult> {
  const lease = { tenantId: run.tenantId, host: address };
  run.setStatus('waiting_for_host');
  // A free host is taken at once (a local activity, one try); a busy one is waited for below.
  const taken = await run
    .step('acquireHostLease', () => run.leaseTry.acquireHostLease(lease))
    .then(
      (acquired) => acquired,
      (err: unknown) => {
        if (isCancellation(err)) throw err;
        return null;
      },
    );
  if (taken) return holding(run, lease, taken.ttlMs ?? 15 * 60_000, change);
  const waiting = new CancellationScope();
  let settled = false;
  // The resolved signal cancels the wait (an attempt in flight answers first: see leaseWaitSteps).
  void condition(() => settled || run.resolved).then(() => {
    if (!settled) waiting.cancel();
  });
  let ttlMs: number;
  try {
    ({ ttlMs = 15 * 60_000 } = await waiting.run(() => run.step('acquireHostLease', () => leaseWaitSteps.acquireHostLease(lease))));
  } catch (err) {
    settled = true;
    await release(run, lease);
    if (isCancellation(err)) {
      if (CancellationScope.current().consideredCancelled) throw err;
      return { kind: 'resolved_before_action', detail: `the alert resolved while the run waited for ${address}'s lease: nothing was run` };
    }
    return failed(`${address} stayed busy with another run for 30 minutes (${failureMessage(err)}); nothing was run`);
  } finally {
    settled = true;
  }
  return holding(run, lease, ttlMs, change);
}

/** Runs `change` with the lease held: renewed every third of its TTL, released afterwards whatever happens. */
async function holding(
  run: AlertRun,
  lease: { tenantId: string; host: string },
  ttlMs: number,
  change: () => Promise<ActionResult>,
): Promise<ActionResult> {
  const renewal = renewWhileChanging(run, lease, ttlMs);
  try {
    return await change();
  } finally {
    await renewal.stop();
    await release(run, lease);
  }
}

function release(run: AlertRun, lease: { tenantId: string; host: string }): Promise<void> {
  return CancellationScope.nonCancellable(() => run.step('releaseHostLease', () => run.leaseRelease.releaseHostLease(lease)));
}

/** Renews every ttl/3 until stopped; not cancellable, so no renewal can land after the release. */
function renewWhileChanging(run: AlertRun, lease: { tenantId: string; host: string }, ttlMs: number): { stop(): Promise<void> } {
  const interval = Math.max(1_000, Math.floor(ttlMs / 3));
  let stopped = false;
  const loop = CancellationScope.nonCancellable(async () => {
    while (!(await condition(() => stopped, interval))) {
      try {
        await leaseRenewSteps.renewHostLease(lease);
      } catch (err) {
        if (failureType(err) !== FAILURE.HostLeaseLost) continue;
        run.state.error = `host lease lost while acting: ${failureMessage(err)}`;
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
