import type { AuthEnv } from '../../api/auth.js';
import type { MiddlewareHandler } from 'hono';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { EncryptedCredentialVault, EncryptedSecretStore } from '../../adapters/secrets/encrypted-vault.js';
import { IntegrationSettingsService } from '../../tools/integration-settings.js';
import { createHostAccess } from '../../adapters/ssh/create.js';
import type { HostAccess } from '../../adapters/ssh/port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createStore } from '../../adapters/store/create.js';
import type { Role, Store } from '../../adapters/store/port.js';
import { createApiKey } from '../../api/api-keys.js';
import { createApp, type ApiDeps } from '../../api/app.js';
import { createAuthenticator } from '../../api/auth.js';
import type { AutomationToolkit } from '../../activities/automation/deps.js';
import type { CredentialVault } from '../../adapters/secrets/port.js';
import type { AutomationSettings } from '../../core/contracts/automation.js';
import {
  createTemporalAlertGateway,
  createTemporalAutomationGateway,
  createTemporalDiagnosisGateway,
  createTemporalIncidentGateway,
  createTemporalIngestionGateway,
  type AlertWorkflowGateway,
  type IncidentWorkflowGateway,
} from '../../api/temporal-gateway.js';
import { loadRunbooks } from '../../adapters/knowledge/runbook-files.js';
import type { JwtConfig } from '../../config.js';
import { createInfraWorker } from '../../worker.js';
import { LocalKnowledgeBase } from '../../adapters/knowledge/knowledge-base.js';
import type { LlmProvider } from '../../adapters/llm/port.js';
import type { EmbeddingProvider } from '../../adapters/llm/port.js';
import type { RemediationSettings } from '../../core/remediation.js';
import type { MetricsSource } from '../../adapters/metrics/port.js';
import type { Notifier, NotifyTenants } from '../../adapters/notify/port.js';
import type { KubernetesActions, KubernetesCluster } from '../../adapters/kubernetes/port.js';
import { DEFAULT_ALERT_SETTINGS, type AlertSettings } from '../../core/contracts/alerts.js';
import type { RunEventBus } from '../../adapters/events/port.js';
import type { EventQueue } from '../../adapters/queue/port.js';
import { storeRunCounts } from '../../adapters/telemetry/create.js';
import type { Telemetry } from '../../adapters/telemetry/port.js';
import { PrometheusTelemetry } from '../../adapters/telemetry/prometheus.js';
import { createPagerDutyRelayer, type PagerDutyRelayer } from '../../ingress/pagerduty-relay.js';
import { PAGERDUTY_WEBHOOK_RELAY_TIMEOUT_MS } from '../../api/webhooks/pagerduty.js';
import type { ChatPlanner, ResolveIntegration } from '../../activities/chat/index.js';
import { createTemporalChatGateway } from '../../api/chat-gateway.js';
import type { ChatSettings } from '../../core/contracts/chat.js';
import type { ToolRegistry } from '../../tools/registry.js';
import type { ProvisioningToolkit } from '../../activities/provisioning/deps.js';
import type { GitHost } from '../../adapters/git-host/port.js';
import type { ProvisionSettings } from '../../core/contracts/provisioning.js';
import { createTemporalProvisioningGateway } from '../../api/temporal-gateway.js';
import { connectTestClient, connectTestWorker, testTemporal, testWorkflowBundlePath, uniqueTaskQueue } from './temporal.js';

export interface TestStack {
  app: ReturnType<typeof createApp>;
  /** Shared by the API and the in-process worker, as under `npm start`. */
  telemetry: Telemetry;
  knowledge: LocalKnowledgeBase;
  vault: EncryptedCredentialVault;
  /** Integration settings over the stack's store, secrets sealed with the vault's key. */
  integrationSettings: IntegrationSettingsService;
  store: Store;
  client: Client;
  taskQueue: string;
  readonly worker: Worker | null;
  /** Starts the in-process worker (for tests that begin without one). */
  startWorker(): Promise<void>;
  /** Admin key of tenant `acme`. */
  adminKey: string;
  keyFor(tenantSlug: string, role: Role): Promise<string>;
  call(method: string, path: string, options?: { key?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The API in memory (app.request) over a real store and the test run's Temporal dev server,
 * optionally with an in-process worker on a task queue of its own.
 */
export async function startTestStack(
  options: {
    store?: Store;
    withWorker?: boolean;
    jwt?: JwtConfig | null;
    gateway?: (client: Client, taskQueue: string) => IncidentWorkflowGateway;
    inlineIngestLimitBytes?: number;
    bodyLimitBytes?: number;
    llm?: LlmProvider;
    kubernetes?: KubernetesCluster;
    embedder?: EmbeddingProvider;
    remediation?: RemediationSettings;
    maxConcurrentRemediations?: number;
    /** The key sealing credentials (a worker process given INFRAAI_SECRETS_KEY can then open them). */
    secretsKey?: Buffer;
    metrics?: MetricsSource;
    notifiers?: Notifier[];
    /** The tenants the notifiers serve (INFRAAI_NOTIFY_TENANTS); default: `acme`, the admin key's tenant. */
    notifyTenants?: NotifyTenants;
    /** Another Temporal server than the test run's (e.g. one the test restarts). */
    temporal?: { address: string; namespace: string };
    /** Where the API logs unexpected errors (default: nowhere). */
    log?: (line: string) => void;
    /** How the worker's activities reach hosts (default: SSH with the vault's credentials). */
    hostAccess?: HostAccess;
    /** The run-event bus of the API's streams and the in-process worker (default: none, streams poll). */
    events?: RunEventBus;
    /** Another bus for the worker (as a worker process would have its own connection); default: `events`. */
    workerEvents?: RunEventBus;
    sseMaxStreamMs?: number;
    /** Default: a registry of the stack's own with run gauges from its store. */
    telemetry?: Telemetry;
    /** INFRAAI_METRICS_TOKEN for GET /metrics. */
    metricsToken?: string;
    /** The worker's automation toolkit (fakes), the vault its runs take keys from, and the API's settings. */
    automation?: { toolkit: AutomationToolkit; vault?: CredentialVault; settings?: AutomationSettings; precheck?: boolean };
    /** The event queue of queueAdd and queueRemove (default: none, they answer 503). */
    queue?: EventQueue;
    /**
     * POST /api/v1/webhooks/pagerduty: its signing secrets, tenant (default `default`) and relayer
     * (default: the real one on the stack's client and task queue). Absent: the webhook answers 503.
     */
    pagerDuty?: { secrets: string[]; tenantSlug?: string; relayer?: (client: Client, taskQueue: string) => PagerDutyRelayer };
    /** What alert runs are started with (resolution wait, escalation); the worker's action adapters. */
    /** The chat agent: its tools, offline planner (used when `llm` is absent), settings and integration settings. */
    chat?: {
      /** A registry, or one built over this stack's store, client and task queue (the built-in tools start runs there). */
      tools?: ToolRegistry | ((parts: { store: Store; client: Client; taskQueue: string }) => ToolRegistry);
      planner?: ChatPlanner;
      settings?: ChatSettings;
      resolveIntegration?: ResolveIntegration;
      tokenFlushMs?: number;
      /** The limiter on POST /chat and /chat/async (api/rate-limit.ts). */
      rateLimit?: MiddlewareHandler<AuthEnv>;
    };
    alerts?: {
      settings?: Partial<Pick<AlertSettings, 'resolveWaitMs' | 'escalateUnmatched' | 'verifyTimeoutMs'>>;
      kubernetesActions?: KubernetesActions;
      /** Another gateway than the test run's Temporal (e.g. one that cannot reach it). */
      gateway?: (client: Client, taskQueue: string) => AlertWorkflowGateway;
    };
    /** The tool registry served at /mcp (default: none, /mcp is not mounted). */
    mcp?: ApiDeps['mcp'];
    /**
     * Provisioning: the toolkit (API and worker), the worker's git host, the runs' settings, the local
     * review (default: none, the review route answers 409) and the GitHub webhook's secrets.
     */
    provisioning?: {
      toolkit: ProvisioningToolkit;
      gitHost: GitHost | ((tenantId: string) => Promise<GitHost>);
      settings?: ProvisionSettings;
      localReview?: NonNullable<ApiDeps['provisioning']>['localReview'];
      gitHubWebhookSecrets?: string[];
    };
  } = {},
): Promise<TestStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-it-'));
  const store = options.store ?? (await createStore({ kind: 'pglite', dataDir }));
  const temporal = options.temporal ?? testTemporal();
  const telemetry = options.telemetry ?? new PrometheusTelemetry({ runCounts: () => storeRunCounts(store) });
  const { client, connection } = await connectTestClient(temporal);
  const taskQueue = uniqueTaskQueue('it');
  let workerConnection: NativeConnection | null = null;
  let worker: Worker | null = null;
  let workerRun: Promise<void> | null = null;
  // One key for the run: the API seals credentials, the worker's activities open them.
  const secretsKey = options.secretsKey ?? randomBytes(32);
  const vault = new EncryptedCredentialVault(store, secretsKey);
  const integrationSettings = new IntegrationSettingsService({
    settings: store.integrationSettings,
    secrets: new EncryptedSecretStore(store, secretsKey),
  });
  const chatTools = typeof options.chat?.tools === 'function' ? options.chat.tools({ store, client, taskQueue }) : options.chat?.tools;
  const startWorker = async () => {
    if (worker) return;
    workerConnection = await connectTestWorker(temporal);
    worker = await createInfraWorker({
      connection: workerConnection,
      namespace: temporal.namespace,
      taskQueue,
      store,
      ...(options.llm ? { llm: options.llm } : {}),
      ...(options.kubernetes ? { kubernetes: options.kubernetes } : {}),
      ...(options.embedder ? { embedder: options.embedder } : {}),
      hostAccess: options.hostAccess ?? createHostAccess({ vault, hostKeys: store.hostKeys, connectTimeoutMs: 5000 }),
      ...(options.maxConcurrentRemediations ? { maxConcurrentRemediations: options.maxConcurrentRemediations } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.notifiers
        ? { notifiers: options.notifiers, notifyTenants: options.notifyTenants ?? ['acme'], publicUrl: 'https://infraai.example.test' }
        : {}),
      telemetry,
      workflowBundlePath: testWorkflowBundlePath(),
      ...(options.workerEvents || options.events ? { events: (options.workerEvents ?? options.events)! } : {}),
      ...(options.automation ? { automation: options.automation.toolkit, vault: options.automation.vault ?? vault } : {}),
      ...(options.alerts?.kubernetesActions ? { kubernetesActions: options.alerts.kubernetesActions } : {}),
      ...(chatTools ? { chatTools } : {}),
      ...(options.chat?.planner ? { chatPlanner: options.chat.planner } : {}),
      ...(options.chat?.resolveIntegration ? { resolveIntegration: options.chat.resolveIntegration } : {}),
      ...(options.chat?.tokenFlushMs ? { chatTokenFlushMs: options.chat.tokenFlushMs } : {}),
      ...(options.provisioning ? { provisioning: options.provisioning.toolkit, gitHost: options.provisioning.gitHost } : {}),
    });
    workerRun = worker.run();
  };
  if (options.withWorker) await startWorker();
  const knowledge = new LocalKnowledgeBase(store, { embedder: options.embedder ?? null });
  const app = createApp({
    store,
    vault,
    integrationSettings,
    ...(options.remediation ? { remediation: options.remediation } : {}),
    knowledge,
    runbooks: await loadRunbooks(),
    diagnosis: createTemporalDiagnosisGateway(client, { taskQueue }),
    ingestion: createTemporalIngestionGateway(client, { taskQueue }),
    inlineIngestLimitBytes: options.inlineIngestLimitBytes ?? 128 * 1024,
    kubernetes: options.kubernetes ?? null,
    incidents: options.gateway ? options.gateway(client, taskQueue) : createTemporalIncidentGateway(client, { taskQueue }),
    automation: createTemporalAutomationGateway(client, { taskQueue }),
    ...(options.automation?.settings ? { automationSettings: options.automation.settings } : {}),
    ...(options.automation?.precheck ? { automationPrecheck: options.automation.toolkit.precheck ?? null } : {}),
    auth: createAuthenticator(store, options.jwt ?? null),
    version: 'test',
    bodyLimitBytes: options.bodyLimitBytes ?? 64 * 1024,
    uploadLimitBytes: 2 * 1024 * 1024,
    corsOrigins: [],
    ...(options.events ? { events: options.events } : {}),
    ...(options.sseMaxStreamMs ? { sseMaxStreamMs: options.sseMaxStreamMs } : {}),
    log: options.log ?? (() => undefined),
    telemetry,
    ...(options.metricsToken ? { metricsToken: options.metricsToken } : {}),
    ...(options.queue ? { queue: options.queue } : {}),
    ...(options.pagerDuty
      ? {
          pagerDutyWebhook: {
            secrets: options.pagerDuty.secrets,
            tenantSlug: options.pagerDuty.tenantSlug ?? 'default',
            relayer: options.pagerDuty.relayer
              ? options.pagerDuty.relayer(client, taskQueue)
              : createPagerDutyRelayer(client, {
                  taskQueue,
                  pagerDutyTenantSlug: options.pagerDuty.tenantSlug ?? 'default',
                  timeoutMs: PAGERDUTY_WEBHOOK_RELAY_TIMEOUT_MS,
                }),
          },
        }
      : {}),
    alerts: options.alerts?.gateway ? options.alerts.gateway(client, taskQueue) : createTemporalAlertGateway(client, { taskQueue }),
    chat: createTemporalChatGateway(client, { taskQueue }),
    ...(options.chat?.settings ? { chatSettings: options.chat.settings } : {}),
    ...(options.chat?.rateLimit ? { chatRateLimit: options.chat.rateLimit } : {}),
    ...(options.alerts?.settings ? { alertSettings: { ...DEFAULT_ALERT_SETTINGS, ...options.alerts.settings } } : {}),
    ...(options.mcp ? { mcp: options.mcp } : {}),
    ...(options.provisioning
      ? {
          provisioning: {
            workflows: createTemporalProvisioningGateway(client, { taskQueue }),
            toolkit: options.provisioning.toolkit,
            ...(options.provisioning.settings ? { settings: options.provisioning.settings } : {}),
            localReview: options.provisioning.localReview ?? null,
            gitHubWebhookSecrets: options.provisioning.gitHubWebhookSecrets ?? [],
          },
        }
      : {}),
  });
  const keyFor = async (tenantSlug: string, role: Role) => {
    const tenant = await store.tenants.ensure(tenantSlug);
    return (await createApiKey(store, { tenantId: tenant.id, name: `${role} test key`, role })).key;
  };
  const adminKey = await keyFor('acme', 'admin');
  return {
    app,
    telemetry,
    knowledge,
    vault,
    integrationSettings,
    store,
    client,
    taskQueue,
    get worker() {
      return worker;
    },
    startWorker,
    adminKey,
    keyFor,
    call: (method, path, { key = adminKey, body, headers = {} } = {}) =>
      Promise.resolve(
        app.request(path, {
          method,
          headers: {
            ...(key ? { authorization: `Bearer ${key}` } : {}),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...headers,
          },
          ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
        }),
      ),
    async close() {
      worker?.shutdown();
      await workerRun;
      await workerConnection?.close();
      await connection.close();
      if (!options.store) await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 150,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const sampleCmdbItem = (tagId: string) => ({
  tagId,
  instanceId: `i-${tagId}`,
  hostname: `${tagId}.example.internal`,
  address: '10.20.0.7',
  port: 22,
  environment: 'staging',
  owner: 'platform-team',
  os: 'linux',
  serviceManager: 'systemd',
  sshUser: 'ops',
  sshCredential: `${tagId}-key`,
  tags: { team: 'platform', tier: 'web' },
});
