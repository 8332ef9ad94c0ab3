import { SendMessageBatchCommand, ReceiveMessageCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { signPagerDutyBody } from '../api/webhooks/pagerduty-signature.js';
import { SEARCH_ATTRIBUTES } from '../core/contracts/incident.js';
import { PAGERDUTY_WORKFLOW_TYPE, type PagerDutyIncidentInput } from '../core/contracts/pagerduty.js';
import { relayPagerDutyEvent, type PagerDutyEventEnvelope } from '../core/ingress/pagerduty.js';
import { cmdbItemFor } from '../lab/cli.js';
import { labPrerequisites, startLab, type LabHost } from '../lab/lab.js';
import { ensureMoto } from '../test/support/moto.js';
import { LOCAL_SQS_CREDENTIALS, LOCAL_SQS_REGION, startFauxqsSqs, startMotoSqs, type LocalSqs } from '../test/support/local-sqs.js';
import {
  alertFingerprint,
  serviceDownAlert,
  startEda,
  stats,
  restoreTrial,
  type EdaSample,
  type RestoreSample,
  type Stats,
} from './eda.js';
import {
  createBenchDatabase,
  freePort,
  machineDescription,
  mapLimit,
  onInterrupt,
  provenance,
  round,
  startNodeProcess,
  startStack,
  writeReport,
  type NodeProcess,
} from './lib.js';

// `npm run bench:ingress` (issue 11's targets), each measured in this one run:
// 1. webhook acknowledged: POST /api/v1/alerts and POST /api/v1/webhooks/pagerduty (signed) answer
//    only after Temporal accepted the run's start (the event is durable); latency median and p99
//    against the bare `client.workflow.start` from this process to the same server (the hand-off alone);
// 2. bridge throughput: `npm run bridge` relaying PagerDuty triggers from a real SQS-compatible server
//    (moto) into Temporal, messages/s until the queue is empty, against a bare receive-and-delete
//    loop over the same number of messages on the same server;
// 3. a flood: 1,000 firing notifications for one host in 10 s (each a new firing episode, the worst
//    case: a new run each) against a policy with a 60 s cooldown: how many actions ran (at most one);
// 4. alert posted → service restored on a lab host: InfraAI's policy path (ssh_command
//    `supervisorctl restart`) and Event-Driven Ansible's rulebook (bench/eda.ts) on the same host,
//    interleaved, through the same trial (kill, the same v4 payload, the same restore check).

const API_KEY = 'bench-admin-key-0123456789abcdef';
const PD_SECRET = 'bench-pagerduty-webhook-secret-0123456789';
const WEBHOOK_REQUESTS = Number(process.env.BENCH_INGRESS_WEBHOOKS ?? 400);
const WEBHOOK_CONCURRENCY = Number(process.env.BENCH_INGRESS_WEBHOOK_CONCURRENCY ?? 4);
/** The steady part: requests a second (alerts, PagerDuty and bare starts in turn), and for how long. */
const STEADY_RATE = Number(process.env.BENCH_INGRESS_STEADY_RATE ?? 30);
const STEADY_SECONDS = Number(process.env.BENCH_INGRESS_STEADY_SECONDS ?? 30);
const BRIDGE_MESSAGES = Number(process.env.BENCH_INGRESS_MESSAGES ?? 2000);
/** Receives open at once, for the bridge (INFRAAI_BRIDGE_POLLERS) and the bare loop alike. */
const BRIDGE_POLLERS = Number(process.env.BENCH_INGRESS_POLLERS ?? 2);
/** Messages the bridge relays at once (INFRAAI_BRIDGE_CONCURRENCY; its default is 32). */
const BRIDGE_CONCURRENCY = Number(process.env.BENCH_INGRESS_BRIDGE_CONCURRENCY ?? 32);
const FLOOD_ALERTS = Number(process.env.BENCH_INGRESS_FLOOD ?? 1000);
const FLOOD_SECONDS = 10;
const RESTORE_RUNS = Number(process.env.BENCH_INGRESS_RESTORES ?? 10);
const FLOOD_COOLDOWN_SECONDS = 60;
/** Which parts run (BENCH_INGRESS_PARTS, comma-separated); the report is written only when all four did. */
const PARTS = new Set((process.env.BENCH_INGRESS_PARTS ?? 'bridge,webhooks,restore,flood').split(',').map((p) => p.trim()));
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

type Call = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

function apiClient(base: string, key = API_KEY): Call {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  return async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json().catch(() => null)) as T };
  };
}

function percentileOf(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Latency {
  median: number;
  p90: number;
  p99: number;
  max: number;
  n: number;
}

function latency(values: number[]): Latency {
  return {
    median: round(percentileOf(values, 50), 1),
    p90: round(percentileOf(values, 90), 1),
    p99: round(percentileOf(values, 99), 1),
    max: round(Math.max(...values), 1),
    n: values.length,
  };
}

/** A firing notification for a made-up alert no policy matches (its run records `unmatched`). */
function noiseAlert(i: number) {
  const labels = { alertname: 'BenchNoise', instance: `noise-${i}-${randomUUID().slice(0, 8)}`, severity: 'warning' };
  const startsAt = new Date().toISOString();
  return {
    version: '4',
    groupKey: `{}:{alertname="BenchNoise"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'infraai',
    groupLabels: { alertname: 'BenchNoise' },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.bench.invalid:9093',
    alerts: [
      {
        status: 'firing',
        labels,
        annotations: {},
        startsAt,
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.bench.invalid:9090/graph',
        fingerprint: alertFingerprint(labels),
      },
    ],
  };
}

/** A PagerDuty V3 `incident.triggered` event for a new incident. */
function pagerDutyTrigger(incidentId: string) {
  return {
    event: {
      id: `01${randomUUID().replace(/-/g, '').slice(0, 24).toUpperCase()}`,
      event_type: 'incident.triggered',
      resource_type: 'incident',
      occurred_at: new Date().toISOString(),
      agent: null,
      client: null,
      data: {
        id: incidentId,
        type: 'incident',
        number: 1,
        status: 'triggered',
        title: `bench incident ${incidentId}`,
        urgency: 'high',
        html_url: `https://bench.pagerduty.invalid/incidents/${incidentId}`,
        service: { id: 'PBENCH0', type: 'service_reference', summary: 'bench' },
        assignees: [],
      },
    },
  };
}

const incidentId = () => `Q${randomUUID().replace(/-/g, '').slice(0, 13).toUpperCase()}`;

// ---------------------------------------------------------------------------------------------
// 1. Webhooks

interface WebhookLatencies {
  alerts: Latency;
  pagerDuty: Latency;
  bareStart: Latency;
}

interface WebhookResult extends WebhookLatencies {
  /** Open loop: requests sent on a schedule (STEADY_RATE a second, the three kinds in turn), whatever the answers. */
  steady: WebhookLatencies & { rate: number; seconds: number };
  statuses: Record<string, number>;
}

async function benchWebhooks(api: string, temporal: Client, taskQueue: string): Promise<WebhookResult> {
  const statuses: Record<string, number> = {};
  const count = (kind: string, status: number) => {
    statuses[`${kind} ${status}`] = (statuses[`${kind} ${status}`] ?? 0) + 1;
  };
  const timed = async (kind: string, send: () => Promise<Response>): Promise<number> => {
    const started = performance.now();
    const res = await send();
    await res.arrayBuffer();
    const ms = performance.now() - started;
    count(kind, res.status);
    if (!res.ok) throw new Error(`${kind} answered ${res.status}`);
    return ms;
  };
  const alertOnce = (i: number) =>
    timed('alerts', () =>
      fetch(`${api}/api/v1/alerts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(noiseAlert(i)),
      }),
    );
  const pagerDutyOnce = () => {
    const body = JSON.stringify(pagerDutyTrigger(incidentId()));
    return timed('pagerduty', () =>
      fetch(`${api}/api/v1/webhooks/pagerduty`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-pagerduty-signature': signPagerDutyBody(body, [PD_SECRET]),
          'x-webhook-id': randomUUID(),
        },
        body,
      }),
    );
  };
  // The bare hand-off: the same kind of start, from this process, on a queue no worker polls.
  const bareOnce = async () => {
    const started = performance.now();
    await temporal.workflow.start('benchNoop', { workflowId: `bench-bare-${randomUUID()}`, taskQueue, args: [] });
    return performance.now() - started;
  };
  // Warm-up, not counted (connections, JIT, the first tenant and policy reads).
  await mapLimit([...Array(20).keys()], WEBHOOK_CONCURRENCY, (i) => alertOnce(i));
  await mapLimit([...Array(20).keys()], WEBHOOK_CONCURRENCY, () => pagerDutyOnce());
  await mapLimit([...Array(20).keys()], WEBHOOK_CONCURRENCY, () => bareOnce());

  // Steady: an open loop at a rate a busy PagerDuty account and Alertmanager stay far below, each
  // request sent on its schedule whether or not the ones before it have answered.
  const steadyAlerts: number[] = [];
  const steadyPagerDuty: number[] = [];
  const steadyBare: number[] = [];
  const steadyCount = STEADY_RATE * STEADY_SECONDS;
  const steadyStart = performance.now();
  await Promise.all(
    [...Array(steadyCount).keys()].map(async (i) => {
      await sleep(steadyStart + (i * 1000) / STEADY_RATE - performance.now());
      if (i % 3 === 0) steadyAlerts.push(await alertOnce(100_000 + i));
      else if (i % 3 === 1) steadyPagerDuty.push(await pagerDutyOnce());
      else steadyBare.push(await bareOnce());
    }),
  );
  // Let the worker finish the runs the steady part started before the closed loop begins.
  await sleep(5000);

  // Saturated: WEBHOOK_CONCURRENCY clients each sending its next request as soon as the last answered.
  const alerts: number[] = [];
  const pagerDuty: number[] = [];
  const bare: number[] = [];
  // Interleaved in rounds of 20, so drift on the machine touches all three alike.
  for (let round_ = 0; round_ < WEBHOOK_REQUESTS / 20; round_ += 1) {
    alerts.push(...(await mapLimit([...Array(20).keys()], WEBHOOK_CONCURRENCY, (i) => alertOnce(round_ * 20 + i))));
    pagerDuty.push(...(await mapLimit([...Array(20).keys()], WEBHOOK_CONCURRENCY, () => pagerDutyOnce())));
    bare.push(...(await mapLimit([...Array(20).keys()], WEBHOOK_CONCURRENCY, () => bareOnce())));
  }
  return {
    alerts: latency(alerts),
    pagerDuty: latency(pagerDuty),
    bareStart: latency(bare),
    steady: {
      rate: STEADY_RATE,
      seconds: STEADY_SECONDS,
      alerts: latency(steadyAlerts),
      pagerDuty: latency(steadyPagerDuty),
      bareStart: latency(steadyBare),
    },
    statuses,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Bridge throughput

interface BridgeResult {
  messages: number;
  bareLoop: { seconds: number; perSecond: number };
  /** The same starts (type, input, search attribute, id policy) from this process, BRIDGE_CONCURRENCY at once: Temporal alone. */
  temporalAlone: { seconds: number; perSecond: number };
  bridge: { seconds: number; perSecond: number; started: number; deadLettered: number; cpuMsPerMessage: number };
  ratio: number;
  ratioToTemporal: number;
}

/** The bridge on each SQS server: fauxqs (fast enough to show the bridge's own pace) and moto. */
interface BridgeRuns {
  fauxqs: BridgeResult;
  moto: BridgeResult;
}

async function fillQueue(sqs: LocalSqs, url: string, bodies: string[]): Promise<void> {
  const batches: string[][] = [];
  for (let i = 0; i < bodies.length; i += 10) batches.push(bodies.slice(i, i + 10));
  await mapLimit(batches, 8, async (batch) => {
    const sent = await sqs.client.send(
      new SendMessageBatchCommand({ QueueUrl: url, Entries: batch.map((body, i) => ({ Id: String(i), MessageBody: body })) }),
    );
    if (sent.Failed?.length) throw new Error(`the SQS server refused ${sent.Failed.length} messages`);
  });
}

/** How deep the feeder keeps a queue (BENCH_INGRESS_QUEUE_DEPTH). */
const FEED_DEPTH = Number(process.env.BENCH_INGRESS_QUEUE_DEPTH ?? 100);

/**
 * Sends the bodies while keeping the queue at most FEED_DEPTH deep (visible and in flight), as a live
 * queue with a consumer that keeps up is. moto's SQS scans a queue on every call: filled with 2,000
 * messages up front, a receive took about a second here and the benchmark measured moto, not the
 * consumers (9 messages/s for the bare loop). Both consumers are fed the same way, at once.
 */
async function feedQueue(sqs: LocalSqs, url: string, bodies: string[]): Promise<void> {
  let next = 0;
  while (next < bodies.length) {
    const room = FEED_DEPTH - (await queueDepth(sqs, url));
    if (room < 10) {
      await sleep(5);
      continue;
    }
    const batch: string[] = [];
    while (batch.length + 10 <= room && next < bodies.length) {
      batch.push(...bodies.slice(next, next + 10));
      next += 10;
    }
    await fillQueue(sqs, url, batch);
  }
}

async function queueDepth(sqs: LocalSqs, url: string): Promise<number> {
  const { Attributes } = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/**
 * Receive 10, delete them in one batch, until the queue is empty, with as many loops at once as the
 * bridge has pollers: what any consumer pays at least.
 */
async function bareLoop(sqs: LocalSqs, url: string, bodies: string[]): Promise<number> {
  const expected = bodies.length;
  let handled = 0;
  const started = performance.now();
  await Promise.all([
    feedQueue(sqs, url, bodies),
    ...Array.from({ length: BRIDGE_POLLERS }, () =>
      bareReceiver(
        sqs,
        url,
        expected,
        () => handled,
        (n) => (handled += n),
      ),
    ),
  ]);
  return (performance.now() - started) / 1000;
}

async function bareReceiver(sqs: LocalSqs, url: string, expected: number, handled: () => number, add: (n: number) => void): Promise<void> {
  while (handled() < expected) {
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }),
    );
    if (Messages.length === 0) continue;
    JSON.parse(Messages[0]!.Body ?? '{}');
    await sqs.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    add(Messages.length);
  }
}

/** User and system CPU seconds a process has used so far (Linux /proc). */
async function cpuSecondsOf(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ');
  // After the command name: utime and stime are fields 12 and 13 (0-based), in clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Temporal alone: the starts the bridge makes (a PagerDuty trigger's run: its type, an input of the
 * same shape, the tenant search attribute, the same id policies), BRIDGE_CONCURRENCY at once from this
 * process, on a queue no worker polls. No relay can go faster than the server takes these.
 */
async function temporalAlone(client: Client): Promise<number> {
  const taskQueue = `bench-alone-${randomUUID().slice(0, 8)}`;
  const started = performance.now();
  await mapLimit([...Array(BRIDGE_MESSAGES).keys()], BRIDGE_CONCURRENCY, async () => {
    const trigger = pagerDutyTrigger(incidentId());
    const decision = relayPagerDutyEvent(trigger as unknown as PagerDutyEventEnvelope, { tenantScope: null });
    if (decision.kind !== 'start') throw new Error('the bench trigger is not a start');
    const input: PagerDutyIncidentInput = {
      tenantId: randomUUID(),
      tenantSlug: 'default',
      eventId: decision.eventId,
      incident: decision.incident,
      via: 'sqs',
    };
    await client.workflow.start(PAGERDUTY_WORKFLOW_TYPE, {
      workflowId: `bench-alone-${decision.incident.id}`,
      taskQueue,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.tenant, value: 'default' }],
    });
  });
  return (performance.now() - started) / 1000;
}

async function benchBridge(sqs: LocalSqs, temporal: { address: string; namespace: string; client: Client }): Promise<BridgeResult> {
  const bodies = () => Array.from({ length: BRIDGE_MESSAGES }, () => JSON.stringify(pagerDutyTrigger(incidentId())));
  // Baseline.
  const bareQueue = await sqs.createQueue({ fifo: false });
  const bareSeconds = await bareLoop(sqs, bareQueue.url, bodies());
  const aloneSeconds = await temporalAlone(temporal.client);
  // The bridge, as its own process, on a task queue no worker polls: what is measured is the relay
  // (parse, tenant, start accepted by Temporal, delete), not the runs it starts.
  const queue = await sqs.createQueue({ fifo: false, deadLetter: { maxReceiveCount: 5 } });
  const db = await createBenchDatabase('bridge');
  const taskQueue = `bench-bridge-${randomUUID().slice(0, 8)}`;
  let bridge: NodeProcess | null = null;
  try {
    bridge = await startNodeProcess({
      script: 'bridge/main.ts',
      what: 'the SQS bridge (npm run bridge)',
      ready: '"msg":"bridge ready"',
      env: {
        DATABASE_URL: db.url,
        INFRAAI_SQS_QUEUE_URL: queue.url,
        INFRAAI_SQS_DLQ_URL: queue.deadLetter!.url,
        INFRAAI_SQS_REGION: LOCAL_SQS_REGION,
        AWS_ENDPOINT_URL: sqs.server.endpoint,
        AWS_ACCESS_KEY_ID: LOCAL_SQS_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_SQS_CREDENTIALS.secretAccessKey,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: temporal.namespace,
        TEMPORAL_TASK_QUEUE: taskQueue,
        INFRAAI_BRIDGE_PORT: String(await freePort()),
        INFRAAI_BRIDGE_WAIT_SECONDS: '1',
        INFRAAI_BRIDGE_POLLERS: String(BRIDGE_POLLERS),
        INFRAAI_BRIDGE_CONCURRENCY: String(BRIDGE_CONCURRENCY),
      },
    });
    const cpuBefore = await cpuSecondsOf(bridge.pid);
    // Once the bridge is ready (store and Temporal connected, polls open on the empty queue): from the
    // first message fed to the queue empty again.
    const started = performance.now();
    await feedQueue(sqs, queue.url, bodies());
    while ((await queueDepth(sqs, queue.url)) > 0) await sleep(20);
    const seconds = (performance.now() - started) / 1000;
    const cpuMsPerMessage = (((await cpuSecondsOf(bridge.pid)) - cpuBefore) * 1000) / BRIDGE_MESSAGES;
    const deadLettered = await queueDepth(sqs, queue.deadLetter!.url);
    // Visibility lags the starts a little: count until every run shows, or for 10 s.
    let runs = 0;
    for (let attempt = 0; attempt < 40; attempt += 1) {
      runs = 0;
      for await (const _ of temporal.client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) runs += 1;
      if (runs >= BRIDGE_MESSAGES) break;
      await sleep(250);
    }
    return {
      messages: BRIDGE_MESSAGES,
      bareLoop: { seconds: round(bareSeconds, 2), perSecond: round(BRIDGE_MESSAGES / bareSeconds, 0) },
      temporalAlone: { seconds: round(aloneSeconds, 2), perSecond: round(BRIDGE_MESSAGES / aloneSeconds, 0) },
      bridge: {
        seconds: round(seconds, 2),
        perSecond: round(BRIDGE_MESSAGES / seconds, 0),
        started: runs,
        deadLettered,
        cpuMsPerMessage: round(cpuMsPerMessage, 2),
      },
      ratio: round(bareSeconds / seconds, 2),
      ratioToTemporal: round(aloneSeconds / seconds, 2),
    };
  } finally {
    await bridge?.stop();
    await db.drop();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Flood

interface FloodResult {
  notifications: number;
  postedSeconds: number;
  jobs: Record<string, number>;
  limitReasons: Record<string, number>;
  actions: number;
  cooldownSeconds: number;
}

interface JobView {
  id: string;
  status: string;
  limitReason: string | null;
  startsAt: string;
}

async function listJobs(call: Call, policyId: string): Promise<JobView[]> {
  const jobs: JobView[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { items: JobView[]; nextCursor: string | null } } = await call(
      'GET',
      `/api/v1/jobs?policyId=${policyId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    if (page.status !== 200) throw new Error(`GET /api/v1/jobs answered ${page.status}`);
    jobs.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return jobs;
}

async function benchFlood(api: string, call: Call, host: LabHost): Promise<FloodResult> {
  const policy = await call<{ id: string }>('POST', '/api/v1/policies', {
    name: 'bench flood: one host, many firing episodes',
    priority: 5,
    condition: { matchers: [{ label: 'alertname', op: '=', value: 'BenchFlood' }], status: 'firing' },
    action: { type: 'ssh_command', params: { command: 'supervisorctl status ${label.service}' } },
    hostLabel: 'instance',
    limits: { cooldownSeconds: FLOOD_COOLDOWN_SECONDS, maxRunsPerHour: null, maxRunsPerDay: null, maxConcurrent: null },
  });
  if (policy.status !== 201) throw new Error(`flood policy not created: ${JSON.stringify(policy.body)}`);
  const labels = { alertname: 'BenchFlood', instance: host.name, service: host.service, severity: 'critical' };
  const fingerprint = alertFingerprint(labels);
  const started = performance.now();
  const base = Date.now();
  // 100 per second for 10 s, each a new startsAt: Alertmanager's worst case (a flapping alert).
  await mapLimit([...Array(FLOOD_ALERTS).keys()], 8, async (i) => {
    const due = started + (i * FLOOD_SECONDS * 1000) / FLOOD_ALERTS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const startsAt = new Date(base + i).toISOString();
    const res = await fetch(`${api}/api/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4',
        groupKey: '{}:{alertname="BenchFlood"}',
        truncatedAlerts: 0,
        status: 'firing',
        receiver: 'infraai',
        groupLabels: { alertname: 'BenchFlood' },
        commonLabels: labels,
        commonAnnotations: {},
        externalURL: 'http://alertmanager.bench.invalid:9093',
        alerts: [{ status: 'firing', labels, annotations: {}, startsAt, endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint }],
      }),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`flood notification ${i} answered ${res.status}`);
  });
  const postedSeconds = (performance.now() - started) / 1000;
  // Every run decides; wait until the job log holds one decision per notification.
  const deadline = Date.now() + 600_000;
  let jobs: JobView[] = [];
  while (Date.now() < deadline) {
    jobs = await listJobs(call, policy.body.id);
    if (jobs.length >= FLOOD_ALERTS && jobs.every((j) => j.status !== 'queued' && j.status !== 'running')) break;
    await sleep(2000);
  }
  const byStatus: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  for (const job of jobs) {
    byStatus[job.status] = (byStatus[job.status] ?? 0) + 1;
    if (job.limitReason) reasons[job.limitReason] = (reasons[job.limitReason] ?? 0) + 1;
  }
  const actions = jobs.filter((j) => ['queued', 'running', 'succeeded', 'failed'].includes(j.status)).length;
  return {
    notifications: FLOOD_ALERTS,
    postedSeconds: round(postedSeconds, 1),
    jobs: byStatus,
    limitReasons: reasons,
    actions,
    cooldownSeconds: FLOOD_COOLDOWN_SECONDS,
  };
}

// ---------------------------------------------------------------------------------------------
// 4. Restore: InfraAI's policy path beside Event-Driven Ansible

interface RestoreResult {
  infraai: { samples: RestoreSample[]; restoredMs: Stats; acceptedMs: Stats; jobMs: Stats };
  eda: { samples: EdaSample[]; restoredMs: Stats; playbookStartMs: Stats };
  ratio: number;
}

async function benchRestore(
  api: string,
  call: Call,
  host: LabHost,
  lab: { clientKeyPath: string; knownHostsPath: string },
): Promise<RestoreResult> {
  const policy = await call<{ id: string }>('POST', '/api/v1/policies', {
    name: 'bench: restart a supervisor service that stopped answering',
    priority: 10,
    condition: {
      matchers: [
        { label: 'alertname', op: '=', value: 'ServiceDown' },
        { label: 'job', op: '=', value: 'labsvc' },
      ],
      status: 'firing',
      severities: ['critical'],
    },
    action: { type: 'ssh_command', params: { command: 'supervisorctl restart ${label.service}' } },
    hostLabel: 'instance',
    // Each trial is a new firing episode on the same host, seconds apart: no cooldown, no rate limit.
    limits: { cooldownSeconds: 0, maxRunsPerHour: null, maxRunsPerDay: null },
  });
  if (policy.status !== 201) throw new Error(`restore policy not created: ${JSON.stringify(policy.body)}`);
  const eda = await startEda({ host, clientKeyPath: lab.clientKeyPath, knownHostsPath: lab.knownHostsPath });
  const infraTrial = async (): Promise<RestoreSample & { jobMs: number | null }> => {
    const sample = await restoreTrial(host, { url: `${api}/api/v1/alerts`, bearer: API_KEY });
    // Close the run: Alertmanager's resolved notification for the same firing episode.
    const resolved = serviceDownAlert(host, { startsAt: sample.startsAt, status: 'resolved', endsAt: new Date().toISOString() });
    const res = await fetch(`${api}/api/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(resolved),
    });
    await res.arrayBuffer();
    let jobMs: number | null = null;
    for (let i = 0; i < 100 && jobMs === null; i += 1) {
      const job = (await listJobs(call, policy.body.id)).find((j) => j.startsAt === sample.startsAt) as
        (JobView & { startedAt: string | null; finishedAt: string | null }) | undefined;
      if (job?.finishedAt && job.startedAt) jobMs = Date.parse(job.finishedAt) - Date.parse(job.startedAt);
      else await sleep(100);
    }
    return { ...sample, jobMs };
  };
  try {
    // Warm-up, not counted: the first SSH connection and host key, JIT, the rulebook's first match.
    await infraTrial();
    await eda.trial();
    const infra: (RestoreSample & { jobMs: number | null })[] = [];
    const edaSamples: EdaSample[] = [];
    for (let i = 0; i < RESTORE_RUNS; i += 1) {
      const order = i % 2 === 0 ? (['infraai', 'eda'] as const) : (['eda', 'infraai'] as const);
      for (const which of order) {
        if (which === 'infraai') {
          const sample = await infraTrial();
          infra.push(sample);
          console.log(
            `infraai #${i + 1}: restored ${sample.restoredMs} ms (accepted ${sample.acceptedMs} ms, job ${sample.jobMs ?? '—'} ms)`,
          );
        } else {
          const sample = await eda.trial();
          edaSamples.push(sample);
          console.log(`eda #${i + 1}: restored ${sample.restoredMs} ms (playbook start ${sample.playbookStartMs ?? '—'} ms)`);
        }
      }
    }
    const infraStats = stats(infra.map((s) => s.restoredMs));
    const edaStats = stats(edaSamples.map((s) => s.restoredMs));
    return {
      infraai: {
        samples: infra,
        restoredMs: infraStats,
        acceptedMs: stats(infra.map((s) => s.acceptedMs)),
        jobMs: stats(infra.map((s) => s.jobMs).filter((v): v is number => v !== null)),
      },
      eda: {
        samples: edaSamples,
        restoredMs: edaStats,
        playbookStartMs: stats(edaSamples.map((s) => s.playbookStartMs).filter((v): v is number => v !== null)),
      },
      ratio: round(infraStats.median / edaStats.median, 2),
    };
  } finally {
    await eda.stop();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const problems = labPrerequisites();
  if (problems.length) throw new Error(`the lab cannot run here: ${problems.join('; ')}`);
  const moto = await ensureMoto();
  if ('error' in moto) throw new Error(`moto is not available: ${moto.error}`);
  const measuredAt = new Date().toISOString();
  const benchStarted = performance.now();
  const machine = { description: machineDescription(), cores: cpus().length, loadAverageAtStart: loadavg().map((l) => round(l, 2)) };

  const lab = await startLab({ hosts: 1 });
  const host = lab.hosts[0]!;
  const motoSqs = await startMotoSqs(moto.executable);
  const fauxqsSqs = await startFauxqsSqs();
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-bench-ingress-'));
  let stack: NodeProcess | null = null;
  let connection: Connection | null = null;
  const cleanup = async () => {
    await connection?.close().catch(() => undefined);
    await stack?.stop();
    await motoSqs.stop();
    await fauxqsSqs.stop();
    await lab.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  const stopOnInterrupt = onInterrupt(cleanup);
  let webhooks: WebhookResult | null = null;
  let bridge: BridgeRuns | null = null;
  let flood: FloodResult | null = null;
  let restore: RestoreResult | null = null;
  try {
    const apiPort = await freePort();
    stack = await startStack({
      PORT: String(apiPort),
      INFRAAI_DATA_DIR: dataDir,
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
      INFRAAI_API_KEY: API_KEY,
      INFRAAI_LLM_PROVIDER: 'none',
      INFRAAI_AUTO_APPROVE_LOW_RISK: 'true',
      INFRAAI_PAGERDUTY_WEBHOOK_SECRETS: PD_SECRET,
    });
    const api = `http://127.0.0.1:${apiPort}`;
    const call = apiClient(api);
    const banner = /Temporal\s+(\S+)\s+namespace ([^,\s]+)/.exec(stack.output());
    if (!banner) throw new Error(`no Temporal address in the banner:\n${stack.output()}`);
    connection = await Connection.connect({ address: banner[1]! });
    const client = new Client({ connection, namespace: banner[2]! });
    const privateKey = await readFile(lab.clientKeyPath, 'utf8');
    if ((await call('POST', '/api/v1/credentials/ssh', { name: 'lab', username: 'root', privateKey })).status !== 201)
      throw new Error('credential not stored');
    if ((await call('POST', '/api/v1/cmdb', cmdbItemFor(host))).status !== 201) throw new Error('CMDB item not stored');

    // The bridge first, on an idle Temporal: after the webhooks, the stack's worker is still working on
    // the runs they started (PagerDuty runs and their remediations), and the bridge's starts wait
    // behind it (87 and 27 messages/s in two runs that way, same settings).
    const temporal = { address: banner[1]!, namespace: banner[2]!, client };
    if (PARTS.has('bridge')) {
      console.log('1. bridge on fauxqs …');
      const fast = await benchBridge(fauxqsSqs, temporal);
      console.log(JSON.stringify(fast));
      console.log('1. bridge on moto …');
      const slow = await benchBridge(motoSqs, temporal);
      console.log(JSON.stringify(slow));
      bridge = { fauxqs: fast, moto: slow };
    }
    if (PARTS.has('webhooks')) {
      console.log('2. webhooks …');
      webhooks = await benchWebhooks(api, client, `bench-bare-${randomUUID().slice(0, 8)}`);
      console.log(JSON.stringify(webhooks));
    }
    if (PARTS.has('restore')) {
      console.log('3. restore, InfraAI beside Event-Driven Ansible …');
      restore = await benchRestore(api, call, host, lab);
    }
    if (PARTS.has('flood')) {
      console.log('4. flood …');
      flood = await benchFlood(api, call, host);
      console.log(JSON.stringify(flood));
    }
  } finally {
    stopOnInterrupt();
    await cleanup();
  }
  if (!webhooks || !bridge || !flood || !restore) {
    console.log(`BENCH_INGRESS_PARTS=${[...PARTS].join(',')}: a partial run, no report written`);
    return;
  }

  const benchSeconds = round((performance.now() - benchStarted) / 1000, 0);
  const ms = (v: number) => (Number.isNaN(v) ? '—' : `${round(v, 1)} ms`);
  const latencyRow = (name: string, l: Latency, note: string) => [name, ms(l.median), ms(l.p90), ms(l.p99), ms(l.max), l.n, note];
  const statsRow = (name: string, s: Stats, note: string) => [name, ms(s.median), ms(s.p90), `${ms(s.min)} – ${ms(s.max)}`, s.n, note];
  await writeReport(
    'ingress',
    {
      machine: { ...machine, loadAverageAtEnd: loadavg().map((l) => round(l, 2)) },
      measuredAt,
      benchSeconds,
      settings: {
        webhookRequests: WEBHOOK_REQUESTS,
        webhookConcurrency: WEBHOOK_CONCURRENCY,
        bridgeMessages: BRIDGE_MESSAGES,
        flood: FLOOD_ALERTS,
        restoreRuns: RESTORE_RUNS,
      },
      webhooks,
      bridge,
      flood,
      restore,
    },
    [
      {
        title: `Webhook acknowledged at a steady ${webhooks.steady.rate} requests/s for ${webhooks.steady.seconds} s (open loop, the three kinds in turn; the run's start accepted by Temporal before the answer)`,
        columns: ['path', 'median', 'p90', 'p99', 'max', 'n', 'note'],
        rows: [
          latencyRow('POST /api/v1/alerts (one firing alert, bearer key)', webhooks.steady.alerts, 'target p99 ≤ 100 ms'),
          latencyRow('POST /api/v1/webhooks/pagerduty (signed incident.triggered)', webhooks.steady.pagerDuty, 'target p99 ≤ 100 ms'),
          latencyRow('baseline: bare client.workflow.start from the benchmark', webhooks.steady.bareStart, 'the durable hand-off alone'),
        ],
      },
      {
        title: `Webhook acknowledged, saturated (${WEBHOOK_CONCURRENCY} clients, each sending again as soon as answered)`,
        columns: ['path', 'median', 'p90', 'p99', 'max', 'n', 'note'],
        rows: [
          latencyRow(
            'POST /api/v1/alerts (one firing alert, bearer key)',
            webhooks.alerts,
            `ratio to the bare start at p99 ${round(webhooks.alerts.p99 / webhooks.bareStart.p99, 2)}`,
          ),
          latencyRow(
            'POST /api/v1/webhooks/pagerduty (signed incident.triggered)',
            webhooks.pagerDuty,
            `ratio to the bare start at p99 ${round(webhooks.pagerDuty.p99 / webhooks.bareStart.p99, 2)}`,
          ),
          latencyRow('baseline: bare client.workflow.start from the benchmark', webhooks.bareStart, 'the durable hand-off alone'),
        ],
      },
      {
        title: `SQS bridge throughput, ${bridge.fauxqs.messages} PagerDuty triggers per consumer, on two SQS-compatible servers`,
        columns: ['server', 'consumer', 'seconds', 'messages/s', 'note'],
        rows: (['fauxqs', 'moto'] as const).flatMap((server) => {
          const run = bridge[server];
          return [
            [
              server,
              `baseline: bare receive-10 + delete-batch loop ×${BRIDGE_POLLERS}`,
              run.bareLoop.seconds,
              run.bareLoop.perSecond,
              'no parsing, no Temporal',
            ],
            [
              server,
              `baseline: Temporal alone, the same starts ${BRIDGE_CONCURRENCY} at once`,
              run.temporalAlone.seconds,
              run.temporalAlone.perSecond,
              'no queue: what the dev server takes',
            ],
            [
              server,
              '`npm run bridge` (parse, tenant, start in Temporal, delete)',
              run.bridge.seconds,
              run.bridge.perSecond,
              `${run.bridge.started} runs started, ${run.bridge.deadLettered} dead-lettered; ${run.ratio}× the bare loop, ${run.ratioToTemporal}× Temporal alone; bridge CPU ${run.bridge.cpuMsPerMessage} ms a message; target ≥ 200/s`,
            ],
          ];
        }),
      },
      {
        title: `Flood: ${flood.notifications} firing notifications for one host in ${FLOOD_SECONDS} s (each a new firing episode), policy cooldown ${flood.cooldownSeconds} s`,
        columns: ['actions run', 'decisions by status', 'limited by', 'posted in'],
        rows: [
          [
            `${flood.actions} (target ≤ 1)`,
            Object.entries(flood.jobs)
              .map(([k, v]) => `${k} ${v}`)
              .join(', '),
            Object.entries(flood.limitReasons)
              .map(([k, v]) => `${k} ${v}`)
              .join(', '),
            `${flood.postedSeconds} s`,
          ],
        ],
      },
      {
        title: `Alert posted → labsvc restored on a lab host, ${restore.infraai.samples.length} runs each, interleaved`,
        columns: ['system', 'median', 'p90', 'range', 'n', 'note'],
        rows: [
          statsRow(
            'InfraAI: POST /api/v1/alerts → policy ssh_command `supervisorctl restart`',
            restore.infraai.restoredMs,
            `ratio to EDA ${restore.ratio} (target ≤ 0.5); job started → finished median ${ms(restore.infraai.jobMs.median)}`,
          ),
          statsRow(
            'Event-Driven Ansible: ansible-rulebook webhook → run_playbook',
            restore.eda.restoredMs,
            `playbook spawned median ${ms(restore.eda.playbookStartMs.median)} after the post`,
          ),
        ],
      },
    ],
    [
      `Cores ${machine.cores}, load average at start ${machine.loadAverageAtStart.join(' ')}, at the end ${loadavg()
        .map((l) => round(l, 2))
        .join(' ')}; the benchmark took ${benchSeconds} s.`,
      'Webhooks: every request answers only after Temporal accepted the start of its run (alerts: `alert-<fingerprint>-<startsAt>`; PagerDuty: `pd-<incident id>`); the baseline starts a workflow from the benchmark process on a queue no worker polls. Steady: an open loop, each request sent on its schedule (latency counts any wait for the server). Saturated: rounds of 20 of each, interleaved, after a 5 s pause that lets the worker finish the steady part’s runs.',
      `Bridge: its own process (\`bridge/main.ts\`, ${BRIDGE_POLLERS} pollers, ${BRIDGE_CONCURRENCY} messages at once) on a task queue no worker polls, so the relay is measured and not the runs; once it is ready, timed from the first message fed until the queue is empty (received, relayed, deleted); the bare loop runs as many receive loops at once. Both are fed by the same feeder, which keeps the queue at most ${FEED_DEPTH} deep (moto's SQS scans a queue on every call: filled with 2,000 messages up front, it measured moto at about 9 messages/s, not the consumers). Two servers: moto (the tests' SQS server, which serves about 100 messages/s here: it recomputes every queue attribute on each send) and fauxqs 1.9.2 (an in-memory SQS emulator in Node, which serves several hundred). Temporal alone: the bridge's starts (same workflow type, input shape, search attribute and id policies) from the benchmark process, as many at once as the bridge relays; the dev server (SQLite, one writer) spends a whole core on them. Bridge CPU: the bridge process's user + system time over the run, per message.`,
      'Restore: the same trial for both (bench/eda.ts restoreTrial: labsvc SIGKILLed, the same Alertmanager v4 notification with a new startsAt, restored = a new pid in labsvc’s start log and GET /health 200, polled every 20 ms); InfraAI’s run also gets the resolved notification after each trial. One warm-up each, not counted.',
      ...provenance('npm run bench:ingress', measuredAt),
    ],
    { readmeSection: 'ingress' },
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
