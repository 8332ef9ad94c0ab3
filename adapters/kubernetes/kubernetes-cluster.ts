import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import {
  type KubernetesActions,
  type KubernetesActionsOptions,
  type KubernetesCluster,
  KubernetesConflictError,
  KubernetesForbiddenError,
  KubernetesNotFoundError,
  KubernetesUnavailableError,
  NamespaceNotAllowedError,
  type PodSummary,
  PodWithoutControllerError,
  ReplicasOutOfRangeError,
} from './port.js';

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

/** The API server's own words (a Status object's message) when it sent one. */
function statusMessage(err: ApiException<unknown>): string {
  let body: unknown = err.body;
  if (typeof err.body === 'string') {
    const text = err.body;
    try {
      body = JSON.parse(text);
    } catch {
      return text.slice(0, 200) || `HTTP ${err.code}`;
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message ? message : `HTTP ${err.code}`;
}

/** One named error per answer an action's caller can act on; anything else is the cluster being unavailable. */
function actionError(what: string, err: unknown): Error {
  if (err instanceof ApiException) {
    const code = err.code;
    const message = `Kubernetes ${what}: ${statusMessage(err)}`;
    if (code === 404) return new KubernetesNotFoundError(message, code);
    if (code === 401 || code === 403) return new KubernetesForbiddenError(message, code);
    if (code === 409) return new KubernetesConflictError(message, code);
    return new KubernetesUnavailableError(`${message} (HTTP ${code})`);
  }
  return new KubernetesUnavailableError(`Kubernetes ${what} failed: ${(err as Error).message.split('\n')[0]}`);
}

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/**
 * The actions self-healing policies take, from kubeconfig text. Namespaces outside the allowlist and
 * replica counts past the bound are refused before any request.
 */
export function createKubernetesActions(kubeconfig: string, options: KubernetesActionsOptions): KubernetesActions {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  const apps = config.makeApiClient(AppsV1Api);
  const allowed = new Set(options.namespaces);
  const checkNamespace = (namespace: string) => {
    if (allowed.size > 0 && !allowed.has(namespace)) {
      throw new NamespaceNotAllowedError(`namespace ${namespace} is not in INFRAAI_KUBE_ACTION_NAMESPACES (${[...allowed].join(', ')})`);
    }
  };
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw actionError(what, err);
    }
  };

  return {
    async restartPod(namespace, pod) {
      checkNamespace(namespace);
      const current = await call(`read pod ${namespace}/${pod}`, () => core.readNamespacedPod({ namespace, name: pod }));
      const controller = current.metadata?.ownerReferences?.find((ref) => ref.controller === true);
      if (!controller) {
        throw new PodWithoutControllerError(
          `pod ${namespace}/${pod} has no controller (no ownerReference with controller: true); deleting it would not bring it back`,
        );
      }
      const uid = current.metadata?.uid ?? '';
      // The uid precondition deletes exactly the pod inspected: a 409 means it was already replaced
      // (a StatefulSet pod keeps its name), and deleting the replacement would restart it twice, so
      // this conflict is reported rather than retried.
      await call(`delete pod ${namespace}/${pod}`, () =>
        core.deleteNamespacedPod({ namespace, name: pod, body: uid ? { preconditions: { uid } } : {} }),
      );
      return { namespace, pod, uid, owner: { kind: controller.kind, name: controller.name } };
    },

    async scaleDeployment(namespace, deployment, replicas) {
      checkNamespace(namespace);
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > options.maxReplicas) {
        throw new ReplicasOutOfRangeError(`replicas must be a whole number from 0 to ${options.maxReplicas}, got ${replicas}`);
      }
      // Read, then replace with the read resourceVersion: a concurrent change (an autoscaler, a
      // deploy) answers 409 instead of being overwritten silently; one fresh read and retry.
      for (let attempt = 1; ; attempt++) {
        const scale = await call(`read scale of deployment ${namespace}/${deployment}`, () =>
          apps.readNamespacedDeploymentScale({ namespace, name: deployment }),
        );
        const previousReplicas = scale.spec?.replicas ?? 0;
        if (previousReplicas === replicas) return { namespace, deployment, previousReplicas, replicas };
        try {
          const updated = await call(`scale deployment ${namespace}/${deployment}`, () =>
            apps.replaceNamespacedDeploymentScale({
              namespace,
              name: deployment,
              body: {
                apiVersion: 'autoscaling/v1',
                kind: 'Scale',
                metadata: { name: deployment, namespace, resourceVersion: scale.metadata?.resourceVersion },
                spec: { replicas },
              },
            }),
          );
          return { namespace, deployment, previousReplicas, replicas: updated.spec?.replicas ?? replicas };
        } catch (err) {
          if (err instanceof KubernetesConflictError && attempt === 1) continue;
          throw err;
        }
      }
    },

    async rolloutRestartDeployment(namespace, deployment) {
      checkNamespace(namespace);
      const restartedAt = new Date().toISOString();
      await call(`rollout restart of deployment ${namespace}/${deployment}`, () =>
        apps.patchNamespacedDeployment(
          { namespace, name: deployment, body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: restartedAt } } } } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      );
      return { namespace, deployment, restartedAt };
    },
  };
}
