import type { KubernetesCluster } from './port.js';
import { createKubernetesCluster } from './kubernetes-cluster.js';

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
