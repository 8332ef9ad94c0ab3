import type { ProvisionSettings } from './core/contracts/provisioning.js';
import { gitHostConfigFromEnv, type GitHostConfig } from './adapters/git-host/create.js';
import type { AnsibleRunnerConfig } from './adapters/ansible-runner/create.js';
import type { EventBusConfig } from './adapters/events/create.js';
import type { NotifiersConfig } from './adapters/notify/create.js';
import type { NotifyTenants } from './adapters/notify/port.js';
import type { VsphereConfig } from './adapters/vsphere/create.js';
import type { EventQueueConfig } from './adapters/queue/create.js';
import type { McpServerSettings } from './adapters/mcp/port.js';
import { z } from 'zod';
import { TENANT_SLUG } from './core/tenant-slug.js';

/**
 * The one place that reads the environment. Everything else receives the frozen, typed result,
 * so a misconfiguration fails at start with a message naming the variable.
 */
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const port = (fallback: number | undefined) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) {
        ctx.addIssue({ code: 'custom', message: `must be a port number (0-65535), got '${value}'` });
        return z.NEVER;
      }
      return parsed;
    });

const positiveInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed <= 0) {
        ctx.addIssue({ code: 'custom', message: `must be a positive integer, got '${value}'` });
        return z.NEVER;
      }
      return parsed;
    });

const nonNegativeInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < 0) {
        ctx.addIssue({ code: 'custom', message: `must be a non-negative integer, got '${value}'` });
        return z.NEVER;
      }
      return parsed;
    });
/** A count where 0 means something (e.g. a cache switched off); unset is undefined. */
const optionalCount = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === '') return undefined;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number (0 or more), got '${value}'` });
      return z.NEVER;
    }
    return parsed;
  });

const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const normalised = value.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(normalised)) return true;
      if (['0', 'false', 'no', 'off'].includes(normalised)) return false;
      ctx.addIssue({ code: 'custom', message: `must be true or false, got '${value}'` });
      return z.NEVER;
    });

/** A comma-separated list; unset is empty. */
const list = (value: string | undefined): string[] =>
  value
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : [];

/** `*` (every tenant) or comma-separated tenant slugs; unset is undefined (the caller's default). */
const tenantSlugsOrAll = optionalString.transform((value, ctx): NotifyTenants | undefined => {
  if (value === undefined) return undefined;
  if (value === '*') return '*';
  const slugs = list(value);
  const bad = slugs.filter((slug) => !TENANT_SLUG.test(slug));
  if (slugs.length === 0 || bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `must be * (every tenant) or comma-separated tenant slugs (lower-case letters, digits, _ and -), got '${value}'`,
    });
    return z.NEVER;
  }
  return [...new Set(slugs)];
});

/** One external MCP server in INFRAAI_MCP_SERVERS (adapters/mcp/port.ts McpServerSettings). */
const mcpServerSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,23}$/, 'must be 1-24 lower-case letters, digits or _, starting with a letter'),
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name'), z.string()).default({}),
  bearerToken: z.string().min(1).optional(),
  allowMutating: z.array(z.string().min(1)).default([]),
  timeoutMs: z.number().int().positive().default(30_000),
});

const mcpServers = optionalString
  .transform((value, ctx): unknown => {
    if (value === undefined) return [];
    try {
      return JSON.parse(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of servers: [{"name":"docs","url":"https://…/mcp"}]' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(mcpServerSchema)
      .refine((servers) => new Set(servers.map((server) => server.name)).size === servers.length, 'server names must be unique'),
  );

const envSchema = z.object({
  PORT: port(8000),
  HOST: optionalString.transform((v) => v ?? '127.0.0.1'),
  INFRAAI_DATA_DIR: optionalString.transform((v) => v ?? '.data'),
  INFRAAI_API_KEY: optionalString,
  INFRAAI_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).optional().default('info'),
  INFRAAI_BODY_LIMIT_BYTES: positiveInt(1024 * 1024),
  // An event stream is closed after this long (the client reconnects with Last-Event-ID and loses nothing).
  INFRAAI_SSE_MAX_STREAM_MS: positiveInt(30 * 60_000),
  INFRAAI_UPLOAD_LIMIT_BYTES: positiveInt(20 * 1024 * 1024),
  // Documents with more text than this are ingested by a workflow (202 + progress) instead of in the request.
  INFRAAI_INLINE_INGEST_LIMIT_BYTES: positiveInt(128 * 1024),
  INFRAAI_PUBLIC_URL: optionalString,
  // How long a verified API key or JWT is trusted without a store lookup; 0 looks up every request.
  INFRAAI_AUTH_CACHE_TTL_MS: nonNegativeInt(5000),
  // How long a run read may be answered from memory at most (a change drops it at once); 0: never.
  INFRAAI_READ_CACHE_TTL_MS: nonNegativeInt(1000),
  INFRAAI_CORS_ORIGINS: optionalString.transform((v) =>
    v
      ? v
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean)
      : [],
  ),

  DATABASE_URL: optionalString,
  REDIS_URL: optionalString,
  // Chat requests per minute: one user's, and all users of a tenant together (0: no limit).
  INFRAAI_CHAT_RATE_PER_MINUTE: nonNegativeInt(20),
  INFRAAI_CHAT_TENANT_RATE_PER_MINUTE: nonNegativeInt(200),
  INFRAAI_EVENT_BUS: z.enum(['auto', 'memory', 'postgres', 'redis']).optional().default('auto'),
  SUPABASE_URL: optionalString,
  SUPABASE_KEY: optionalString,

  TEMPORAL_ADDRESS: optionalString,
  INFRAAI_WORKFLOW_BUNDLE: optionalString,
  INFRAAI_WORKER_MAX_CACHED_WORKFLOWS: optionalCount,
  TEMPORAL_NAMESPACE: optionalString,
  TEMPORAL_TASK_QUEUE: optionalString.transform((v) => v ?? 'infraai'),
  TEMPORAL_TLS: bool(false),
  TEMPORAL_TLS_CLIENT_CERT_PATH: optionalString,
  TEMPORAL_TLS_CLIENT_KEY_PATH: optionalString,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalString,
  TEMPORAL_TLS_SERVER_NAME: optionalString,
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_CLI_PATH: optionalString,
  TEMPORAL_DEV_CONFIG: optionalString.transform((v) => v ?? 'temporal-dev.yaml'),
  TEMPORAL_DEV_PORT: port(undefined),
  TEMPORAL_DEV_UI_PORT: port(undefined),

  INFRAAI_KUBECONFIG: optionalString,
  // Self-healing actions on the cluster (restart_pod, scale_deployment): namespaces allowed (empty: all), replica bound.
  INFRAAI_KUBE_ACTION_NAMESPACES: optionalString.transform(list),
  INFRAAI_KUBE_MAX_REPLICAS: positiveInt(50),
  // vCenter for restart_vm (adapters/vsphere); the password is never logged.
  INFRAAI_VSPHERE_URL: optionalString.pipe(z.url().optional()),
  INFRAAI_VSPHERE_USERNAME: optionalString,
  INFRAAI_VSPHERE_PASSWORD: optionalString,
  INFRAAI_VSPHERE_INSECURE_TLS: bool(false),
  INFRAAI_VSPHERE_CA_FILE: optionalString,
  INFRAAI_EMBEDDINGS_BASE_URL: optionalString.pipe(z.url().optional()),
  INFRAAI_EMBEDDINGS_MODEL: optionalString,
  INFRAAI_EMBEDDINGS_API_KEY: optionalString,
  // 32-byte key sealing SSH credentials (base64 or hex); unset: generated into <data dir>/secrets.key.
  INFRAAI_SECRETS_KEY: optionalString,
  INFRAAI_APPROVAL_TIMEOUT_SECONDS: positiveInt(1800),
  INFRAAI_AUTO_APPROVE_LOW_RISK: bool(true),
  INFRAAI_MAX_CONCURRENT_REMEDIATIONS: positiveInt(5),
  INFRAAI_ALLOW_REBOOT: bool(false),
  // Ansible automation runs (workflows/automation/README.md).
  INFRAAI_AUTOMATION_APPROVAL_TIMEOUT_SECONDS: positiveInt(1800),
  INFRAAI_AUTOMATION_RUN_TIMEOUT_SECONDS: positiveInt(1800),
  INFRAAI_AUTOMATION_MAX_HOST_LEASES: positiveInt(50),
  // Infrastructure provisioning (workflows/provisioning/README.md): how long an open pull request is
  // waited on, the reminder before that deadline (0: none), how often the git host is polled when no
  // webhook arrives; POST /api/v1/webhooks/github's signing secrets (comma-separated; several while
  // one rotates; none: the webhook answers 503).
  INFRAAI_PROVISION_REVIEW_TIMEOUT_SECONDS: positiveInt(7 * 24 * 3600),
  INFRAAI_PROVISION_REMINDER_BEFORE_SECONDS: nonNegativeInt(24 * 3600),
  INFRAAI_PROVISION_POLL_SECONDS: positiveInt(900),
  INFRAAI_GITHUB_WEBHOOK_SECRETS: optionalString.transform(list),
  // The organisation's conventions (tags, naming, sizes, production rules) over the defaults of
  // core/provisioning/conventions.ts, as a JSON or YAML file; Checkov: `auto` (the project's
  // .data/checkov-venv, else `checkov` on PATH, else none), `off`, or the executable's path. The git
  // host is read by adapters/git-host/create.ts (INFRAAI_GIT_HOST, INFRAAI_GIT_LOCAL_REPO, …).
  INFRAAI_PROVISION_CONVENTIONS: optionalString,
  INFRAAI_CHECKOV: z.string().trim().min(1).default('auto'),
  // Alertmanager alerts and self-healing policies (workflows/alerts/README.md).
  INFRAAI_ALERTS_ESCALATE_UNMATCHED: bool(false),
  INFRAAI_ALERTS_RESOLVE_WAIT_SECONDS: positiveInt(3600),
  INFRAAI_ALERTS_VERIFY_TIMEOUT_SECONDS: positiveInt(30),
  // How often the API closes jobs whose alert run ended without closing them (terminated); 0: never.
  INFRAAI_ALERTS_RECONCILE_SECONDS: nonNegativeInt(60),
  // Renewed every third of it while a run changes the host; below 3 s a renewal could not keep up.
  INFRAAI_HOST_LEASE_TTL_MS: positiveInt(15 * 60_000).refine((ms) => ms >= 3000, 'must be at least 3000 (ms)'),
  // SSH connections kept open between a run's steps (adapters/ssh/session-pool.ts); 0: one per step.
  INFRAAI_SSH_IDLE_MS: nonNegativeInt(30_000),
  INFRAAI_SSH_POOL_MAX_IDLE: positiveInt(32),
  INFRAAI_PROMETHEUS_URL: optionalString.pipe(z.url().optional()),
  // Our own /metrics (see adapters/telemetry): bearer token, the Temporal SDK exporter, the lone worker's port.
  INFRAAI_METRICS_TOKEN: optionalString,
  INFRAAI_TEMPORAL_METRICS_ADDRESS: optionalString.pipe(
    z
      .string()
      .regex(/^(?:\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9465')
      .optional(),
  ),
  INFRAAI_WORKER_METRICS_PORT: port(undefined),
  SERVICENOW_INSTANCE_URL: optionalString.pipe(z.url().optional()),
  SERVICENOW_USERNAME: optionalString,
  SERVICENOW_PASSWORD: optionalString,
  SERVICENOW_TOKEN: optionalString,
  SERVICENOW_ASSIGNMENT_GROUP: optionalString,
  PAGERDUTY_API_KEY: optionalString,
  PAGERDUTY_FROM_EMAIL: optionalString,
  PAGERDUTY_ROUTING_KEY: optionalString,
  // The tenants whose incident outcomes and alert notices those notifiers take: they act with the
  // deployment's credentials, so another tenant must not reach them. Unset: the PagerDuty tenant.
  INFRAAI_NOTIFY_TENANTS: tenantSlugsOrAll,
  INFISICAL_SITE_URL: optionalString.pipe(z.url().optional()),
  INFISICAL_CLIENT_ID: optionalString,
  INFISICAL_CLIENT_SECRET: optionalString,
  INFISICAL_PROJECT_ID: optionalString,
  INFISICAL_ENVIRONMENT: optionalString,
  INFISICAL_SECRET_PATH: optionalString,
  INFRAAI_PROMETHEUS_TOKEN: optionalString,
  PINECONE_API_KEY: optionalString,
  PINECONE_INDEX: optionalString,
  PINECONE_INDEX_HOST: optionalString.pipe(z.url().optional()),
  PINECONE_NAMESPACE: optionalString,
  INFRAAI_LLM_PROVIDER: z.enum(['openai-compatible', 'anthropic', 'none']).optional(),
  INFRAAI_LLM_MODEL: optionalString,
  INFRAAI_LLM_BASE_URL: optionalString.pipe(z.url().optional()),
  INFRAAI_LLM_API_KEY: optionalString,
  INFRAAI_LLM_TIMEOUT_MS: positiveInt(60_000),
  OPENROUTER_API_KEY: optionalString,
  openrouter: optionalString,
  OPENROUTER_MODEL: optionalString,
  OPENAI_API_KEY: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  INFRAAI_JWT_JWKS_URL: optionalString.pipe(z.url().optional()),
  INFRAAI_JWT_PUBLIC_KEY: optionalString,
  INFRAAI_JWT_ISSUER: optionalString,
  INFRAAI_JWT_AUDIENCE: optionalString,
  INFRAAI_JWT_TENANT_CLAIM: optionalString.transform((v) => v ?? 'tenant'),
  INFRAAI_JWT_ROLE_CLAIM: optionalString.transform((v) => v ?? 'role'),
  INFRAAI_JWT_DEFAULT_ROLE: z.enum(['admin', 'operator', 'viewer']).optional().default('operator'),
  // Where playbooks run (adapters/ansible-runner): the embedded local runner, or ECS Fargate.
  INFRAAI_ANSIBLE_RUNNER: z.enum(['local', 'ecs']).optional().default('local'),
  INFRAAI_ANSIBLE_WORKSPACE_DIR: optionalString,
  INFRAAI_ANSIBLE_RUNNER_BIN: optionalString.transform((v) => v ?? '/usr/bin/ansible-runner'),
  INFRAAI_ECS_CLUSTER: optionalString,
  INFRAAI_ECS_TASK_DEFINITION: optionalString,
  INFRAAI_ECS_SUBNETS: optionalString.transform(list),
  INFRAAI_ECS_SECURITY_GROUPS: optionalString.transform(list),
  INFRAAI_ECS_ASSIGN_PUBLIC_IP: bool(false),
  INFRAAI_ECS_CONTAINER_NAME: optionalString.transform((v) => v ?? 'ansible-runner'),
  INFRAAI_ECS_ARTIFACT_BUCKET: optionalString,
  INFRAAI_ECS_LOG_GROUP: optionalString,
  INFRAAI_ECS_LOG_STREAM_PREFIX: optionalString.transform((v) => v ?? 'ansible-runner'),
  INFRAAI_ECS_POLL_MS: positiveInt(5000),
  // The SQS queue PagerDuty events travel on (POST /api/v1/queueAdd, the bridge), and its dead-letter queue.
  INFRAAI_SQS_QUEUE_URL: optionalString.pipe(z.url().optional()),
  INFRAAI_SQS_DLQ_URL: optionalString.pipe(z.url().optional()),
  INFRAAI_SQS_REGION: optionalString,
  AWS_REGION: optionalString,
  AWS_DEFAULT_REGION: optionalString,
  AWS_ENDPOINT_URL: optionalString.pipe(z.url().optional()),
  // The SQS bridge (`npm run bridge`, bridge/): relays the queue's PagerDuty events into Temporal.
  INFRAAI_BRIDGE_CONCURRENCY: positiveInt(32),
  // Long polls open at once: with more than one, messages keep coming while one receive is answered.
  INFRAAI_BRIDGE_POLLERS: positiveInt(1).refine((n) => n <= 10, 'must be 1 to 10'),
  INFRAAI_BRIDGE_VISIBILITY_SECONDS: positiveInt(60).refine(
    (s) => s >= 3 && s <= 43200,
    'must be 3 to 43200 (seconds; renewed every third of it)',
  ),
  INFRAAI_BRIDGE_MAX_ATTEMPTS: positiveInt(5),
  INFRAAI_BRIDGE_WAIT_SECONDS: positiveInt(20).refine((s) => s <= 20, 'must be 1 to 20 (seconds of SQS long polling)'),
  INFRAAI_BRIDGE_SHUTDOWN_SECONDS: positiveInt(30),
  INFRAAI_BRIDGE_PORT: port(3002),
  // POST /api/v1/webhooks/pagerduty: the signing secrets of the webhook subscription (comma-separated;
  // several while one rotates) and the tenant whose incidents the events become
  // (also the tenant of a queued event that names none: PagerDuty's own relay, EventBridge).
  INFRAAI_PAGERDUTY_WEBHOOK_SECRETS: optionalString.transform(list),
  // External MCP servers whose tools chat may use (a JSON array, see README), and how long an MCP
  // client's proposal of a change waits for its confirmation at /mcp.
  INFRAAI_MCP_SERVERS: mcpServers,
  INFRAAI_MCP_PROPOSAL_TTL_SECONDS: positiveInt(600),
  INFRAAI_PAGERDUTY_TENANT: optionalString.pipe(
    z.string().regex(TENANT_SLUG, 'must be a tenant slug (lower-case letters, digits, _ and -)').optional(),
  ),
});

export type StoreConfig =
  { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string } | { kind: 'supabase'; url: string; key: string };

export interface TemporalConnectionConfig {
  /** Null: the launcher starts the embedded dev server and fills the address in. */
  address: string | null;
  namespace: string | null;
  taskQueue: string;
  tls: { clientCertPath?: string; clientKeyPath?: string; serverCaCertPath?: string; serverName?: string } | null;
  apiKey: string | null;
}

export interface LlmConfig {
  provider: 'openai-compatible' | 'anthropic';
  model: string;
  baseUrl: string | null;
  apiKey: string;
  timeoutMs: number;
}

export interface JwtConfig {
  jwksUrl: string | null;
  publicKeyPem: string | null;
  issuer: string | null;
  audience: string | null;
  tenantClaim: string;
  roleClaim: string;
  defaultRole: 'admin' | 'operator' | 'viewer';
}

export interface Config {
  api: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    uploadLimitBytes: number;
    inlineIngestLimitBytes: number;
    publicUrl: string | null;
    corsOrigins: string[];
    /** How long one Server-Sent Events stream stays open before the server closes it. */
    sseMaxStreamMs: number;
    /** A key revoked through another process is still accepted here for at most this long. */
    authCacheTtlMs: number;
    /** A run read is answered from memory for at most this long; a change to the run drops it at once. */
    readCacheTtlMs: number;
  };
  dataDir: string;
  bootstrapApiKey: string | null;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  store: StoreConfig;
  /** Where run-event notices travel between processes (SSE streams); memory serves one process. */
  eventBus: EventBusConfig;
  /**
   * Request rates per minute (api/rate-limit.ts), per user and per tenant; 0: no limit. Counted in
   * Redis when REDIS_URL is set (every API process together), else in each process's memory.
   */
  rateLimits: { redisUrl: string | null; chat: { perUserPerMinute: number; perTenantPerMinute: number } };
  temporal: TemporalConnectionConfig;
  devServer: { cliPath: string | null; configFile: string; port: number | null; uiPort: number | null };
  /** maxCachedWorkflows null: the Temporal SDK's default (sized from the heap limit). */
  worker: { workflowBundlePath: string | null; maxCachedWorkflows: number | null };
  jwt: JwtConfig | null;
  /** Null: the runbook planner reasons alone. */
  llm: LlmConfig | null;
  /** Embeddings endpoint for hybrid knowledge search; null: lexical (BM25) only. */
  embeddings: { baseUrl: string | null; model: string; apiKey: string } | null;
  /** Remediation policy: approval wait, what runs without a human, concurrency. */
  remediation: {
    approvalTimeoutMs: number;
    autoApproveLowRisk: boolean;
    maxConcurrent: number;
    allowReboot: boolean;
    hostLeaseTtlMs: number;
  };
  /** Ansible automation runs: how long a real run waits for approval, how long a playbook may run, hosts leased at once. */
  automation: { approvalTimeoutMs: number; runTimeoutMs: number; maxHostLeases: number };
  /** Provisioning runs: the review wait (deadline, reminder, polling) and the GitHub webhook's signing secrets. */
  provisioning: ProvisionSettings & {
    gitHubWebhookSecrets: string[];
    /** The conventions file (null: the defaults). */
    conventionsFile: string | null;
    /** `auto`, `off`, or the checkov executable's path. */
    checkov: string;
    gitHost: GitHostConfig;
  };
  /**
   * Alert runs: whether an alert no policy matched is escalated to an incident (when its host is in
   * the CMDB), how long a run waits for the resolved notification after acting, how long an
   * ssh_command's verify is retried.
   */
  alerts: { escalateUnmatched: boolean; resolveWaitMs: number; verifyTimeoutMs: number; reconcileEveryMs: number };
  /** What this process exports at /metrics (adapters/telemetry); unrelated to the Prometheus queried below. */
  telemetry: {
    /** Null: /metrics answers anyone who reaches it. */
    metricsToken: string | null;
    /** Where the Temporal SDK's Prometheus exporter binds (host:port); null: not exported. */
    temporalMetricsAddress: string | null;
    /** `npm run worker` serves its own /metrics here; null: not served. */
    workerMetricsPort: number | null;
  };
  /** SSH connections reused across steps: how long one stays open unused (0: never reused), how many are kept. */
  ssh: { idleMs: number; maxIdle: number };
  /** Prometheus queried for the target's metrics before diagnostics; null: no metrics step. */
  prometheus: { url: string; token: string | null } | null;
  /** Where incident outcomes are posted (see adapters/notify). */
  notifiers: NotifiersConfig;
  /** The tenants those notifiers serve: `*` every one, else these slugs (default: the PagerDuty tenant). */
  notifyTenants: NotifyTenants;
  /** Infisical holds SSH credentials instead of the embedded encrypted store. */
  infisical: {
    siteUrl: string;
    clientId: string;
    clientSecret: string;
    projectId: string;
    environment: string;
    secretPath: string | null;
  } | null;
  /** How SSH credentials are sealed at rest (see adapters/secrets/credential-vault.ts). */
  secrets: { key: string | null; keyFile: string };
  /** Pinecone holds the chunk vectors instead of the store (needs embeddings); null: in-process ranking. */
  pinecone: { apiKey: string; indexName: string; indexHost: string | null; namespace: string | null } | null;
  /** INFRAAI_KUBECONFIG: kubeconfig for Kubernetes collection and cluster health; null when none. */
  kubeconfigPath: string | null;
  /** What self-healing actions may do on that cluster: namespaces (empty: all) and the largest replica count. */
  kubernetesActions: { namespaces: string[]; maxReplicas: number };
  /** vCenter for VM restarts (adapters/vsphere); null: restart_vm is unavailable. */
  vsphere: VsphereConfig | null;
  /** Where Ansible playbooks run (see adapters/ansible-runner). */
  ansibleRunner: AnsibleRunnerConfig;
  /** The SQS queue of PagerDuty events (see adapters/queue); null: none (the queue endpoints answer 503). */
  eventQueue: EventQueueConfig | null;
  /** PagerDuty's events: the webhook's signing secrets (none: the webhook answers 503) and the tenant they belong to when nothing names one. */
  pagerDuty: { webhookSecrets: string[]; tenantSlug: string };
  /** The SQS bridge (bridge/): how it polls, holds and gives up on the event queue's messages. */
  bridge: BridgeConfig;
  /**
   * MCP: external servers whose tools chat may use (read-only unless their `allowMutating` lists a
   * tool), and how long a change proposed to an MCP client of /mcp waits for its confirmation.
   */
  mcp: { servers: McpServerSettings[]; proposalTtlMs: number };
}

export interface BridgeConfig {
  /** Messages relayed at once (and held at once, before the next receive). */
  concurrency: number;
  pollers: number;
  /** How long a received message stays invisible; renewed every third of it while it is worked on. */
  visibilitySeconds: number;
  /** Receives after which a message whose relay keeps failing (not Temporal being down) goes to the dead-letter queue. */
  maxAttempts: number;
  /** Long-poll wait (1 to 20 s); liveness fails when no poll completed for three times this long. */
  waitSeconds: number;
  /** On SIGTERM, how long the messages in flight may take to finish before they are released. */
  shutdownGraceMs: number;
  /** Health and metrics server (/healthz, /readyz, /metrics) on HOST; 0 picks a free port. */
  port: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;

  let store: StoreConfig;
  if (e.DATABASE_URL) {
    store = { kind: 'postgres', url: e.DATABASE_URL };
  } else if (e.SUPABASE_URL || e.SUPABASE_KEY) {
    if (!e.SUPABASE_URL || !e.SUPABASE_KEY) {
      throw new ConfigError('Invalid configuration:\n  SUPABASE_URL and SUPABASE_KEY must be set together');
    }
    store = { kind: 'supabase', url: e.SUPABASE_URL, key: e.SUPABASE_KEY };
  } else {
    store = { kind: 'pglite', dataDir: `${e.INFRAAI_DATA_DIR}/pglite` };
  }

  let eventBus: EventBusConfig;
  const busKind = e.INFRAAI_EVENT_BUS === 'auto' ? (e.REDIS_URL ? 'redis' : e.DATABASE_URL ? 'postgres' : 'memory') : e.INFRAAI_EVENT_BUS;
  if (busKind === 'redis') {
    if (!e.REDIS_URL) throw new ConfigError('Invalid configuration:\n  INFRAAI_EVENT_BUS=redis needs REDIS_URL');
    eventBus = { kind: 'redis', url: e.REDIS_URL };
  } else if (busKind === 'postgres') {
    if (!e.DATABASE_URL) throw new ConfigError('Invalid configuration:\n  INFRAAI_EVENT_BUS=postgres needs DATABASE_URL');
    eventBus = { kind: 'postgres', url: e.DATABASE_URL };
  } else {
    eventBus = { kind: 'memory' };
  }

  const tlsWanted = e.TEMPORAL_TLS || e.TEMPORAL_TLS_CLIENT_CERT_PATH || e.TEMPORAL_TLS_CLIENT_KEY_PATH || e.TEMPORAL_API_KEY;
  if (Boolean(e.TEMPORAL_TLS_CLIENT_CERT_PATH) !== Boolean(e.TEMPORAL_TLS_CLIENT_KEY_PATH)) {
    throw new ConfigError('Invalid configuration:\n  TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH must be set together');
  }
  if (!e.TEMPORAL_ADDRESS && tlsWanted) {
    throw new ConfigError('Invalid configuration:\n  Temporal TLS or API key options need TEMPORAL_ADDRESS');
  }

  if (e.PINECONE_API_KEY && !e.PINECONE_INDEX) {
    throw new ConfigError('Invalid configuration:\n  PINECONE_API_KEY needs PINECONE_INDEX (the index that holds the knowledge vectors)');
  }
  if (e.PINECONE_API_KEY && !(e.INFRAAI_EMBEDDINGS_BASE_URL || e.INFRAAI_EMBEDDINGS_MODEL || e.INFRAAI_EMBEDDINGS_API_KEY)) {
    throw new ConfigError(
      'Invalid configuration:\n  PINECONE_API_KEY needs an embeddings endpoint (INFRAAI_EMBEDDINGS_BASE_URL / _MODEL / _API_KEY) to compute the vectors it stores',
    );
  }
  if (e.SERVICENOW_INSTANCE_URL && !e.SERVICENOW_TOKEN && !(e.SERVICENOW_USERNAME && e.SERVICENOW_PASSWORD)) {
    throw new ConfigError(
      'Invalid configuration:\n  SERVICENOW_INSTANCE_URL needs SERVICENOW_TOKEN, or SERVICENOW_USERNAME and SERVICENOW_PASSWORD',
    );
  }
  if (e.PAGERDUTY_API_KEY && !e.PAGERDUTY_FROM_EMAIL) {
    throw new ConfigError(
      'Invalid configuration:\n  PAGERDUTY_API_KEY needs PAGERDUTY_FROM_EMAIL (the PagerDuty user notes are written as)',
    );
  }
  if (e.INFISICAL_CLIENT_ID && !(e.INFISICAL_CLIENT_SECRET && e.INFISICAL_PROJECT_ID)) {
    throw new ConfigError('Invalid configuration:\n  INFISICAL_CLIENT_ID needs INFISICAL_CLIENT_SECRET and INFISICAL_PROJECT_ID');
  }
  if (
    (e.INFRAAI_VSPHERE_URL || e.INFRAAI_VSPHERE_USERNAME || e.INFRAAI_VSPHERE_PASSWORD) &&
    !(e.INFRAAI_VSPHERE_URL && e.INFRAAI_VSPHERE_USERNAME && e.INFRAAI_VSPHERE_PASSWORD)
  ) {
    throw new ConfigError(
      'Invalid configuration:\n  INFRAAI_VSPHERE_URL, INFRAAI_VSPHERE_USERNAME and INFRAAI_VSPHERE_PASSWORD must be set together',
    );
  }
  const ansibleRunner = resolveAnsibleRunner(e);
  const eventQueue = resolveEventQueue(e);
  const jwtConfigured = e.INFRAAI_JWT_JWKS_URL || e.INFRAAI_JWT_PUBLIC_KEY;
  const llm = resolveLlm(e);
  // The default tenant is the one npm start's bootstrap key belongs to (api/api-keys.ts DEFAULT_TENANT_SLUG).
  const pagerDutyTenantSlug = e.INFRAAI_PAGERDUTY_TENANT ?? 'default';
  const config: Config = {
    api: {
      host: e.HOST,
      port: e.PORT ?? 8000,
      bodyLimitBytes: e.INFRAAI_BODY_LIMIT_BYTES,
      uploadLimitBytes: e.INFRAAI_UPLOAD_LIMIT_BYTES,
      inlineIngestLimitBytes: e.INFRAAI_INLINE_INGEST_LIMIT_BYTES,
      publicUrl: e.INFRAAI_PUBLIC_URL ?? null,
      corsOrigins: e.INFRAAI_CORS_ORIGINS,
      sseMaxStreamMs: e.INFRAAI_SSE_MAX_STREAM_MS,
      authCacheTtlMs: e.INFRAAI_AUTH_CACHE_TTL_MS,
      readCacheTtlMs: e.INFRAAI_READ_CACHE_TTL_MS,
    },
    dataDir: e.INFRAAI_DATA_DIR,
    bootstrapApiKey: e.INFRAAI_API_KEY ?? null,
    logLevel: e.INFRAAI_LOG_LEVEL,
    store,
    eventBus,
    rateLimits: {
      redisUrl: e.REDIS_URL ?? null,
      chat: { perUserPerMinute: e.INFRAAI_CHAT_RATE_PER_MINUTE, perTenantPerMinute: e.INFRAAI_CHAT_TENANT_RATE_PER_MINUTE },
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS ?? null,
      namespace: e.TEMPORAL_NAMESPACE ?? null,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      tls: tlsWanted
        ? {
            ...(e.TEMPORAL_TLS_CLIENT_CERT_PATH ? { clientCertPath: e.TEMPORAL_TLS_CLIENT_CERT_PATH } : {}),
            ...(e.TEMPORAL_TLS_CLIENT_KEY_PATH ? { clientKeyPath: e.TEMPORAL_TLS_CLIENT_KEY_PATH } : {}),
            ...(e.TEMPORAL_TLS_SERVER_CA_CERT_PATH ? { serverCaCertPath: e.TEMPORAL_TLS_SERVER_CA_CERT_PATH } : {}),
            ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverName: e.TEMPORAL_TLS_SERVER_NAME } : {}),
          }
        : null,
      apiKey: e.TEMPORAL_API_KEY ?? null,
    },
    devServer: {
      cliPath: e.TEMPORAL_CLI_PATH ?? null,
      configFile: e.TEMPORAL_DEV_CONFIG,
      port: e.TEMPORAL_DEV_PORT ?? null,
      uiPort: e.TEMPORAL_DEV_UI_PORT ?? null,
    },
    worker: { workflowBundlePath: e.INFRAAI_WORKFLOW_BUNDLE ?? null, maxCachedWorkflows: e.INFRAAI_WORKER_MAX_CACHED_WORKFLOWS ?? null },
    llm,
    kubeconfigPath: e.INFRAAI_KUBECONFIG ?? null,
    kubernetesActions: { namespaces: e.INFRAAI_KUBE_ACTION_NAMESPACES, maxReplicas: e.INFRAAI_KUBE_MAX_REPLICAS },
    vsphere: e.INFRAAI_VSPHERE_URL
      ? {
          url: e.INFRAAI_VSPHERE_URL,
          username: e.INFRAAI_VSPHERE_USERNAME!,
          password: e.INFRAAI_VSPHERE_PASSWORD!,
          insecureTls: e.INFRAAI_VSPHERE_INSECURE_TLS,
          caFile: e.INFRAAI_VSPHERE_CA_FILE ?? null,
        }
      : null,
    ansibleRunner,
    eventQueue,
    bridge: {
      concurrency: e.INFRAAI_BRIDGE_CONCURRENCY,
      pollers: e.INFRAAI_BRIDGE_POLLERS,
      visibilitySeconds: e.INFRAAI_BRIDGE_VISIBILITY_SECONDS,
      maxAttempts: e.INFRAAI_BRIDGE_MAX_ATTEMPTS,
      waitSeconds: e.INFRAAI_BRIDGE_WAIT_SECONDS,
      shutdownGraceMs: e.INFRAAI_BRIDGE_SHUTDOWN_SECONDS * 1000,
      port: e.INFRAAI_BRIDGE_PORT ?? 3002,
    },
    pagerDuty: { webhookSecrets: e.INFRAAI_PAGERDUTY_WEBHOOK_SECRETS, tenantSlug: pagerDutyTenantSlug },
    mcp: {
      servers: e.INFRAAI_MCP_SERVERS.map((server) => ({ ...server, bearerToken: server.bearerToken ?? null })),
      proposalTtlMs: e.INFRAAI_MCP_PROPOSAL_TTL_SECONDS * 1000,
    },
    remediation: {
      approvalTimeoutMs: e.INFRAAI_APPROVAL_TIMEOUT_SECONDS * 1000,
      autoApproveLowRisk: e.INFRAAI_AUTO_APPROVE_LOW_RISK,
      maxConcurrent: e.INFRAAI_MAX_CONCURRENT_REMEDIATIONS,
      allowReboot: e.INFRAAI_ALLOW_REBOOT,
      hostLeaseTtlMs: e.INFRAAI_HOST_LEASE_TTL_MS,
    },
    automation: {
      approvalTimeoutMs: e.INFRAAI_AUTOMATION_APPROVAL_TIMEOUT_SECONDS * 1000,
      runTimeoutMs: e.INFRAAI_AUTOMATION_RUN_TIMEOUT_SECONDS * 1000,
      maxHostLeases: e.INFRAAI_AUTOMATION_MAX_HOST_LEASES,
    },
    provisioning: {
      reviewTimeoutMs: e.INFRAAI_PROVISION_REVIEW_TIMEOUT_SECONDS * 1000,
      reminderBeforeMs: e.INFRAAI_PROVISION_REMINDER_BEFORE_SECONDS * 1000,
      pollIntervalMs: e.INFRAAI_PROVISION_POLL_SECONDS * 1000,
      gitHubWebhookSecrets: e.INFRAAI_GITHUB_WEBHOOK_SECRETS,
      conventionsFile: e.INFRAAI_PROVISION_CONVENTIONS ?? null,
      checkov: e.INFRAAI_CHECKOV,
      gitHost: resolveGitHost(env),
    },
    alerts: {
      escalateUnmatched: e.INFRAAI_ALERTS_ESCALATE_UNMATCHED,
      resolveWaitMs: e.INFRAAI_ALERTS_RESOLVE_WAIT_SECONDS * 1000,
      verifyTimeoutMs: e.INFRAAI_ALERTS_VERIFY_TIMEOUT_SECONDS * 1000,
      reconcileEveryMs: e.INFRAAI_ALERTS_RECONCILE_SECONDS * 1000,
    },
    ssh: { idleMs: e.INFRAAI_SSH_IDLE_MS, maxIdle: e.INFRAAI_SSH_POOL_MAX_IDLE },
    notifiers: {
      ...(e.SERVICENOW_INSTANCE_URL
        ? {
            servicenow: {
              instanceUrl: e.SERVICENOW_INSTANCE_URL,
              ...(e.SERVICENOW_TOKEN
                ? { token: e.SERVICENOW_TOKEN }
                : { username: e.SERVICENOW_USERNAME ?? '', password: e.SERVICENOW_PASSWORD ?? '' }),
              ...(e.SERVICENOW_ASSIGNMENT_GROUP ? { assignmentGroup: e.SERVICENOW_ASSIGNMENT_GROUP } : {}),
            },
          }
        : {}),
      ...(e.PAGERDUTY_API_KEY || e.PAGERDUTY_ROUTING_KEY
        ? {
            pagerduty: {
              ...(e.PAGERDUTY_API_KEY ? { apiKey: e.PAGERDUTY_API_KEY } : {}),
              ...(e.PAGERDUTY_FROM_EMAIL ? { fromEmail: e.PAGERDUTY_FROM_EMAIL } : {}),
              ...(e.PAGERDUTY_ROUTING_KEY ? { routingKey: e.PAGERDUTY_ROUTING_KEY } : {}),
            },
          }
        : {}),
    },
    // A single-tenant deployment keeps notifying as before; a multi-tenant one opts others in by name.
    notifyTenants: e.INFRAAI_NOTIFY_TENANTS ?? [pagerDutyTenantSlug],
    infisical: e.INFISICAL_CLIENT_ID
      ? {
          siteUrl: e.INFISICAL_SITE_URL ?? 'https://app.infisical.com',
          clientId: e.INFISICAL_CLIENT_ID,
          clientSecret: e.INFISICAL_CLIENT_SECRET ?? '',
          projectId: e.INFISICAL_PROJECT_ID ?? '',
          environment: e.INFISICAL_ENVIRONMENT ?? 'prod',
          secretPath: e.INFISICAL_SECRET_PATH ?? null,
        }
      : null,
    telemetry: {
      metricsToken: e.INFRAAI_METRICS_TOKEN ?? null,
      temporalMetricsAddress: e.INFRAAI_TEMPORAL_METRICS_ADDRESS ?? null,
      workerMetricsPort: e.INFRAAI_WORKER_METRICS_PORT ?? null,
    },
    prometheus: e.INFRAAI_PROMETHEUS_URL ? { url: e.INFRAAI_PROMETHEUS_URL, token: e.INFRAAI_PROMETHEUS_TOKEN ?? null } : null,
    secrets: { key: e.INFRAAI_SECRETS_KEY ?? null, keyFile: `${e.INFRAAI_DATA_DIR}/secrets.key` },
    pinecone: e.PINECONE_API_KEY
      ? {
          apiKey: e.PINECONE_API_KEY,
          indexName: e.PINECONE_INDEX ?? '',
          indexHost: e.PINECONE_INDEX_HOST ?? null,
          namespace: e.PINECONE_NAMESPACE ?? null,
        }
      : null,
    embeddings:
      e.INFRAAI_EMBEDDINGS_BASE_URL || e.INFRAAI_EMBEDDINGS_MODEL || e.INFRAAI_EMBEDDINGS_API_KEY
        ? {
            baseUrl: e.INFRAAI_EMBEDDINGS_BASE_URL ?? null,
            model: e.INFRAAI_EMBEDDINGS_MODEL ?? 'text-embedding-3-small',
            // A local endpoint (Ollama, vLLM) needs no key; OpenAI's does.
            apiKey: e.INFRAAI_EMBEDDINGS_API_KEY ?? e.OPENAI_API_KEY ?? 'not-needed',
          }
        : null,
    jwt: jwtConfigured
      ? {
          jwksUrl: e.INFRAAI_JWT_JWKS_URL ?? null,
          publicKeyPem: e.INFRAAI_JWT_PUBLIC_KEY ?? null,
          issuer: e.INFRAAI_JWT_ISSUER ?? null,
          audience: e.INFRAAI_JWT_AUDIENCE ?? null,
          tenantClaim: e.INFRAAI_JWT_TENANT_CLAIM,
          roleClaim: e.INFRAAI_JWT_ROLE_CLAIM,
          defaultRole: e.INFRAAI_JWT_DEFAULT_ROLE,
        }
      : null,
  };
  return Object.freeze(config);
}

/** The local runner by default; ECS needs its cluster, task definition, subnets, bucket and log group. */
function resolveGitHost(env: Record<string, string | undefined>): GitHostConfig {
  try {
    return gitHostConfigFromEnv(env);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

function resolveAnsibleRunner(e: z.infer<typeof envSchema>): AnsibleRunnerConfig {
  if (e.INFRAAI_ANSIBLE_RUNNER === 'local') {
    return {
      kind: 'local',
      workspaceDir: e.INFRAAI_ANSIBLE_WORKSPACE_DIR ?? `${e.INFRAAI_DATA_DIR}/ansible-runs`,
      ansibleRunnerPath: e.INFRAAI_ANSIBLE_RUNNER_BIN,
    };
  }
  const missing = (
    [
      ['INFRAAI_ECS_CLUSTER', e.INFRAAI_ECS_CLUSTER],
      ['INFRAAI_ECS_TASK_DEFINITION', e.INFRAAI_ECS_TASK_DEFINITION],
      ['INFRAAI_ECS_SUBNETS', e.INFRAAI_ECS_SUBNETS.length > 0 ? 'set' : undefined],
      ['INFRAAI_ECS_ARTIFACT_BUCKET', e.INFRAAI_ECS_ARTIFACT_BUCKET],
      ['INFRAAI_ECS_LOG_GROUP', e.INFRAAI_ECS_LOG_GROUP],
    ] as const
  )
    .filter(([, value]) => !value)
    .map(([name]) => name);
  if (missing.length > 0) throw new ConfigError(`Invalid configuration:\n  INFRAAI_ANSIBLE_RUNNER=ecs needs ${missing.join(', ')}`);
  return {
    kind: 'ecs',
    cluster: e.INFRAAI_ECS_CLUSTER!,
    taskDefinition: e.INFRAAI_ECS_TASK_DEFINITION!,
    subnets: e.INFRAAI_ECS_SUBNETS,
    securityGroups: e.INFRAAI_ECS_SECURITY_GROUPS,
    assignPublicIp: e.INFRAAI_ECS_ASSIGN_PUBLIC_IP,
    containerName: e.INFRAAI_ECS_CONTAINER_NAME,
    artifactBucket: e.INFRAAI_ECS_ARTIFACT_BUCKET!,
    logGroup: e.INFRAAI_ECS_LOG_GROUP!,
    logStreamPrefix: e.INFRAAI_ECS_LOG_STREAM_PREFIX,
    region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? null,
    endpoint: e.AWS_ENDPOINT_URL ?? null,
    pollMs: e.INFRAAI_ECS_POLL_MS,
  };
}

/** The region an AWS queue URL names (https://sqs.<region>.amazonaws.com/…, or the older <region>.queue.amazonaws.com), if any. */
function regionOfQueueUrl(url: string): string | null {
  const found = /^https:\/\/(?:sqs\.([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?\//.exec(url);
  return found?.[1] ?? found?.[2] ?? null;
}

/** The event queue: INFRAAI_SQS_QUEUE_URL, its region (named, from AWS_REGION, or from an AWS URL), the shared AWS endpoint. */
function resolveEventQueue(e: z.infer<typeof envSchema>): EventQueueConfig | null {
  if (!e.INFRAAI_SQS_QUEUE_URL) {
    if (e.INFRAAI_SQS_DLQ_URL) throw new ConfigError('Invalid configuration:\n  INFRAAI_SQS_DLQ_URL needs INFRAAI_SQS_QUEUE_URL');
    return null;
  }
  const region = e.INFRAAI_SQS_REGION ?? e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? regionOfQueueUrl(e.INFRAAI_SQS_QUEUE_URL);
  if (!region) {
    throw new ConfigError(
      'Invalid configuration:\n  INFRAAI_SQS_QUEUE_URL needs a region: set INFRAAI_SQS_REGION (or AWS_REGION), or use the queue URL AWS shows (https://sqs.<region>.amazonaws.com/…)',
    );
  }
  if (e.INFRAAI_SQS_DLQ_URL && e.INFRAAI_SQS_QUEUE_URL.endsWith('.fifo') !== e.INFRAAI_SQS_DLQ_URL.endsWith('.fifo')) {
    throw new ConfigError(
      'Invalid configuration:\n  INFRAAI_SQS_DLQ_URL must be the same kind of queue as INFRAAI_SQS_QUEUE_URL (both FIFO, ending .fifo, or both standard)',
    );
  }
  return {
    kind: 'sqs',
    queueUrl: e.INFRAAI_SQS_QUEUE_URL,
    deadLetterQueueUrl: e.INFRAAI_SQS_DLQ_URL ?? null,
    region,
    endpoint: e.AWS_ENDPOINT_URL ?? null,
  };
}

const OPENROUTER_BASE_URL = 'https://openrouter.ai/api/v1';

/**
 * The LLM from the environment: INFRAAI_LLM_* first; otherwise the names users of the systems we
 * replace know (OPENROUTER_API_KEY or `openrouter` with OPENROUTER_MODEL, OPENAI_API_KEY,
 * ANTHROPIC_API_KEY). A base URL without a key (a local Ollama or vLLM) needs no key.
 */
function resolveLlm(e: z.infer<typeof envSchema>): LlmConfig | null {
  if (e.INFRAAI_LLM_PROVIDER === 'none') return null;
  const openRouterKey = e.OPENROUTER_API_KEY ?? e.openrouter;
  let provider = e.INFRAAI_LLM_PROVIDER;
  if (!provider) {
    if (e.INFRAAI_LLM_API_KEY || e.INFRAAI_LLM_BASE_URL || openRouterKey || e.OPENAI_API_KEY) provider = 'openai-compatible';
    else if (e.ANTHROPIC_API_KEY) provider = 'anthropic';
    else return null;
  }
  if (provider === 'anthropic') {
    const apiKey = e.INFRAAI_LLM_API_KEY ?? e.ANTHROPIC_API_KEY;
    if (!apiKey)
      throw new ConfigError('Invalid configuration:\n  INFRAAI_LLM_PROVIDER=anthropic needs INFRAAI_LLM_API_KEY or ANTHROPIC_API_KEY');
    return {
      provider,
      model: e.INFRAAI_LLM_MODEL ?? 'claude-sonnet-4-5',
      baseUrl: e.INFRAAI_LLM_BASE_URL ?? null,
      apiKey,
      timeoutMs: e.INFRAAI_LLM_TIMEOUT_MS,
    };
  }
  const viaOpenRouter = !e.INFRAAI_LLM_BASE_URL && !e.INFRAAI_LLM_API_KEY && !e.OPENAI_API_KEY && Boolean(openRouterKey);
  const apiKey =
    e.INFRAAI_LLM_API_KEY ??
    (viaOpenRouter ? openRouterKey : (e.OPENAI_API_KEY ?? openRouterKey)) ??
    (e.INFRAAI_LLM_BASE_URL ? 'not-needed' : undefined);
  if (!apiKey)
    throw new ConfigError(
      'Invalid configuration:\n  INFRAAI_LLM_PROVIDER=openai-compatible needs INFRAAI_LLM_API_KEY, INFRAAI_LLM_BASE_URL, OPENROUTER_API_KEY or OPENAI_API_KEY',
    );
  const model = e.INFRAAI_LLM_MODEL ?? e.OPENROUTER_MODEL ?? (viaOpenRouter ? 'openai/gpt-4o-mini' : 'gpt-4o-mini');
  return {
    provider: 'openai-compatible',
    model,
    baseUrl: e.INFRAAI_LLM_BASE_URL ?? (viaOpenRouter ? OPENROUTER_BASE_URL : null),
    apiKey,
    timeoutMs: e.INFRAAI_LLM_TIMEOUT_MS,
  };
}
