import type { KubernetesActions, KubernetesActionsOptions, KubernetesCluster } from './port.js';
import { createKubernetesActions, createKubernetesCluster } from './kubernetes-cluster.js';

async function readKubeconfig(kubeconfigPath: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(kubeconfigPath, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the kubeconfig at ${kubeconfigPath} (INFRAAI_KUBECONFIG/KUBECONFIG): ${(err as Error).message}`);
  }
}

/** The configured cluster, or null; a kubeconfig path that cannot be read fails the start with its name. */
export async function openKubernetesCluster(kubeconfigPath: string | null): Promise<KubernetesCluster | null> {
  if (!kubeconfigPath) return null;
  return createKubernetesCluster(await readKubeconfig(kubeconfigPath));
}

/** The actions self-healing policies take on the configured cluster, or null without a kubeconfig. */
export async function openKubernetesActions(
  kubeconfigPath: string | null,
  options: KubernetesActionsOptions,
): Promise<KubernetesActions | null> {
  if (!kubeconfigPath) return null;
  return createKubernetesActions(await readKubeconfig(kubeconfigPath), options);
}
