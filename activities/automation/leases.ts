import { ApplicationFailure } from '@temporalio/activity';
import { FAILURE } from '../../core/contracts/failures.js';
import { DEFAULT_HOST_LEASE_TTL_MS } from '../incident/leases.js';
import type { AutomationActivityDeps } from './deps.js';
import { workflowIdOf } from './toolkit.js';

// Host leases of an automation run: the same leases (store.leases, keyed by the host's address,
// held by the workflow id) that incident runs take, so a playbook and a remediation never change
// one host at once. A run needs every target host: it takes them in sorted order, so two runs
// wanting overlapping hosts cannot each hold one the other waits for.

export interface AutomationLeaseRef {
  tenantId: string;
  /** Host addresses, as incident runs key their leases. */
  hosts: string[];
}

const DEFAULT_MAX_HOST_LEASES = 50;

export function createAutomationLeaseActivities({
  store,
  hostLeaseTtlMs = DEFAULT_HOST_LEASE_TTL_MS,
  maxAutomationHostLeases = DEFAULT_MAX_HOST_LEASES,
}: AutomationActivityDeps) {
  const ordered = (hosts: string[]) => [...new Set(hosts)].sort();
  const take = (tenantId: string, host: string) =>
    store.leases.acquire({ tenantId, host, holder: workflowIdOf(), ttlMs: hostLeaseTtlMs, maxPerTenant: maxAutomationHostLeases });

  return {
    /**
     * Takes (or extends) the lease of each host in order; the first host held by another run fails
     * the attempt as retryable, keeping the hosts before it: the run waits its turn. Returns the TTL.
     */
    async acquireAutomationLeases({ tenantId, hosts }: AutomationLeaseRef): Promise<{ ttlMs: number }> {
      for (const host of ordered(hosts)) {
        const outcome = await take(tenantId, host);
        if (!outcome.acquired) {
          const why =
            outcome.reason === 'host-busy'
              ? `${host} is being changed by ${outcome.holder ?? 'another run'}`
              : `the tenant already holds ${maxAutomationHostLeases} host leases`;
          throw ApplicationFailure.retryable(`Waiting: ${why}`, FAILURE.HostBusy);
        }
      }
      return { ttlMs: hostLeaseTtlMs };
    },

    /** Extends every lease; one taken by another run meanwhile is lost for good. */
    async renewAutomationLeases({ tenantId, hosts }: AutomationLeaseRef): Promise<void> {
      for (const host of ordered(hosts)) {
        const outcome = await take(tenantId, host);
        if (!outcome.acquired) {
          throw ApplicationFailure.nonRetryable(
            `Lease on ${host} lost: it lapsed and ${outcome.holder ?? 'another run'} holds it now`,
            FAILURE.HostLeaseLost,
          );
        }
      }
    },

    async releaseAutomationLeases({ tenantId, hosts }: AutomationLeaseRef): Promise<void> {
      const holder = workflowIdOf();
      for (const host of ordered(hosts)) await store.leases.release(tenantId, host, holder);
    },
  };
}
