import type { VmActions } from './port.js';

export interface VsphereConfig {
  /** vCenter's base URL, e.g. https://vcenter.example.com */
  url: string;
  username: string;
  password: string;
  /** Skip TLS certificate verification (a lab vCenter with a self-signed certificate). */
  insecureTls: boolean;
  /** PEM file of the CA that signed vCenter's certificate (the VMCA root), trusted besides the system's. */
  caFile: string | null;
}

/** VM actions through vCenter's REST API, or null when vSphere is not configured. */
export async function createVmActions(config: VsphereConfig | null): Promise<VmActions | null> {
  if (!config) return null;
  const { createVsphereRestClient } = await import('./vsphere-rest.js');
  let ca: string | null = null;
  if (config.caFile) {
    const { readFile } = await import('node:fs/promises');
    try {
      ca = await readFile(config.caFile, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the vSphere CA file at ${config.caFile} (INFRAAI_VSPHERE_CA_FILE): ${(err as Error).message}`);
    }
  }
  return createVsphereRestClient({
    url: config.url,
    username: config.username,
    password: config.password,
    insecureTls: config.insecureTls,
    ca,
  });
}
