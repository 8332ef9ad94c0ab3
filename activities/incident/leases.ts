import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE } from '../../core/contracts/failures.js';
import type { IncidentRunDeps } from './deps.js';

// Host lease step group: one run changes a host at a time, whatever started it, and a tenant runs
// at most its cap of remediations at once.

/** A held lease lapses after this unless its holder renews it (a terminated run cannot hold a host for long). */
export const DEFAULT_HOST_LEASE_TTL_MS = 15 * 60_000;

export interface HostLeaseRef {
  tenantId: string;
  host: string;
}

export function createLeaseActivities({
  store,
  maxConcurrentRemediations = 5,
  hostLeaseTtlMs = DEFAULT_HOST_LEASE_TTL_MS,
}: IncidentRunDeps) {
  /** Takes or extends the host's lease for this run's workflow (the holder). */
  const takeLease = ({ tenantId, host }: HostLeaseRef) =>
    store.leases.acquire({ tenantId, host, holder: workflowIdOf(), ttlMs: hostLeaseTtlMs, maxPerTenant: maxConcurrentRemediations });

  return {
    /**
     * Takes the lease on the target host for this run. A host changed by another run, or a tenant
     * at its cap, fails the attempt as retryable: the run waits its turn. Returns the TTL used, so
     * the workflow renews well before it lapses.
     */
    async acquireHostLease({ tenantId, host }: HostLeaseRef): Promise<{ expiresAt: string; ttlMs: number }> {
      const outcome = await takeLease({ tenantId, host });
      if (!outcome.acquired) {
        const why =
          outcome.reason === 'host-busy'
            ? `${host} is being remediated by ${outcome.holder ?? 'another run'}`
            : `the tenant already runs ${maxConcurrentRemediations} remediations`;
        throw ApplicationFailure.retryable(`Waiting: ${why}`, FAILURE.HostBusy);
      }
      return { expiresAt: outcome.expiresAt, ttlMs: hostLeaseTtlMs };
    },

    /**
     * Extends this run's lease while it works on the host (the same acquire, for the same holder).
     * When another run holds the host now, or the lapsed lease's slot went to another run of the
     * tenant, the lease is lost: no retry brings it back.
     */
    async renewHostLease({ tenantId, host }: HostLeaseRef): Promise<{ expiresAt: string }> {
      const outcome = await takeLease({ tenantId, host });
      if (!outcome.acquired) {
        const why =
          outcome.reason === 'host-busy'
            ? `it lapsed and ${outcome.holder ?? 'another run'} holds ${host} now`
            : `it lapsed and the tenant's ${maxConcurrentRemediations} remediation slots are taken`;
        throw ApplicationFailure.nonRetryable(`Lease on ${host} lost: ${why}`, FAILURE.HostLeaseLost);
      }
      return { expiresAt: outcome.expiresAt };
    },

    async releaseHostLease({ tenantId, host }: HostLeaseRef): Promise<void> {
      await store.leases.release(tenantId, host, workflowIdOf());
    },
  };
}

function workflowIdOf(): string {
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (!workflowId) throw ApplicationFailure.nonRetryable('Host leases are held by workflows only', FAILURE.NotInWorkflow);
  return workflowId;
}
