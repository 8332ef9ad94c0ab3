import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BridgeDeadLetterReason, BridgeRelayOutcome, BridgeTelemetry, RunCounts, RunFamily, Telemetry } from './port.js';

export interface PrometheusTelemetryOptions {
  /** Unfinished runs per family, read from the store at each scrape; omitted: no run gauges. */
  runCounts?: (() => Promise<RunCounts[]>) | null;
  /** The Temporal SDK's own Prometheus exporter (http://host:port/metrics), appended to every scrape. */
  sdkMetricsUrl?: string | null;
  /** How long a scrape waits for the SDK exporter before leaving its part out (default 1 s). */
  sdkMetricsTimeoutMs?: number;
}

// Minutes to hours: an approval alone may wait 30 minutes (INFRAAI_APPROVAL_TIMEOUT_SECONDS).
const RUN_SECONDS_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200];
// Seconds to hours: a playbook may touch one host for a second or fifty for an hour.
const PLAYBOOK_SECONDS_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
// Any other method is one label value, so a client sending made-up methods cannot grow the series.
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * prom-client on a registry of its own (never the global one: a test builds several, and two
 * processes' worth of metrics never mix in one), with the Node process metrics alongside ours.
 */
export class PrometheusTelemetry implements Telemetry {
  readonly registry = new Registry();
  private readonly httpRequests = new Counter({
    name: 'infraai_http_requests_total',
    help: 'HTTP requests answered, by method, matched route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'infraai_http_request_duration_seconds',
    help: 'Time from receiving a request to its response headers, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly runsStarted = new Counter({
    name: 'infraai_runs_started_total',
    help: 'Workflow runs the API started, by family.',
    labelNames: ['family'] as const,
    registers: [this.registry],
  });
  private readonly runsEnded = new Counter({
    name: 'infraai_runs_ended_total',
    help: 'Workflow runs that reached their final status, by family and outcome.',
    labelNames: ['family', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly runDuration = new Histogram({
    name: 'infraai_run_duration_seconds',
    help: 'Time from raising to the final status of a run, by family and outcome.',
    labelNames: ['family', 'outcome'] as const,
    buckets: RUN_SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly runsRunning = new Gauge({
    name: 'infraai_runs_running',
    help: 'Runs not finished yet (any non-final status), by family; from the store, all tenants.',
    labelNames: ['family'] as const,
    registers: [this.registry],
  });
  private readonly approvalsWaiting = new Gauge({
    name: 'infraai_approvals_waiting',
    help: 'Runs waiting for a human approval, by family; from the store, all tenants.',
    labelNames: ['family'] as const,
    registers: [this.registry],
  });
  private readonly runsByStatus = new Gauge({
    name: 'infraai_runs_by_status',
    help: 'Runs by family and status, final statuses included; from the store, all tenants.',
    labelNames: ['family', 'status'] as const,
    registers: [this.registry],
  });
  private readonly playbookDuration = new Histogram({
    name: 'infraai_automation_playbook_duration_seconds',
    help: "Time from an automation run's run step being scheduled to the Ansible runner's answer, by the runner's status.",
    labelNames: ['status'] as const,
    buckets: PLAYBOOK_SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly automationLogLines = new Counter({
    name: 'infraai_automation_log_lines_stored_total',
    help: 'Lines of automation run logs stored by this process (lines a retried attempt rewrites are not counted again).',
    registers: [this.registry],
  });
  private readonly remediationSeconds = new Histogram({
    name: 'infraai_remediation_seconds',
    help: 'Time from raising an incident to its fix applied and verified.',
    buckets: RUN_SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly activityFailures = new Counter({
    name: 'infraai_activity_failures_total',
    help: 'Failed activity attempts, by activity type and failure type (ApplicationFailure type or error name).',
    labelNames: ['activity', 'failure'] as const,
    registers: [this.registry],
  });
  // The request path is hot: label children are looked up by one string key instead of prom-client
  // hashing the label object on every observation.
  private readonly httpChildren = new Map<string, { requests: { inc(): void }; duration: { observe(value: number): void } }>();

  constructor(private readonly options: PrometheusTelemetryOptions = {}) {
    collectDefaultMetrics({ register: this.registry });
  }

  httpRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let child = this.httpChildren.get(key);
    if (!child) {
      const labels = { method: HTTP_METHODS.has(method) ? method : 'other', route, status: String(status) };
      child = { requests: this.httpRequests.labels(labels), duration: this.httpDuration.labels(labels) };
      this.httpChildren.set(key, child);
    }
    child.requests.inc();
    child.duration.observe(seconds);
  }

  runStarted(family: RunFamily): void {
    this.runsStarted.inc({ family });
  }

  runEnded(family: RunFamily, outcome: string, seconds: number): void {
    this.runsEnded.inc({ family, outcome });
    this.runDuration.observe({ family, outcome }, seconds);
  }

  remediationVerified(seconds: number): void {
    this.remediationSeconds.observe(seconds);
  }

  playbookFinished(status: string, seconds: number): void {
    this.playbookDuration.observe({ status }, seconds);
  }

  automationLogLinesStored(lines: number): void {
    this.automationLogLines.inc(lines);
  }

  activityFailed(activityType: string, failureType: string): void {
    this.activityFailures.inc({ activity: activityType, failure: failureType });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    const [notes, sdk] = await Promise.all([this.fillRunGauges(), this.sdkMetrics()]);
    const own = await this.registry.metrics();
    return { contentType: this.registry.contentType, body: `${notes}${own}${sdk}` };
  }

  /** One store read per scrape fills the run gauges; without the store they are left out, not stale. */
  private async fillRunGauges(): Promise<string> {
    if (!this.options.runCounts) return '';
    try {
      const counts = await this.options.runCounts();
      this.resetRunGauges();
      for (const { family, running, waitingForApproval, byStatus } of counts) {
        this.runsRunning.set({ family }, running);
        this.approvalsWaiting.set({ family }, waitingForApproval);
        for (const [status, runs] of Object.entries(byStatus ?? {})) this.runsByStatus.set({ family, status }, runs);
      }
      return '';
    } catch (err) {
      this.resetRunGauges();
      return `# infraai: run counts left out, the store did not answer: ${oneLine(err)}\n`;
    }
  }

  private resetRunGauges(): void {
    this.runsRunning.reset();
    this.approvalsWaiting.reset();
    this.runsByStatus.reset();
  }

  private async sdkMetrics(): Promise<string> {
    const url = this.options.sdkMetricsUrl;
    if (!url) return '';
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.options.sdkMetricsTimeoutMs ?? 1000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const text = await response.text();
      return text === '' || text.endsWith('\n') ? text : `${text}\n`;
    } catch (err) {
      // A scrape still succeeds with our own metrics; the comment says why Temporal's are missing.
      return `# infraai: Temporal SDK metrics at ${url} left out: ${oneLine(err)}\n`;
    }
  }
}

// Milliseconds to the relay's 10 s deadline: one Temporal start or signal.
const RELAY_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The SQS bridge's metrics on a registry of its own, with the Node process metrics alongside. */
export class PrometheusBridgeTelemetry implements BridgeTelemetry {
  readonly registry = new Registry();
  private readonly receivedTotal = new Counter({
    name: 'infraai_bridge_messages_received_total',
    help: 'Messages received from the event queue (a redelivery counts again).',
    registers: [this.registry],
  });
  private readonly relayedTotal = new Counter({
    name: 'infraai_bridge_messages_relayed_total',
    help: 'Messages relayed into Temporal, by outcome (started, joined, signalled, no_run, ignored).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly relayDuration = new Histogram({
    name: 'infraai_bridge_relay_duration_seconds',
    help: 'Time of the relay call that Temporal accepted, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: RELAY_SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly relayFailures = new Counter({
    name: 'infraai_bridge_relay_failures_total',
    help: 'Relay attempts Temporal did not accept: unavailable (held and retried) or error (left for redelivery).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly deletedTotal = new Counter({
    name: 'infraai_bridge_messages_deleted_total',
    help: 'Messages deleted from the event queue after their relay (dead-lettered ones not included).',
    registers: [this.registry],
  });
  private readonly deadLetteredTotal = new Counter({
    name: 'infraai_bridge_messages_dead_lettered_total',
    help: 'Messages moved to the dead-letter queue by the bridge, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly leftTotal = new Counter({
    name: 'infraai_bridge_messages_left_total',
    help: 'Messages left on the queue for a later delivery, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly pollFailures = new Counter({
    name: 'infraai_bridge_poll_failures_total',
    help: 'Receives from the event queue that failed (unreachable, refused, no answer in time).',
    registers: [this.registry],
  });
  private readonly inFlightGauge = new Gauge({
    name: 'infraai_bridge_messages_in_flight',
    help: 'Messages received and not finished yet (their visibility is being extended).',
    registers: [this.registry],
  });
  private readonly lastPoll = new Gauge({
    name: 'infraai_bridge_last_poll_timestamp_seconds',
    help: 'Unix time of the last receive that completed.',
    registers: [this.registry],
  });
  private readonly temporalUp = new Gauge({
    name: 'infraai_bridge_temporal_available',
    help: '1 while Temporal accepts relays, 0 while the bridge holds its messages waiting for it.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.temporalUp.set(1);
    for (const outcome of ['started', 'joined', 'signalled', 'no_run', 'ignored'] satisfies BridgeRelayOutcome[]) {
      this.relayedTotal.inc({ outcome }, 0);
    }
    for (const reason of ['unparseable', 'unknown_tenant', 'relay_failed'] satisfies BridgeDeadLetterReason[]) {
      this.deadLetteredTotal.inc({ reason }, 0);
    }
    for (const kind of ['unavailable', 'error'] as const) this.relayFailures.inc({ kind }, 0);
  }

  received(count: number): void {
    this.receivedTotal.inc(count);
  }

  polled(atSeconds: number): void {
    this.lastPoll.set(atSeconds);
  }

  pollFailed(): void {
    this.pollFailures.inc();
  }

  relayed(outcome: BridgeRelayOutcome, seconds: number): void {
    this.relayedTotal.inc({ outcome });
    this.relayDuration.observe({ outcome }, seconds);
  }

  relayFailed(kind: 'unavailable' | 'error'): void {
    this.relayFailures.inc({ kind });
  }

  deleted(): void {
    this.deletedTotal.inc();
  }

  deadLettered(reason: BridgeDeadLetterReason): void {
    this.deadLetteredTotal.inc({ reason });
  }

  left(reason: string): void {
    this.leftTotal.inc({ reason });
  }

  inFlight(count: number): void {
    this.inFlightGauge.set(count);
  }

  temporalAvailable(up: boolean): void {
    this.temporalUp.set(up ? 1 : 0);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? (err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message) : String(err);
  return message.replace(/\s+/g, ' ');
}
