import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';

// The Kubernetes port: the read-only facts diagnosis and cluster health need (pods, events,
// nodes), through the official client. Configured by a kubeconfig; absent, the features say so.

export interface PodSummary {
  name: string;
  namespace: string;
  phase: string;
  ready: boolean;
  restarts: number;
  /** Why a container is not running: CrashLoopBackOff, ImagePullBackOff, OOMKilled (last termination)… */
  reason: string | null;
  exitCode: number | null;
  node: string | null;
}

export interface EventSummary {
  type: string;
  reason: string;
  message: string;
  object: string;
  count: number;
  lastSeen: string | null;
}

export interface NodeSummary {
  name: string;
  ready: boolean;
  kubeletVersion: string;
  /** Pressure/unavailable conditions that are True (MemoryPressure, DiskPressure, …). */
  problems: string[];
}

export interface KubernetesCluster {
  listPods(namespace: string): Promise<PodSummary[]>;
  listEvents(namespace: string, podName?: string): Promise<EventSummary[]>;
  listNodes(): Promise<NodeSummary[]>;
}

export class KubernetesUnavailableError extends Error {
  override readonly name = 'KubernetesUnavailableError';
}

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

/** The configured cluster, or null; a kubeconfig path that cannot be read fails the start with its name. */
export async function openKubernetesCluster(kubeconfigPath: string | null): Promise<KubernetesCluster | null> {
  if (!kubeconfigPath) return null;
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(kubeconfigPath, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the kubeconfig at ${kubeconfigPath} (INFRAAI_KUBECONFIG/KUBECONFIG): ${(err as Error).message}`);
  }
  return createKubernetesCluster(text);
}
