import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import type { KnowledgeBase, StagedIngestion } from '../adapters/knowledge/port.js';
import type { KubernetesCluster } from '../adapters/kubernetes/port.js';
import { InvalidCursorError, StoreUnavailableError, type Store } from '../adapters/store/port.js';
import { LlmError } from '../adapters/llm/port.js';
import { QueueUnavailableError, type EventQueue } from '../adapters/queue/port.js';
import type { MiddlewareHandler } from 'hono';
import { authMiddleware, type AuthEnv, type Authenticator } from './auth.js';
import { docsRoutes } from './docs.js';
import { ProblemError, problemResponse } from './problem.js';
import { problemResponses } from './schemas.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { cmdbRoutes } from './routes/cmdb.js';
import { policyJobRoutes, policyRoutes } from './routes/policies.js';
import { healthRoutes } from './routes/health.js';
import { incidentRoutes, type IncidentDetailRead } from './routes/incidents.js';
import { incidentEventRoutes } from './routes/incident-events.js';
import { queueRoutes } from './routes/queue.js';
import { pagerDutyWebhookRoutes, type PagerDutyWebhookDeps } from './webhooks/pagerduty.js';
import { DEFAULT_READ_CACHE_TTL_MS, RunReadCache } from './run-read-cache.js';
import type { RunEventBus } from '../adapters/events/port.js';
import { knowledgeRoutes } from './routes/knowledge.js';
import { automationRoutes, type AutomationDetail, type AutomationPrecheck } from './routes/automation.js';
import { automationEventRoutes } from './routes/automation-events.js';
import type { AutomationSettings } from '../core/contracts/automation.js';
import type {
  AlertWorkflowGateway,
  AutomationWorkflowGateway,
  DiagnosisGateway,
  IncidentWorkflowGateway,
  IngestionGateway,
} from './temporal-gateway.js';
import { alertRoutes } from './routes/alerts.js';
import { DEFAULT_ALERT_SETTINGS, type AlertSettings } from '../core/contracts/alerts.js';
import type { Runbook } from '../core/runbook.js';
import { diagnosisRoutes } from './routes/diagnosis.js';
import { credentialRoutes } from './routes/credentials.js';
import { integrationRoutes } from './routes/integrations.js';
import { integrationDirectRoutes } from './routes/integration-direct.js';
import type { IntegrationSettingsService } from '../tools/integration-settings.js';
import { SecretsUnavailableError, type CredentialVault } from '../adapters/secrets/port.js';
import type { RemediationSettings } from '../core/remediation.js';
import { apiRoute, createRouter, jsonResponse } from './validation.js';
import { z } from '@hono/zod-openapi';
import { methodNotAllowed } from './method-not-allowed.js';
import type { ChatWorkflowGateway } from './chat-gateway.js';
import { chatRoutes } from './routes/chat.js';
import type { ChatSettings } from '../core/contracts/chat.js';
import type { Telemetry } from '../adapters/telemetry/port.js';
import { countAutomationStarts, countRunStarts, documentMetrics, httpMetrics, metricsHandler } from './metrics.js';
import { createMcpRoutes, type McpRoutesDeps } from './mcp/routes.js';
import type { ProvisioningToolkit } from '../activities/provisioning/deps.js';
import type { ProvisionSettings } from '../core/contracts/provisioning.js';
import { provisioningReferenceRoutes, provisioningRoutes, type ProvisioningRouteDeps } from './routes/provisioning.js';
import type { ProvisioningWorkflowGateway } from './temporal-gateway.js';
import { gitHubWebhookRoutes } from './webhooks/github.js';

export interface ApiDeps {
  store: Store;
  incidents: IncidentWorkflowGateway;
  knowledge: KnowledgeBase & Pick<StagedIngestion, 'stage' | 'fail'>;
  ingestion: IngestionGateway;
  /** Starts and steers Ansible automation runs. Absent: starting one answers 503 (reads still work). */
  automation?: AutomationWorkflowGateway;
  /** Approval and run timeouts handed to each automation run. */
  automationSettings?: AutomationSettings;
  /** The template generator, for an early 422 on a request no template covers (see api/routes/automation.ts). */
  automationPrecheck?: AutomationPrecheck | null;
  /** Approval timeout and auto-run policy handed to each incident run. */
  remediation?: RemediationSettings;
  /** SSH credentials, sealed at rest. */
  vault: CredentialVault;
  /** Integration settings per tenant and user (secrets through the secrets port); absent: their routes answer 503. */
  integrationSettings?: IntegrationSettingsService;
  /** Documents with more text than this are ingested by the ingestion workflow. */
  inlineIngestLimitBytes: number;
  runbooks: readonly Runbook[];
  diagnosis: DiagnosisGateway;
  kubernetes: KubernetesCluster | null;
  auth: Authenticator;
  version: string;
  bodyLimitBytes: number;
  uploadLimitBytes: number;
  corsOrigins: string[];
  /** Wakes event streams when a run writes; without it streams poll the store every 2 s. */
  events?: RunEventBus;
  /** How long one event stream stays open (default 30 min). */
  sseMaxStreamMs?: number;
  /** INFRAAI_READ_CACHE_TTL_MS: how long a run read may come from memory (needs `events`); 0: never. */
  readCacheTtlMs?: number;
  log?: (line: string) => void;
  /** Counts requests and started runs; GET /metrics renders it. */
  telemetry: Telemetry;
  /** INFRAAI_METRICS_TOKEN: when set, GET /metrics needs it as a bearer token. */
  metricsToken?: string | null;
  /** The SQS queue of PagerDuty events (INFRAAI_SQS_QUEUE_URL); absent: queueAdd and queueRemove answer 503. */
  queue?: EventQueue | null;
  /** POST /api/v1/webhooks/pagerduty: its relayer, signing secrets and tenant; absent (or no secrets): it answers 503. */
  pagerDutyWebhook?: Omit<PagerDutyWebhookDeps, 'store'>;
  /** Starts and steers alert runs (Alertmanager webhook, job approvals). Absent: they answer 503. */
  alerts?: AlertWorkflowGateway;
  /** Resolution wait, verification time and escalation of unmatched alerts, handed to each alert run. */
  alertSettings?: Pick<AlertSettings, 'resolveWaitMs' | 'escalateUnmatched' | 'verifyTimeoutMs'>;
  /** The chat tool registry served over MCP at /mcp (api/mcp/), with the API's authentication; absent: no /mcp. */
  mcp?: Pick<McpRoutesDeps, 'registry' | 'resolveIntegration' | 'proposals'>;
  /** Sends chat messages and confirmations to conversations. Absent: they answer 503 (history and events still read). */
  chat?: ChatWorkflowGateway;
  /** Budget, confirmation timeout and continue-as-new threshold handed to each conversation. */
  chatSettings?: ChatSettings;
  /** Counts POST /chat and /chat/async against the caller's limits (api/rate-limit.ts); absent: unlimited. */
  chatRateLimit?: MiddlewareHandler<AuthEnv>;
  /**
   * Infrastructure provisioning: its runs' gateway, the pure core (the synchronous parse and dry
   * runs), the settings handed to each run, the local git host's review (null with GitHub), and the
   * GitHub webhook's signing secrets. Absent: starting, dry runs and the webhook answer 503 (reads work).
   */
  provisioning?: {
    workflows: ProvisioningWorkflowGateway;
    toolkit: ProvisioningToolkit | null;
    settings?: ProvisionSettings;
    localReview?: ProvisioningRouteDeps['localReview'];
    gitHubWebhookSecrets?: readonly string[];
  };
}

/** Paths that authenticate their callers themselves instead of with an API key or JWT (PagerDuty signs its webhook). */
const SELF_AUTHENTICATED_PATHS = new Set(['/api/v1/webhooks/pagerduty', '/api/v1/webhooks/github']);

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const BODILESS_METHODS = new Set(['GET', 'HEAD']);

function isJson(contentType: string | undefined): boolean {
  return !!contentType && /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType.trim());
}

/** Document uploads (multipart) are the one place a non-JSON body, and a larger one, is accepted. */
function isUpload(method: string, path: string, contentType: string | undefined): boolean {
  return method === 'POST' && /^\/api\/v1\/knowledge\/?$/.test(path) && /^multipart\/form-data/i.test(contentType ?? '');
}

/** Builds the HTTP API: one sub-app per resource, one error handler, one validation hook. */
export function createApp(deps: ApiDeps): OpenAPIHono<AuthEnv> {
  const log = deps.log ?? ((line: string) => console.error(line));
  const app = new OpenAPIHono<AuthEnv>();

  // First, so it times everything after it, errors and refusals included.
  app.use('*', httpMetrics(deps.telemetry));
  app.use('*', requestId());
  app.use('*', methodNotAllowed(app as never));
  if (deps.corsOrigins.length > 0) {
    app.use(
      '*',
      cors({
        origin: deps.corsOrigins,
        // Mcp-Protocol-Version: browser MCP clients send it on every request after initialize.
        allowHeaders: ['Authorization', 'X-API-Key', 'Content-Type', 'Idempotency-Key', 'If-Match', 'Mcp-Protocol-Version'],
        exposeHeaders: ['Location', 'X-Request-Id', 'ETag'],
      }),
    );
  }

  app.onError((err, c) => renderError(err, c, log));
  app.notFound((c) => problemResponse(c, 404, 'not-found', `No route for ${c.req.method} ${c.req.path}.`));

  app.route('/', healthRoutes(deps.store, deps.incidents, deps.version));
  app.route('/', docsRoutes());
  app.get('/metrics', metricsHandler(deps.telemetry, deps.metricsToken ?? null));
  if (deps.mcp) {
    app.route('/mcp', createMcpRoutes({ ...deps.mcp, auth: deps.auth, version: deps.version, maxBodyBytes: deps.bodyLimitBytes, log }));
  }

  const limit = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: (c) => problemResponse(c, 413, 'payload-too-large', `The request body is larger than ${maxSize} bytes.`),
    });
  const defaultLimit = limit(deps.bodyLimitBytes);
  const uploadLimit = limit(deps.uploadLimitBytes);
  app.use('/api/v1/*', (c, next) => {
    // A GET or HEAD request has no body (fetch's Request refuses one); skipping the limit there also
    // spares the per-request cost of building the full Request that reading `body` would force.
    if (BODILESS_METHODS.has(c.req.method)) return next();
    return isUpload(c.req.method, c.req.path, c.req.header('content-type')) ? uploadLimit(c, next) : defaultLimit(c, next);
  });
  app.use('/api/v1/*', async (c, next) => {
    if (!BODY_METHODS.has(c.req.method)) return next();
    // A declared non-JSON type, or a body with no type at all, is refused; a bodiless POST (cancel) passes.
    const contentType = c.req.header('content-type');
    const declaresBody = contentType !== undefined || Number(c.req.header('content-length') ?? 0) > 0;
    if (declaresBody && !isJson(contentType) && !isUpload(c.req.method, c.req.path, contentType)) {
      return problemResponse(
        c,
        415,
        'unsupported-media-type',
        `Send the body as application/json (got ${c.req.header('content-type') ?? 'no Content-Type'}).`,
      );
    }
    await next();
  });
  const authenticate = authMiddleware(deps.auth);
  app.use('/api/v1/*', (c, next) => (SELF_AUTHENTICATED_PATHS.has(c.req.path) ? next() : authenticate(c, next)));

  const me = createRouter();
  me.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      operationId: 'getCurrentPrincipal',
      tags: ['Auth'],
      summary: 'Who the caller is',
      responses: {
        200: jsonResponse(
          z
            .object({
              tenantId: z.string().uuid(),
              tenantSlug: z.string(),
              role: z.enum(['admin', 'operator', 'viewer']),
              subject: z.string().openapi({ description: 'api-key:<id>, or the JWT subject' }),
              method: z.enum(['api_key', 'jwt']),
            })
            .openapi('Principal'),
          'The authenticated principal',
        ),
      },
    }),
    (c) => c.json(c.get('principal'), 200),
  );
  app.route('/api/v1/me', me);
  app.route('/api/v1/api-keys', apiKeyRoutes(deps.store, deps.auth));
  app.route('/api/v1/cmdb', cmdbRoutes(deps.store));
  app.route('/api/v1/credentials', credentialRoutes(deps.store, deps.vault));
  app.route('/api/v1', integrationRoutes(deps.integrationSettings));
  app.route('/api/v1', integrationDirectRoutes({ settings: deps.integrationSettings }));
  app.route('/api/v1/incidents', incidentEventRoutes(deps.store, deps.events, deps.sseMaxStreamMs ?? 30 * 60_000));
  const incidentReads = new RunReadCache<IncidentDetailRead>(deps.events, deps.readCacheTtlMs ?? DEFAULT_READ_CACHE_TTL_MS);
  app.route(
    '/api/v1/incidents',
    incidentRoutes(deps.store, countRunStarts(deps.incidents, deps.telemetry), deps.remediation, incidentReads),
  );
  app.route('/api/v1/automation', automationEventRoutes(deps.store, deps.events, deps.sseMaxStreamMs ?? 30 * 60_000));
  app.route(
    '/api/v1/automation',
    automationRoutes({
      store: deps.store,
      workflows: deps.automation ? countAutomationStarts(deps.automation, deps.telemetry) : unavailableAutomation,
      settings: deps.automationSettings,
      precheck: deps.automationPrecheck,
      reads: new RunReadCache<AutomationDetail>(deps.events, deps.readCacheTtlMs ?? DEFAULT_READ_CACHE_TTL_MS),
    }),
  );
  app.route(
    '/api/v1/knowledge',
    knowledgeRoutes({
      store: deps.store,
      knowledge: deps.knowledge,
      ingestion: deps.ingestion,
      inlineLimitBytes: deps.inlineIngestLimitBytes,
    }),
  );
  app.route('/api/v1', diagnosisRoutes(deps));
  app.route('/api/v1/policies', policyRoutes(deps.store));
  // Sending a message costs model and tool calls: limited per user and per tenant (429 with Retry-After).
  if (deps.chatRateLimit) app.on('POST', ['/api/v1/chat', '/api/v1/chat/async'], deps.chatRateLimit);
  app.route(
    '/api/v1/chat',
    chatRoutes({
      store: deps.store,
      workflows: deps.chat,
      settings: deps.chatSettings,
      events: deps.events,
      maxStreamMs: deps.sseMaxStreamMs ?? 30 * 60_000,
    }),
  );
  const alertWorkflows = deps.alerts ?? unavailableAlerts;
  app.route('/api/v1/jobs', policyJobRoutes(deps.store, alertWorkflows));
  app.route(
    '/api/v1/alerts',
    alertRoutes({
      store: deps.store,
      alerts: alertWorkflows,
      settings: {
        ...DEFAULT_ALERT_SETTINGS,
        ...deps.alertSettings,
        remediation: deps.remediation ?? DEFAULT_ALERT_SETTINGS.remediation,
        ...(deps.automationSettings ? { automation: deps.automationSettings } : {}),
      },
    }),
  );
  app.route('/api/v1', queueRoutes({ store: deps.store, queue: deps.queue ?? null, incidentReads }));
  const provisioning = deps.provisioning;
  app.route(
    '/api/v1/provision',
    provisioningRoutes({
      store: deps.store,
      workflows: provisioning?.workflows ?? unavailableProvisioning,
      toolkit: provisioning?.toolkit ?? null,
      settings: provisioning?.settings,
      localReview: provisioning?.localReview ?? null,
    }),
  );
  app.route('/api/v1', provisioningReferenceRoutes({ store: deps.store, toolkit: provisioning?.toolkit ?? null }));
  app.route(
    '/api/v1/webhooks',
    gitHubWebhookRoutes({
      store: deps.store,
      workflows: provisioning?.workflows ?? null,
      secrets: provisioning?.gitHubWebhookSecrets ?? [],
    }),
  );
  app.route(
    '/api/v1/webhooks',
    pagerDutyWebhookRoutes({ store: deps.store, relayer: null, secrets: [], tenantSlug: 'default', ...deps.pagerDutyWebhook }),
  );

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An InfraAI API key or a JWT from the configured issuer.',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'X-API-Key' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'pagerDutySignature', {
    type: 'apiKey',
    in: 'header',
    name: 'X-PagerDuty-Signature',
    description:
      'PagerDuty’s signature of the raw body: v1=<hex HMAC-SHA256> under the webhook subscription’s secret (INFRAAI_PAGERDUTY_WEBHOOK_SECRETS), comma-separated values while a secret rotates.',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'gitHubSignature', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Signature-256',
    description:
      'GitHub’s signature of the raw body: sha256=<hex HMAC-SHA256> under the webhook’s secret (INFRAAI_GITHUB_WEBHOOK_SECRETS, several accepted while one rotates).',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'basic', {
    type: 'http',
    scheme: 'basic',
    description: 'POST /api/v1/alerts only (Alertmanager’s basic_auth): any username, an InfraAI API key as the password.',
  });
  documentMetrics(app);
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    tags: ['Health'],
    security: [],
    summary: 'This document (no auth)',
    responses: {
      200: jsonResponse(
        z.object({
          openapi: z.string(),
          info: z.object({ title: z.string(), version: z.string() }),
          paths: z.record(z.string(), z.unknown()),
        }),
        'The OpenAPI 3.1 document',
      ),
      ...problemResponses(431),
    },
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'InfraAI API',
      version: deps.version,
      description:
        'Durable AIOps workflows on Temporal. Errors are application/problem+json (RFC 9457). ' +
        'A method a path does not have answers 405 with an Allow header; an unknown path answers 404. ' +
        'Text fields refuse U+0000 and unpaired UTF-16 surrogates (422): the store cannot hold them.',
    },
    // Relative: the document is served by the API it describes, wherever that is reached.
    servers: [{ url: '/', description: 'The server this document was fetched from' }],
    tags: [
      { name: 'Health', description: 'Liveness, readiness and this document' },
      { name: 'Auth', description: 'The caller’s identity' },
      { name: 'API keys', description: 'Keys of the tenant (admin)' },
      { name: 'CMDB', description: 'Hosts the workflows may act on' },
      { name: 'Credentials', description: 'SSH keys (sealed at rest) and trusted host keys' },
      {
        name: 'Integrations',
        description:
          'Settings of the integrations the chat tools use, per tenant and per user (secrets never returned), and direct searches and queries on them with the caller’s settings',
      },
      { name: 'Incidents', description: 'Incidents and their remediation runs' },
      { name: 'Automation', description: 'Ansible runs: request → playbook → validated → approved → run' },
      {
        name: 'Provisioning',
        description: 'Infrastructure from a request in plain words: Terraform → validated → policy → pull request → review',
      },
      { name: 'Knowledge', description: 'SOPs, runbooks and architecture notes' },
      {
        name: 'Chat',
        description: 'The chat agent: answers from the knowledge base and tools, proposes changes you confirm, streams as it works',
      },
      { name: 'Diagnosis', description: 'Error diagnosis and runbook suggestions' },
      {
        name: 'Policies',
        description: 'Self-healing policies: what an alert must look like, what it does, the limits; and their simulation',
      },
      { name: 'Jobs', description: 'The job log: every decision the self-healing policies took' },
      { name: 'Webhooks', description: 'Events other tools push, signed by them (PagerDuty, GitHub)' },
      { name: 'Alerts', description: 'Alertmanager’s webhook: the alerts the self-healing policies act on' },
      {
        name: 'Queue',
        description: 'The SQS queue of PagerDuty events, low level (reference 000’s queueAdd and queueRemove, kept for its clients)',
      },
    ],
  });

  return app;
}

/** Without a Temporal client for alert runs, the webhook and job approvals answer 503 (Alertmanager retries). */
const unavailableAlerts: AlertWorkflowGateway = {
  start: () => Promise.reject(engineUnavailable('Alert runs')),
  signalResolved: () => Promise.reject(engineUnavailable('Alert runs')),
  decideApproval: () => Promise.reject(engineUnavailable('Alert runs')),
  runStatus: () => Promise.reject(engineUnavailable('Alert runs')),
};

/** Without a Temporal client for automation runs, what would touch them answers 503. */
const unavailableAutomation: AutomationWorkflowGateway = {
  start: () => Promise.reject(engineUnavailable()),
  cancel: () => Promise.reject(engineUnavailable()),
  decideApproval: () => Promise.reject(engineUnavailable()),
};

/** Without a Temporal client for provisioning runs, starting one answers 503. */
const unavailableProvisioning: ProvisioningWorkflowGateway = {
  start: () => Promise.reject(engineUnavailable('Provisioning runs')),
  signalReviewed: () => Promise.reject(engineUnavailable('Provisioning runs')),
};

function engineUnavailable(what = 'Automation runs'): ProblemError {
  return new ProblemError(503, 'workflow-engine-unavailable', `${what} are not enabled in this API process.`, undefined, {
    'retry-after': '5',
  });
}

function renderError(err: Error, c: Context, log: (line: string) => void): Response {
  if (err instanceof ProblemError) return problemResponse(c, err.status, err.kind, err.message, err.errors, err.headers);
  if (err instanceof HTTPException) {
    const malformed = /malformed json/i.test(err.message);
    if (err.status === 415) {
      return problemResponse(c, 415, 'unsupported-media-type', `Send the body as one of the operation's media types (${err.message}).`);
    }
    return problemResponse(
      c,
      err.status as 400,
      malformed ? 'malformed-json' : 'bad-request',
      malformed ? 'The request body is not valid JSON.' : err.message || 'Bad request.',
    );
  }
  if (err instanceof InvalidCursorError) {
    return problemResponse(c, 422, 'validation-error', 'The request query is not valid.', [
      { path: 'cursor', message: err.message, code: 'invalid_cursor' },
    ]);
  }
  if (err instanceof LlmError) {
    return problemResponse(
      c,
      503,
      'model-unavailable',
      `A model endpoint failed: ${err.message}`,
      undefined,
      err.retryAfterMs ? { 'retry-after': String(Math.ceil(err.retryAfterMs / 1000)) } : undefined,
    );
  }
  if (err instanceof StoreUnavailableError) {
    return problemResponse(c, 503, 'store-unavailable', 'The store is not reachable; try again shortly.', undefined, {
      'retry-after': '5',
    });
  }
  if (err instanceof QueueUnavailableError) {
    return problemResponse(c, 503, 'queue-unavailable', 'The event queue (SQS) is not reachable; try again shortly.', undefined, {
      'retry-after': '5',
    });
  }
  if (err instanceof SecretsUnavailableError) {
    return problemResponse(c, 503, 'secrets-unavailable', 'The secrets store (Infisical) is not reachable; try again shortly.', undefined, {
      'retry-after': '5',
    });
  }
  const id = c.get('requestId' as never) as string | undefined;
  log(`[api] unexpected error on ${c.req.method} ${c.req.path} (request ${id ?? '-'}): ${err.stack ?? err.message}`);
  return problemResponse(c, 500, 'internal-error', 'An unexpected error occurred; it has been logged with the request id.');
}
