import { fileURLToPath, pathToFileURL } from 'node:url';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities/index.js';
import { activityFailureInterceptor } from './activities/telemetry-interceptor.js';
import { createOfflineChatPlanner } from './activities/chat/offline.js';
import { loadBundledRunbooks, openKnowledgeBase } from './adapters/knowledge/create.js';
import type { EmbeddingProvider } from './adapters/llm/port.js';
import type { VectorIndex } from './adapters/knowledge/port.js';
import type { Config } from './config.js';
import type { Adapters, ChatToolkit } from './wiring.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface InfraWorkerOptions extends Omit<
  ActivityDeps,
  'knowledge' | 'ingestion' | 'runbooks' | 'llm' | 'kubernetes' | 'hostAccess'
> {
  /** Default: hosts are not reached over SSH. */
  hostAccess?: ActivityDeps['hostAccess'];
  /** Default: none configured. */
  kubernetes?: ActivityDeps['kubernetes'];
  /** Used by the default knowledge base for hybrid search. */
  embedder?: EmbeddingProvider | null;
  /** Default: none (the runbook planner reasons alone). */
  llm?: ActivityDeps['llm'];
  /** Defaults: the store-backed knowledge base (which also runs staged ingestion) and the bundled runbooks. */
  knowledge?: ActivityDeps['knowledge'] & Partial<ActivityDeps['ingestion']>;
  vectorIndex?: VectorIndex | null;
  runbooks?: ActivityDeps['runbooks'];
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Pre-built workflow bundle (production, tests); without it the worker bundles workflows/ at start. */
  workflowBundlePath?: string | null | undefined;
  identity?: string | undefined;
  /** Workflow runs kept in memory between tasks (0: none); default: the SDK's, sized from the heap limit. */
  maxCachedWorkflows?: number | null | undefined;
}

function isStagedIngestion(value: object): value is ActivityDeps['ingestion'] {
  return 'stage' in value && 'indexBatch' in value;
}

/** Wires the worker: workflows from the bundle or source, activities from their ports. Nothing else. */
export async function createInfraWorker(options: InfraWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, workflowBundlePath, identity, maxCachedWorkflows, embedder, vectorIndex, ...ports } = options;
  const knowledge = ports.knowledge ?? openKnowledgeBase(ports.store, { embedder: embedder ?? null, vectorIndex: vectorIndex ?? null });
  const deps: ActivityDeps = {
    ...ports,
    knowledge,
    ingestion: isStagedIngestion(knowledge)
      ? knowledge
      : openKnowledgeBase(ports.store, { embedder: embedder ?? null, vectorIndex: vectorIndex ?? null }),
    runbooks: ports.runbooks ?? (await loadBundledRunbooks(null)),
    llm: ports.llm ?? null,
    kubernetes: ports.kubernetes ?? null,
    hostAccess: ports.hostAccess ?? null,
  };
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    ...(workflowBundlePath ? { workflowBundle: { codePath: workflowBundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(deps),
    ...(deps.telemetry ? { interceptors: { activity: [activityFailureInterceptor(deps.telemetry)] } } : {}),
    ...(identity ? { identity } : {}),
    ...(maxCachedWorkflows != null ? { maxCachedWorkflows } : {}),
    shutdownGraceTime: '10 seconds',
  });
}

/** The worker over adapters built once from config (`buildAdapters`), shared with the API in `npm start`. */
export async function createConfiguredWorker(
  config: Config,
  base: { connection: NativeConnection; namespace: string; adapters: Adapters; chat?: ChatToolkit | null },
): Promise<Worker> {
  const { adapters } = base;
  return createInfraWorker({
    connection: base.connection,
    namespace: base.namespace,
    taskQueue: config.temporal.taskQueue,
    store: adapters.store,
    knowledge: adapters.knowledge,
    runbooks: adapters.runbooks,
    llm: adapters.llm,
    kubernetes: adapters.kubernetes,
    kubernetesActions: adapters.kubernetesActions,
    vmActions: adapters.vmActions,
    hostAccess: adapters.hostAccess,
    vault: adapters.vault,
    automation: adapters.automation,
    provisioning: adapters.provisioning.toolkit,
    gitHost: adapters.provisioning.gitHost,
    maxAutomationHostLeases: config.automation.maxHostLeases,
    maxConcurrentRemediations: config.remediation.maxConcurrent,
    hostLeaseTtlMs: config.remediation.hostLeaseTtlMs,
    notifiers: adapters.notifiers,
    notifyTenants: config.notifyTenants,
    publicUrl: config.api.publicUrl,
    metrics: adapters.metrics,
    events: adapters.events,
    telemetry: adapters.telemetry,
    commandPolicy: { allowReboot: config.remediation.allowReboot },
    // What the API hands each incident run it starts, handed to those a PagerDuty incident starts too.
    remediationSettings: {
      approvalTimeoutMs: config.remediation.approvalTimeoutMs,
      autoApproveLowRisk: config.remediation.autoApproveLowRisk,
    },
    workflowBundlePath: config.worker.workflowBundlePath,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    // The chat agent: its tools, the callers' integration settings, and the offline planner that
    // answers when no LLM is configured.
    chatTools: base.chat?.registry ?? null,
    resolveIntegration: base.chat?.resolveIntegration ?? null,
    chatPlanner: createOfflineChatPlanner(),
  });
}

/** The Temporal runtime's telemetry: its Prometheus exporter on INFRAAI_TEMPORAL_METRICS_ADDRESS, when set. */
export function runtimeTelemetryOptions(config: Config): { telemetryOptions?: { metrics: { prometheus: { bindAddress: string } } } } {
  const bindAddress = config.telemetry.temporalMetricsAddress;
  return bindAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress } } } } : {};
}

/** `npm run worker`: a standalone worker process (production, or beside `npm run api`). */
async function main(): Promise<void> {
  const { loadConfig } = await import('./config.js');
  const { createStore } = await import('./adapters/store/create.js');
  const { connectClient, connectWorker } = await import('./adapters/temporal/connection.js');
  const { resolveTemporalTarget } = await import('./launcher/stack.js');
  const { Runtime, DefaultLogger } = await import('@temporalio/worker');

  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger(config.logLevel === 'debug' ? 'DEBUG' : 'WARN'), ...runtimeTelemetryOptions(config) });
  const target = await resolveTemporalTarget(config);
  const store = await createStore(config.store);
  const { buildAdapters } = await import('./wiring.js');
  const adapters = await buildAdapters(config, store);
  const connection = await connectWorker({ ...config.temporal, ...target });
  // Chat tools start runs (remediation, automation, diagnosis) through a client, as the API does.
  const { client, connection: clientConnection } = await connectClient({ ...config.temporal, ...target });
  const { VERSION } = await import('./api/server.js');
  const { buildChatToolkit } = await import('./wiring.js');
  const chat = await buildChatToolkit(config, adapters, client, VERSION);
  const worker = await createConfiguredWorker(config, { connection, namespace: target.namespace, adapters, chat });
  const metricsServer = config.telemetry.workerMetricsPort === null ? null : await serveWorkerMetrics(config, adapters);
  console.log(
    `[infraai] worker ready: ${target.address} namespace ${target.namespace} task queue ${config.temporal.taskQueue} (pid ${process.pid})`,
  );
  try {
    // The Temporal runtime shuts the worker down on SIGINT/SIGTERM; run() resolves once it has drained.
    await worker.run();
  } finally {
    metricsServer?.close();
    await adapters.hostAccess.close?.();
    await adapters.vmActions?.close();
    await chat.close();
    await clientConnection.close();
    await connection.close();
    await adapters.events.close();
    await store.close();
  }
}

/**
 * The lone worker's own /metrics on INFRAAI_WORKER_METRICS_PORT: the runs it ends and the activity
 * failures it sees are counted in its process, not the API's (under `npm start` both share one registry).
 */
async function serveWorkerMetrics(config: Config, adapters: Adapters): Promise<{ close(): void }> {
  const { serve } = await import('@hono/node-server');
  const { metricsApp } = await import('./api/metrics.js');
  const app = metricsApp(adapters.telemetry, config.telemetry.metricsToken);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: config.api.host, port: config.telemetry.workerMetricsPort ?? 0 }, (info) => {
      console.log(`[infraai] worker metrics on http://${config.api.host}:${info.port}/metrics`);
      resolve({ close: () => server.close() });
    });
    server.once('error', reject);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`[infraai] worker failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
