import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE } from '../../core/contracts/failures.js';
import type { IncidentRunDeps } from './deps.js';

// Host lease step group: one run changes a host at a time, whatever started it, and a tenant runs
// at most its cap of remediations at once.

/** A held lease lapses after this unless renewed (a terminated run cannot hold a host for long). */
const LEASE_TTL_MS = 15 * 60_000;

export function createLeaseActivities({ store, maxConcurrentRemediations = 5 }: IncidentRunDeps) {
  return {
    /**
     * Takes (or renews) the lease on the target host for this run. A host changed by another run,
     * or a tenant at its cap, fails the attempt as retryable: the run waits its turn.
     */
    async acquireHostLease({ tenantId, host }: { tenantId: string; host: string }): Promise<{ expiresAt: string }> {
      const holder = workflowIdOf();
      const outcome = await store.leases.acquire({ tenantId, host, holder, ttlMs: LEASE_TTL_MS, maxPerTenant: maxConcurrentRemediations });
      if (!outcome.acquired) {
        const why =
          outcome.reason === 'host-busy'
            ? `${host} is being remediated by ${outcome.holder ?? 'another run'}`
            : `the tenant already runs ${maxConcurrentRemediations} remediations`;
        throw ApplicationFailure.retryable(`Waiting: ${why}`, FAILURE.HostBusy);
      }
      return { expiresAt: outcome.expiresAt };
    },

    async releaseHostLease({ tenantId, host }: { tenantId: string; host: string }): Promise<void> {
      await store.leases.release(tenantId, host, workflowIdOf());
    },
  };
}

function workflowIdOf(): string {
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (!workflowId) throw ApplicationFailure.nonRetryable('Host leases are held by workflows only', FAILURE.NotInWorkflow);
  return workflowId;
}
