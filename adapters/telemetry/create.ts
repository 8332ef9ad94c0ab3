import type { Store } from '../store/port.js';
import type { Config } from '../../config.js';
import { isFinalAutomationStatus } from '../../core/contracts/automation.js';
import { isTerminalIncidentStatus, INCIDENT_STATUSES } from '../../core/incident.js';
import type { BridgeTelemetry, RunCounts, Telemetry } from './port.js';
import { PrometheusBridgeTelemetry, PrometheusTelemetry } from './prometheus.js';

/** The SDK exporter's bind address as a URL this process can fetch (a wildcard bind is reached on loopback). */
export function sdkMetricsUrl(bindAddress: string): string {
  const split = bindAddress.lastIndexOf(':');
  const host = bindAddress.slice(0, split);
  const port = bindAddress.slice(split + 1);
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return `http://${reachable}:${port}/metrics`;
}

/** Unfinished incident runs from the store's status counts. */
export async function incidentRunCounts(store: Pick<Store, 'incidents'>): Promise<RunCounts[]> {
  const counts = await store.incidents.countByStatus();
  const running = INCIDENT_STATUSES.filter((status) => !isTerminalIncidentStatus(status)).reduce((sum, status) => sum + counts[status], 0);
  return [{ family: 'incident', running, waitingForApproval: counts.awaiting_approval, byStatus: counts }];
}

/** Automation runs (family `ansible`) from the store's status counts: unfinished is any status but a final one. */
export async function automationRunCounts(store: Pick<Store, 'automation'>): Promise<RunCounts[]> {
  const counts = await store.automation.countByStatus();
  const running = Object.entries(counts).reduce((sum, [status, runs]) => (isFinalAutomationStatus(status) ? sum : sum + runs), 0);
  return [{ family: 'ansible', running, waitingForApproval: counts.awaiting_approval, byStatus: counts }];
}

/** Every family with a store table, read in parallel at each scrape. */
export async function storeRunCounts(store: Pick<Store, 'incidents' | 'automation'>): Promise<RunCounts[]> {
  return (await Promise.all([incidentRunCounts(store), automationRunCounts(store)])).flat();
}

/** This process's telemetry: its own registry, run gauges from the store, and the Temporal SDK's metrics if exported. */
export function createTelemetry(config: Pick<Config, 'telemetry'>, store: Pick<Store, 'incidents' | 'automation'>): Telemetry {
  const address = config.telemetry.temporalMetricsAddress;
  return new PrometheusTelemetry({
    runCounts: () => storeRunCounts(store),
    sdkMetricsUrl: address ? sdkMetricsUrl(address) : null,
  });
}

/** The SQS bridge's own metrics (bridge/), on a registry of their own. */
export function createBridgeTelemetry(): BridgeTelemetry {
  return new PrometheusBridgeTelemetry();
}
