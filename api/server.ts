import { InMemoryProposalLedger, RedisProposalLedger } from './mcp/proposals.js';
import { openRateLimitBackend, rateLimit } from './rate-limit.js';
import type { ChatToolkit } from '../wiring.js';
import { startAlertJobReconciler } from '../ingress/alert-job-reconciler.js';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Socket } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Adapters } from '../wiring.js';
import { createApp } from './app.js';
import { createPagerDutyRelayer } from '../ingress/pagerduty-relay.js';
import { PAGERDUTY_WEBHOOK_RELAY_TIMEOUT_MS } from './webhooks/pagerduty.js';
import { createAuthenticator } from './auth.js';
import { createTemporalChatGateway } from './chat-gateway.js';
import {
  createTemporalAlertGateway,
  createTemporalAutomationGateway,
  createTemporalProvisioningGateway,
  createTemporalDiagnosisGateway,
  createTemporalIncidentGateway,
  createTemporalIngestionGateway,
} from './temporal-gateway.js';

export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Node answers a request it cannot read (header section over 16 KB, broken HTTP) itself, with no
 * body; these answers are problem+json like every other error, and 431 is in the document.
 */
function answerClientErrors(server: ServerType): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const title = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
    const body = JSON.stringify({
      type: `urn:infraai:problem:${tooLarge ? 'headers-too-large' : 'bad-request'}`,
      title: tooLarge ? 'Request header fields too large' : 'Bad request',
      status,
      detail: tooLarge ? 'The request line and headers together exceed 16 KB.' : 'The request is not valid HTTP.',
    });
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

/** Serves a fetch handler on host:port (0 picks a free port) with the API's HTTP-level error answers. */
export function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  host: string,
  port: number,
): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const server: ServerType = serve({ fetch, hostname: host, port }, (info) => resolve({ server, port: info.port }));
    answerClientErrors(server);
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`API port ${host}:${port} is already in use; choose another with PORT.`) : err),
    );
  });
}

/** Serves the API on config.api.host:port (port 0 picks a free one) and reports the real URL. */
export async function startApiServer(options: {
  config: Config;
  adapters: Adapters;
  client: Client;
  /** The chat tools, served over MCP at /mcp; absent: no /mcp. */
  chat?: ChatToolkit | null;
}): Promise<{ url: string; close(): Promise<void> }> {
  const { config, adapters, client, chat } = options;
  const rateBackend = await openRateLimitBackend(config.rateLimits.redisUrl, (err) =>
    console.warn(`[infraai] rate limits: Redis: ${err.message}; counting in this process meanwhile`),
  );
  const chatRateLimit = rateLimit({
    name: 'chat',
    perUser: config.rateLimits.chat.perUserPerMinute,
    perTenant: config.rateLimits.chat.perTenantPerMinute,
    backend: rateBackend,
  });
  const { store, knowledge } = adapters;
  const alertGateway = createTemporalAlertGateway(client, { taskQueue: config.temporal.taskQueue });
  const app = createApp({
    ...(chat
      ? {
          mcp: {
            registry: chat.registry,
            resolveIntegration: chat.resolveIntegration,
            // Shared through the Redis connection the rate limits use, so any API process takes a confirmation.
            proposals:
              rateBackend.kind === 'redis'
                ? new RedisProposalLedger(rateBackend.client, { ttlMs: config.mcp.proposalTtlMs })
                : new InMemoryProposalLedger({ ttlMs: config.mcp.proposalTtlMs }),
          },
        }
      : {}),
    chatRateLimit,
    knowledge,
    vault: adapters.vault,
    integrationSettings: adapters.integrationSettings,
    remediation: { approvalTimeoutMs: config.remediation.approvalTimeoutMs, autoApproveLowRisk: config.remediation.autoApproveLowRisk },
    runbooks: adapters.runbooks,
    diagnosis: createTemporalDiagnosisGateway(client, { taskQueue: config.temporal.taskQueue }),
    ingestion: createTemporalIngestionGateway(client, { taskQueue: config.temporal.taskQueue }),
    inlineIngestLimitBytes: config.api.inlineIngestLimitBytes,
    kubernetes: adapters.kubernetes,
    store,
    incidents: createTemporalIncidentGateway(client, { taskQueue: config.temporal.taskQueue }),
    automation: createTemporalAutomationGateway(client, { taskQueue: config.temporal.taskQueue }),
    chat: createTemporalChatGateway(client, { taskQueue: config.temporal.taskQueue }),
    automationSettings: { approvalTimeoutMs: config.automation.approvalTimeoutMs, runTimeoutMs: config.automation.runTimeoutMs },
    // The template generator (without an LLM) answers an unrecognised request with 422 at once.
    automationPrecheck: adapters.automation?.precheck ?? null,
    auth: createAuthenticator(store, config.jwt, { cacheTtlMs: config.api.authCacheTtlMs }),
    version: VERSION,
    bodyLimitBytes: config.api.bodyLimitBytes,
    uploadLimitBytes: config.api.uploadLimitBytes,
    corsOrigins: config.api.corsOrigins,
    events: adapters.events,
    sseMaxStreamMs: config.api.sseMaxStreamMs,
    readCacheTtlMs: config.api.readCacheTtlMs,
    telemetry: adapters.telemetry,
    metricsToken: config.telemetry.metricsToken,
    queue: adapters.eventQueue,
    pagerDutyWebhook: {
      // A short deadline: PagerDuty waits 5 s for the answer, and a 503 in time makes it retry.
      relayer: createPagerDutyRelayer(client, {
        taskQueue: config.temporal.taskQueue,
        pagerDutyTenantSlug: config.pagerDuty.tenantSlug,
        timeoutMs: PAGERDUTY_WEBHOOK_RELAY_TIMEOUT_MS,
      }),
      secrets: config.pagerDuty.webhookSecrets,
      tenantSlug: config.pagerDuty.tenantSlug,
    },
    alerts: alertGateway,
    alertSettings: config.alerts,
    provisioning: {
      workflows: createTemporalProvisioningGateway(client, { taskQueue: config.temporal.taskQueue }),
      toolkit: adapters.provisioning.toolkit,
      settings: {
        reviewTimeoutMs: config.provisioning.reviewTimeoutMs,
        reminderBeforeMs: config.provisioning.reminderBeforeMs,
        pollIntervalMs: config.provisioning.pollIntervalMs,
      },
      localReview: adapters.provisioning.localReview,
      gitHubWebhookSecrets: config.provisioning.gitHubWebhookSecrets,
    },
  });
  const reconciler =
    config.alerts.reconcileEveryMs > 0
      ? startAlertJobReconciler(
          { store, runStatus: (workflowId) => alertGateway.runStatus(workflowId) },
          {
            everyMs: config.alerts.reconcileEveryMs,
            onReport: ({ closed }) => {
              for (const job of closed)
                console.warn(`[infraai] policy job ${job.jobId} closed: its run ${job.workflowId} ${job.runStatus}`);
            },
            onError: (err) => console.warn(`[infraai] policy job reconciler: ${err instanceof Error ? err.message : String(err)}`),
          },
        )
      : null;
  const { server, port } = await listen(app.fetch, config.api.host, config.api.port);
  const host = config.api.host === '0.0.0.0' || config.api.host === '::' ? '127.0.0.1' : config.api.host;
  return {
    url: config.api.publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: async () => {
      await reconciler?.stop();
      await rateBackend.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would otherwise hold close() open.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}

/** `npm run api`: the API alone (beside `npm run worker`, with PostgreSQL as the shared store). */
async function main(): Promise<void> {
  const { loadConfig } = await import('../config.js');
  const { createStore } = await import('../adapters/store/create.js');
  const { connectClient } = await import('../adapters/temporal/connection.js');
  const { prepareAccess, resolveTemporalTarget } = await import('../launcher/stack.js');
  const config = loadConfig();
  const target = await resolveTemporalTarget(config);
  const store = await createStore(config.store);
  const access = await prepareAccess(store, config);
  const { buildAdapters } = await import('../wiring.js');
  const adapters = await buildAdapters(config, store);
  const { client, connection } = await connectClient({ ...config.temporal, ...target });
  const { buildChatToolkit } = await import('../wiring.js');
  const chat = await buildChatToolkit(config, adapters, client, VERSION);
  const api = await startApiServer({ config, adapters, client, chat });
  console.log(
    [`InfraAI API listening on ${api.url} (Temporal ${target.address}, namespace ${target.namespace})`, ...access.lines].join('\n'),
  );
  const stop = async () => {
    await api.close();
    await chat.close();
    await connection.close();
    await adapters.events.close();
    adapters.eventQueue?.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`[infraai] API failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
