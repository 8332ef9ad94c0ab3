import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { type KubernetesCluster, KubernetesUnavailableError, type PodSummary } from './port.js';

// The Kubernetes port: the read-only facts diagnosis and cluster health need (pods, events,
// nodes), through the official client. Configured by a kubeconfig; absent, the features say so.

export function summarisePod(pod: V1Pod): PodSummary {
  const statuses = pod.status?.containerStatuses ?? [];
  let waitingReason: string | null = null;
  let lastReason: string | null = null;
  let exitCode: number | null = null;
  for (const status of statuses) {
    waitingReason ??= status.state?.waiting?.reason ?? null;
    const terminated = status.state?.terminated ?? status.lastState?.terminated;
    if (terminated && exitCode === null) {
      exitCode = terminated.exitCode ?? null;
      lastReason = terminated.reason ?? null;
    }
  }
  const reason =
    waitingReason && lastReason && waitingReason !== lastReason ? `${waitingReason} (last: ${lastReason})` : (waitingReason ?? lastReason);
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: statuses.length > 0 && statuses.every((s) => s.ready),
    restarts: statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0),
    reason,
    exitCode,
    node: pod.spec?.nodeName ?? null,
  };
}

/** A cluster from kubeconfig text (a file's content), using its current context. */
export function createKubernetesCluster(kubeconfig: string): KubernetesCluster {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new KubernetesUnavailableError(`Kubernetes ${what} failed: ${(err as Error).message.split('\n')[0]}`);
    }
  };
  return {
    async listPods(namespace) {
      const list = await call('pod list', () => core.listNamespacedPod({ namespace }));
      return list.items.map(summarisePod);
    },
    async listEvents(namespace, podName) {
      const list = await call('event list', () =>
        core.listNamespacedEvent({ namespace, ...(podName ? { fieldSelector: `involvedObject.name=${podName}` } : {}) }),
      );
      return list.items
        .map((event) => ({
          type: event.type ?? 'Normal',
          reason: event.reason ?? '',
          message: event.message ?? '',
          object: `${event.involvedObject.kind ?? ''}/${event.involvedObject.name ?? ''}`,
          count: event.count ?? 1,
          lastSeen:
            (event.lastTimestamp ?? event.eventTime ?? null)
              ? new Date(String(event.lastTimestamp ?? event.eventTime)).toISOString()
              : null,
        }))
        .sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? ''));
    },
    async listNodes() {
      const list = await call('node list', () => core.listNode());
      return list.items.map((node) => {
        const conditions = node.status?.conditions ?? [];
        return {
          name: node.metadata?.name ?? '',
          ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
          kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? '',
          problems: conditions.filter((c) => c.type !== 'Ready' && c.status === 'True').map((c) => c.type),
        };
      });
    },
  };
}
