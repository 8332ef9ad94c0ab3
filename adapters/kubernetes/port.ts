// The Kubernetes port: the read-only cluster facts diagnosis collects. kubernetes-cluster.ts holds the SDK.

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
