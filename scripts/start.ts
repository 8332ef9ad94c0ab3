import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startApiServer, VERSION } from '../api/server.js';
import { ConfigError, loadConfig } from '../config.js';
import { createStore } from '../adapters/store/create.js';
import { connectClient, connectWorker } from '../adapters/temporal/connection.js';
import { startTemporalDevServer } from '../launcher/temporal-dev-server.js';
import { prepareAccess, resolveTemporalTarget } from '../launcher/stack.js';
import { createConfiguredWorker, runtimeTelemetryOptions } from '../worker.js';
import { buildAdapters, buildChatToolkit } from '../wiring.js';
import { createDeadLetterQueue } from '../adapters/queue/create.js';
import { startBridge } from '../bridge/run.js';

// `npm start`: the whole stack in one command — the embedded Temporal dev server (unless
// TEMPORAL_ADDRESS points at a cluster), the store, the worker, the API and, when
// INFRAAI_SQS_QUEUE_URL is set, the SQS bridge — stopped in reverse
// order on Ctrl-C / SIGTERM so no process is left behind.

const cleanups: { name: string; run: () => Promise<void> }[] = [];
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  for (const { name, run } of cleanups.reverse()) {
    try {
      if (process.env.INFRAAI_LOG_LEVEL === 'debug') console.log(`[infraai] stopping ${name}`);
      await run();
    } catch (err) {
      console.error(`[infraai] stopping ${name} failed: ${(err as Error).message}`);
    }
  }
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) {
      console.error('[infraai] forced exit');
      process.exit(130);
    }
    console.log(`\n[infraai] ${signal} received, stopping…`);
    void shutdown(0);
  });
}

// If whatever started us goes away without passing a signal on (a supervisor that SIGTERMs only
// `npm`), we are re-parented: treat that as a stop so the dev server is not left behind.
const originalParent = process.ppid;
setInterval(() => {
  if (process.ppid !== originalParent && !stopping) {
    console.log('[infraai] parent process exited, stopping…');
    void shutdown(0);
  }
}, 1000).unref();

async function main(): Promise<void> {
  const config = loadConfig();
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  // Signals are ours to handle (ordered shutdown above), not the Temporal runtime's.
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger(config.logLevel === 'debug' ? 'DEBUG' : 'WARN'),
    // The SDK's exporter; the API's /metrics appends what it serves, so one scrape gets both.
    ...runtimeTelemetryOptions(config),
  });

  let target = await resolveTemporalTarget(config);
  let webUiUrl: string | null = null;
  let devServerNote = '';
  if (!config.temporal.address) {
    console.log('[infraai] starting the Temporal dev server…');
    const devServer = await startTemporalDevServer({
      configFile: config.devServer.configFile,
      dataDir,
      port: config.devServer.port ?? undefined,
      uiPort: config.devServer.uiPort ?? undefined,
      cliPath: config.devServer.cliPath ?? undefined,
    });
    cleanups.push({ name: 'Temporal dev server', run: () => devServer.stop() });
    target = { ...target, address: devServer.address, namespace: devServer.namespace };
    webUiUrl = devServer.uiUrl;
    devServerNote = ` (dev server pid ${devServer.pid}, log ${devServer.logFile})`;
  }

  const store = await createStore(config.store);
  cleanups.push({ name: 'store', run: () => store.close() });
  const access = await prepareAccess(store, config);

  const temporal = { ...config.temporal, address: target.address, namespace: target.namespace };
  const workerConnection = await connectWorker(temporal);
  cleanups.push({ name: 'worker connection', run: () => workerConnection.close() });
  // One set of adapters for the worker and the API: one knowledge index, one vault, one of each client.
  const adapters = await buildAdapters(config, store);
  cleanups.push({ name: 'run-event bus', run: () => adapters.events.close() });
  cleanups.push({ name: 'event queue', run: async () => adapters.eventQueue?.close() });
  // After the worker has drained (cleanups run in reverse): the SSH connections kept between steps.
  cleanups.push({ name: 'SSH connections', run: async () => adapters.hostAccess.close?.() });
  cleanups.push({ name: 'vSphere session', run: async () => adapters.vmActions?.close() });
  const { client, connection } = await connectClient(temporal);
  cleanups.push({ name: 'Temporal client', run: () => connection.close() });
  // One registry of chat tools for the worker's chat activities and the API's /mcp.
  const chat = await buildChatToolkit(config, adapters, client, VERSION);
  cleanups.push({ name: 'MCP connections', run: () => chat.close() });
  const worker = await createConfiguredWorker(config, { connection: workerConnection, namespace: target.namespace, adapters, chat });
  const workerRun = worker.run();
  cleanups.push({
    name: 'worker',
    run: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun;
    },
  });
  workerRun.catch((err: unknown) => {
    if (stopping) return;
    console.error(`[infraai] the worker stopped: ${(err as Error).message}`);
    void shutdown(1);
  });

  const api = await startApiServer({ config, adapters, client, chat });
  cleanups.push({ name: 'API server', run: () => api.close() });

  // With a queue configured, the SQS bridge relays its PagerDuty events, in this process (it shares
  // the store, which PGlite allows one process only); stopped first, so it finishes what it holds.
  let bridgeLine: string | null = null;
  if (adapters.eventQueue && config.eventQueue) {
    const deadLetter = createDeadLetterQueue(config.eventQueue);
    cleanups.push({ name: 'dead-letter queue', run: async () => deadLetter?.close() });
    const bridge = await startBridge({ config, store, queue: adapters.eventQueue, deadLetter, client });
    cleanups.push({ name: 'SQS bridge', run: () => bridge.stop() });
    bridgeLine = `  SQS bridge   ${adapters.eventQueue.url} → Temporal   (health: ${bridge.probesUrl}/healthz, metrics: ${bridge.probesUrl}/metrics)`;
  }

  const lines = [
    '',
    'InfraAI is running',
    `  API          ${api.url}`,
    `  API docs     ${api.url}/docs   (OpenAPI: ${api.url}/openapi.json, health: ${api.url}/health)`,
    `  Temporal     ${target.address}   namespace ${target.namespace}, task queue ${config.temporal.taskQueue}${devServerNote}`,
    webUiUrl
      ? `  Web UI       ${webUiUrl}/namespaces/${target.namespace}/workflows`
      : '  Web UI       (external cluster: use its own Web UI)',
    `  Store        ${describeStore(config.store)}; run events over ${config.eventBus.kind}`,
    `  Reasoning    ${config.llm ? `${config.llm.provider} model ${config.llm.model}, runbook planner as fallback` : 'runbook planner (no LLM configured)'}; knowledge search ${config.embeddings ? `hybrid (BM25 + ${config.embeddings.model})` : 'lexical (BM25)'}`,
    `  Data         ${dataDir}`,
    ...(bridgeLine ? [bridgeLine] : []),
    '',
    ...access.lines,
    '',
    `  Try: curl -H "Authorization: Bearer <key>" ${api.url}/api/v1/incidents`,
    '  Ctrl-C stops everything.',
    '',
  ];
  console.log(lines.join('\n'));
}

function describeStore(store: ReturnType<typeof loadConfig>['store']): string {
  switch (store.kind) {
    case 'pglite':
      return `PGlite (embedded PostgreSQL) in ${resolve(store.dataDir)}`;
    case 'postgres':
      return `PostgreSQL ${new URL(store.url).host}${new URL(store.url).pathname}`;
    case 'supabase':
      return `Supabase ${store.url}`;
  }
}

main().catch(async (err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`[infraai] failed to start: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
});
