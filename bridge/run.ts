import type { Client } from '@temporalio/client';
import type { EventQueue } from '../adapters/queue/port.js';
import type { Store } from '../adapters/store/port.js';
import { createBridgeTelemetry } from '../adapters/telemetry/create.js';
import type { Config } from '../config.js';
import { createPagerDutyRelayer } from '../ingress/pagerduty-relay.js';
import { SqsBridge } from './bridge.js';
import { serveBridgeProbes } from './http.js';
import { jsonLog, type BridgeLog } from './log.js';
import { createTenantResolver } from './tenants.js';

// The bridge with its probes, over what the caller opened: `npm run bridge` (bridge/main.ts) opens
// its own store, queue and Temporal client; `npm start` hands over the ones the API uses.

export interface RunningBridge {
  bridge: SqsBridge;
  /** Where /healthz, /readyz and /metrics answer. */
  probesUrl: string;
  /** Stops polling, finishes (or after the grace releases) the messages in flight, closes the probes. */
  stop(): Promise<void>;
}

export async function startBridge(deps: {
  config: Config;
  store: Store;
  queue: EventQueue;
  deadLetter: EventQueue | null;
  client: Client;
  log?: BridgeLog;
}): Promise<RunningBridge> {
  const { config, store, queue, deadLetter, client } = deps;
  const log = deps.log ?? jsonLog(config.logLevel);
  const telemetry = createBridgeTelemetry();
  const tenants = await createTenantResolver(store.tenants, config.pagerDuty.tenantSlug);
  const pingTemporal = async () => {
    await client.connection.withDeadline(Date.now() + 2000, () =>
      client.workflowService.describeNamespace({ namespace: client.options.namespace }),
    );
  };
  const bridge = new SqsBridge({
    queue,
    deadLetter,
    relayer: createPagerDutyRelayer(client, { taskQueue: config.temporal.taskQueue, pagerDutyTenantSlug: config.pagerDuty.tenantSlug }),
    tenants,
    telemetry,
    log,
    concurrency: config.bridge.concurrency,
    pollers: config.bridge.pollers,
    waitSeconds: config.bridge.waitSeconds,
    visibilitySeconds: config.bridge.visibilitySeconds,
    maxAttempts: config.bridge.maxAttempts,
    shutdownGraceMs: config.bridge.shutdownGraceMs,
    temporalProbe: pingTemporal,
  });
  const probes = await serveBridgeProbes(
    {
      health: () => bridge.health(),
      checks: {
        queue: async () => void (await queue.describe()),
        temporal: pingTemporal,
        store: () => store.ping(),
      },
      telemetry,
      metricsToken: config.telemetry.metricsToken,
    },
    config.api.host,
    config.bridge.port,
  );
  await bridge.start();
  log('info', 'bridge ready', {
    queue: queue.url,
    fifo: queue.fifo,
    dead_letter_queue: deadLetter?.url ?? null,
    task_queue: config.temporal.taskQueue,
    namespace: client.options.namespace,
    default_tenant: tenants.defaultTenant.tenantSlug,
    concurrency: config.bridge.concurrency,
    pollers: config.bridge.pollers,
    visibility_s: config.bridge.visibilitySeconds,
    wait_s: config.bridge.waitSeconds,
    probes: probes.url,
    pid: process.pid,
  });
  return {
    bridge,
    probesUrl: probes.url,
    async stop() {
      const { released } = await bridge.stop();
      log('info', 'bridge stopped', { released });
      await probes.close();
    },
  };
}
