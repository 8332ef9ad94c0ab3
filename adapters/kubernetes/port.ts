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

// The write side: the actions self-healing policies take (restart_pod, scale_deployment). A separate
// interface so diagnosis, which only reads, is never handed a client that can change the cluster.

/** The controller that owns a pod and recreates it once deleted. */
export interface PodOwner {
  kind: string;
  name: string;
}

export interface PodRestart {
  namespace: string;
  pod: string;
  /** The pod's uid when it was deleted; its replacement gets a new one. */
  uid: string;
  owner: PodOwner;
}

export interface DeploymentScale {
  namespace: string;
  deployment: string;
  previousReplicas: number;
  replicas: number;
}

export interface DeploymentRolloutRestart {
  namespace: string;
  deployment: string;
  /** The `kubectl.kubernetes.io/restartedAt` value written to the pod template. */
  restartedAt: string;
}

export interface KubernetesActionsOptions {
  /** Namespaces actions may touch; empty: all. */
  namespaces: readonly string[];
  /** Largest replica count scaleDeployment sets. */
  maxReplicas: number;
}

export interface KubernetesActions {
  /** Deletes the pod so its controller recreates it; a pod no controller owns is refused (it would be lost). */
  restartPod(namespace: string, pod: string): Promise<PodRestart>;
  /** Sets the replica count through the deployment's scale subresource. */
  scaleDeployment(namespace: string, deployment: string, replicas: number): Promise<DeploymentScale>;
  /** What `kubectl rollout restart` does: a new pod-template annotation rolls every pod. */
  rolloutRestartDeployment(namespace: string, deployment: string): Promise<DeploymentRolloutRestart>;
}

/** An action refused or failed; `status` is the API server's HTTP status when it answered. */
export class KubernetesActionError extends Error {
  constructor(
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** 404: the pod or deployment does not exist (retrying will not help). */
export class KubernetesNotFoundError extends KubernetesActionError {
  override readonly name = 'KubernetesNotFoundError';
}

/** 401/403: the kubeconfig's identity may not do this (RBAC); retrying will not help. */
export class KubernetesForbiddenError extends KubernetesActionError {
  override readonly name = 'KubernetesForbiddenError';
}

/** 409: the object changed under us (after one retry for a scale). */
export class KubernetesConflictError extends KubernetesActionError {
  override readonly name = 'KubernetesConflictError';
}

/** The pod has no controller owner reference: deleting it would lose it, so it is not restarted. */
export class PodWithoutControllerError extends KubernetesActionError {
  override readonly name = 'PodWithoutControllerError';
}

/** INFRAAI_KUBE_ACTION_NAMESPACES does not list the namespace. */
export class NamespaceNotAllowedError extends KubernetesActionError {
  override readonly name = 'NamespaceNotAllowedError';
}

/** A replica count that is not a whole number from 0 to the configured maximum. */
export class ReplicasOutOfRangeError extends KubernetesActionError {
  override readonly name = 'ReplicasOutOfRangeError';
}
