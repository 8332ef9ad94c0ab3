import type { KubernetesActions } from '../../adapters/kubernetes/port.js';
import type { Notifier, NotifyTenants } from '../../adapters/notify/port.js';
import type { HostAccess } from '../../adapters/ssh/port.js';
import type { Store } from '../../adapters/store/port.js';
import type { VmActions } from '../../adapters/vsphere/port.js';
import type { CommandPolicy } from '../../core/command-policy.js';
import type { CmdbItem } from '../../core/incident.js';

// What the alert run's activities need, as injected ports: the store (policies, job log, CMDB,
// incidents, automation rows), SSH host access, and the adapters of the non-host actions. Each
// action adapter may be null (not configured): its action then fails with a clear detail.

export interface AlertActivityDeps {
  store: Store;
  /** Null: ssh_command cannot run (the job fails saying so). */
  hostAccess: HostAccess | null;
  commandPolicy?: CommandPolicy;
  /** restart_pod / scale_deployment; null or absent: not configured. */
  kubernetesActions?: KubernetesActions | null;
  /** restart_vm; null or absent: not configured. */
  vmActions?: VmActions | null;
  /** notify, and the notice sent when a breaker opens for a host that is not in the CMDB. */
  notifiers?: readonly Notifier[];
  /** The tenants those notifiers serve (INFRAAI_NOTIFY_TENANTS); absent: none. */
  notifyTenants?: NotifyTenants;
  /** External URL of the API, for links in notices (INFRAAI_PUBLIC_URL). */
  publicUrl?: string | null;
}

/**
 * The CMDB item an alert's host label names: its tagId, its hostname, or (Prometheus's `instance`
 * is `host:port`) either of those or its address without the port. Null when none does.
 */
export async function resolveHost(store: Store, tenantId: string, host: string): Promise<CmdbItem | null> {
  const bare = /^(.+):\d{1,5}$/.exec(host)?.[1];
  for (const name of bare && bare !== host ? [host, bare] : [host]) {
    const byTag = await store.cmdb.get(tenantId, name);
    if (byTag) return byTag;
    const byName = await store.cmdb.list(tenantId, { hostname: name }, { limit: 1 });
    if (byName.items[0]) return byName.items[0];
    const byAddress = await store.cmdb.list(tenantId, { q: name }, { limit: 50 });
    const match = byAddress.items.find((item) => item.address === name);
    if (match) return match;
  }
  return null;
}
