import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { readDevServerConfig } from '../../launcher/dev-server-config.js';
import { DevServerStartError, startTemporalDevServer, type DevServerHandle } from '../../launcher/temporal-dev-server.js';
import { buildWorkflowBundle } from '../../launcher/workflow-bundle.js';
import { freePort } from '../../launcher/ports.js';

// One Temporal dev server for the whole test run (the repo's temporal-dev.yaml, headless, free
// ports, a throw-away data directory) and one workflow bundle shared by every test's worker.
// INFRAAI_TEST_TEMPORAL_ADDRESS (and optionally INFRAAI_TEST_TEMPORAL_NAMESPACE) reuses a running server.

const DEV_CONFIG = fileURLToPath(new URL('../../temporal-dev.yaml', import.meta.url));

/** A free port can be taken by someone else before the server binds it: try a few. */
async function startOnFreePorts(dataDir: string): Promise<DevServerHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTemporalDevServer({
        configFile: DEV_CONFIG,
        dataDir,
        port: await freePort(),
        headless: true,
        log: () => undefined,
      });
    } catch (err) {
      if (!(err instanceof DevServerStartError && err.message.includes('already in use')) || attempt === 3) throw err;
    }
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-test-'));
  const started: DevServerHandle[] = [];
  const teardown = async () => {
    await Promise.all(started.map((server) => server.stop()));
    await rm(dataDir, { recursive: true, force: true });
  };

  const reuse = process.env.INFRAAI_TEST_TEMPORAL_ADDRESS?.trim();
  const temporal = async (): Promise<{ address: string; namespace: string }> => {
    if (reuse) {
      const namespace = process.env.INFRAAI_TEST_TEMPORAL_NAMESPACE?.trim() || (await readDevServerConfig(DEV_CONFIG)).namespace;
      return { address: reuse, namespace };
    }
    const server = await startOnFreePorts(dataDir);
    started.push(server);
    return server;
  };

  // allSettled, not all: if one fails, the other must have finished before teardown runs.
  const [server, bundle] = await Promise.allSettled([temporal(), buildWorkflowBundle(join(dataDir, 'workflow-bundle.js'))]);
  if (server.status === 'rejected' || bundle.status === 'rejected') {
    await teardown();
    throw server.status === 'rejected' ? server.reason : (bundle as PromiseRejectedResult).reason;
  }
  project.provide('temporalAddress', server.value.address);
  project.provide('temporalNamespace', server.value.namespace);
  project.provide('temporalDataDir', dataDir);
  project.provide('workflowBundlePath', bundle.value);
  return teardown;
}

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    temporalDataDir: string;
    /** Built once here; each test's worker loads it with `workflowBundle: { codePath }`. */
    workflowBundlePath: string;
  }
}
