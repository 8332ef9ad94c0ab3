import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startTemporalDevServer, type DevServerHandle } from '../../launcher/temporal-dev-server.js';
import { buildWorkflowBundle } from '../../launcher/workflow-bundle.js';

// One Temporal dev server for the whole test run (free ports, throw-away data directory) and one
// workflow bundle shared by every test's worker. INFRAAI_TEST_TEMPORAL_ADDRESS reuses a running server.

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-test-'));
  let server: DevServerHandle | null = null;
  const reuse = process.env.INFRAAI_TEST_TEMPORAL_ADDRESS;
  const [serverStarted, bundlePath] = await Promise.all([
    reuse
      ? Promise.resolve({ address: reuse, namespace: process.env.INFRAAI_TEST_TEMPORAL_NAMESPACE ?? 'infraai' })
      : startTemporalDevServer({
          configFile: 'temporal-dev.yaml',
          dataDir,
          port: await freePort(),
          headless: true,
          log: () => undefined,
        }).then((handle) => {
          server = handle;
          return handle;
        }),
    buildWorkflowBundle(join(dataDir, 'workflow-bundle.js')),
  ]);
  project.provide('temporalAddress', serverStarted.address);
  project.provide('temporalNamespace', serverStarted.namespace);
  project.provide('temporalDataDir', dataDir);
  project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await (server as DevServerHandle | null)?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    temporalDataDir: string;
    workflowBundlePath: string;
  }
}
