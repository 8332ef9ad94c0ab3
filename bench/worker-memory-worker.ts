import { setTimeout as delay } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createStore } from '../adapters/store/create.js';
import { connectWorker } from '../adapters/temporal/connection.js';
import type { CommandOutcome, HostAccess, SshSession } from '../adapters/ssh/port.js';
import { loadConfig } from '../config.js';
import { createConfiguredWorker } from '../worker.js';
import { buildAdapters } from '../wiring.js';

// The worker of `npm run bench:worker-memory`, in its own process so its RSS is its own: what
// `npm run worker` runs (config from the environment, the adapters of wiring.ts, the real workflow
// bundle and activities), except the SSH port. Every host answers like one whose service cannot
// start because a stray process holds its port, so each run's real plan (the port-in-use runbook)
// proposes a high-risk fix and waits for approval. Nothing else is stubbed.

const PORT_HOLDER = 'LISTEN 0 128 0.0.0.0:8080 0.0.0.0:* users:(("python3",pid=4242,fd=3))';

function answer(command: string): Pick<CommandOutcome, 'exitCode' | 'stdout'> {
  if (command.startsWith('ss -ltnpH sport = :')) return { exitCode: 0, stdout: PORT_HOLDER };
  if (command.startsWith('supervisorctl status ') && command.includes('grep -q RUNNING')) return { exitCode: 1, stdout: '' };
  if (command.startsWith('supervisorctl status ')) return { exitCode: 3, stdout: 'web                          STOPPED   Dec 02 10:00 AM' };
  return { exitCode: 127, stdout: '' };
}

/** Keeps nothing per command, so the figures are the worker's, not the stand-in's. */
const portHeldHosts: HostAccess = {
  async connect(): Promise<SshSession> {
    return {
      hostKeyFingerprint: 'SHA256:bench-host-key',
      async run(commands) {
        return commands.map((command) => ({
          command,
          ...answer(command),
          signal: null,
          stderr: '',
          truncated: false,
          timedOut: false,
          durationMs: 1,
        }));
      },
      close() {},
    };
  },
};

const gc = (globalThis as { gc?: () => void }).gc;

/** Answers the benchmark's "collect" with the heap after full collections (needs --expose-gc). */
process.on('message', (message: { type?: string }) => {
  if (message?.type !== 'collect') return;
  void (async () => {
    for (let i = 0; i < 3; i += 1) {
      gc?.();
      await delay(200);
    }
    const usage = process.memoryUsage();
    process.send?.({
      type: 'collected',
      exposedGc: Boolean(gc),
      heapUsed: usage.heapUsed,
      external: usage.external,
      heapLimit: getHeapStatistics().heap_size_limit,
    });
  })();
});

// Re-parented: the benchmark that started us is gone, so are we.
const originalParent = process.ppid;
setInterval(() => {
  if (process.ppid !== originalParent) process.kill(process.pid, 'SIGTERM');
}, 1000).unref();

const config = loadConfig();
const address = config.temporal.address;
if (!address || config.store.kind !== 'postgres') {
  console.error('[bench-worker] needs TEMPORAL_ADDRESS and DATABASE_URL (the benchmark sets both)');
  process.exit(2);
}
const namespace = config.temporal.namespace ?? 'default';
Runtime.install({ logger: new DefaultLogger('WARN') });
const store = await createStore(config.store);
const adapters = await buildAdapters(config, store);
const connection = await connectWorker({ ...config.temporal, address, namespace });
const worker = await createConfiguredWorker(config, {
  connection,
  namespace,
  adapters: { ...adapters, hostAccess: portHeldHosts },
});
console.log(`[bench-worker] worker ready (pid ${process.pid}, maxCachedWorkflows ${config.worker.maxCachedWorkflows ?? 'SDK default'})`);
try {
  // The Temporal runtime shuts the worker down on SIGINT/SIGTERM; run() resolves once it has drained.
  await worker.run();
} finally {
  await connection.close();
  await adapters.events.close();
  await store.close();
}
