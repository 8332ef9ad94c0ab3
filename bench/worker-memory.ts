import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { incidentStateQuery } from '../core/contracts/incident.js';
import { INCIDENT_STATUSES, type IncidentStatus } from '../core/incident.js';
import { startTemporalDevServer, type DevServerHandle } from '../launcher/temporal-dev-server.js';
import { buildWorkflowBundle } from '../launcher/workflow-bundle.js';
import {
  createBenchDatabase,
  freePort,
  machineDescription,
  mapLimit,
  median,
  onInterrupt,
  provenance,
  residentMemoryMb,
  round,
  startNodeProcess,
  writeReport,
  type NodeProcess,
} from './lib.js';

// `npm run bench:worker-memory`: the RSS of a worker process (bench/worker-memory-worker.ts: the
// real workflow bundle and activities, a stand-in SSH port whose hosts make every plan wait for
// approval) with 0, 100 and 1,000 runs waiting, then the effect of the workflow cache size: the
// worker restarted with each maxCachedWorkflows and every waiting run queried once (a query of a
// run not in the cache replays its history into it). The API (`npm run api`) and the worker are
// separate processes over a fresh PostgreSQL database and the bench's own Temporal dev server.

function listFromEnv(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function countFromEnv(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name}: '${value}' is not a whole number`);
  return parsed;
}

const STEPS = listFromEnv('BENCH_WM_RUNS', '100,1000')
  .map((v) => countFromEnv('BENCH_WM_RUNS', v))
  .sort((a, b) => a - b);
/** `default` is the SDK's size; a number sets INFRAAI_WORKER_MAX_CACHED_WORKFLOWS. */
const CACHE_SIZES = listFromEnv('BENCH_WM_CACHE_SIZES', 'default,100').map((v) =>
  v === 'default' ? null : countFromEnv('BENCH_WM_CACHE_SIZES', v),
);
const SETTLE_SECONDS = Number(process.env.BENCH_WM_SETTLE_SECONDS ?? 5);
const START_CONCURRENCY = Number(process.env.BENCH_WM_START_CONCURRENCY ?? 10);
const QUERY_CONCURRENCY = Number(process.env.BENCH_WM_QUERY_CONCURRENCY ?? 10);
/** How long one run may take to reach the approval gate under load, before the bench gives up. */
const PER_RUN_TIMEOUT_MS = Number(process.env.BENCH_WM_PER_RUN_TIMEOUT_MS ?? 2000);
/** Runs taken to the approval gate and cancelled before the first figure, so it is not lazy loading. */
const WARMUP_RUNS = Number(process.env.BENCH_WM_WARMUP_RUNS ?? 5);
const API_KEY = 'bench-admin-key-0123456789abcdef';
const TAG_ID = 'bench-port-held';
const WARMUP_TAG_ID = 'bench-warm-up';
const log = (line: string) => console.log(`[bench] ${line}`);

interface MemorySample {
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
}

interface GrowthRow extends MemorySample {
  waitingRuns: number;
  /** Seconds from the first start of this step to the last run waiting. */
  reachedInSeconds: number | null;
}

interface CacheRow {
  maxCachedWorkflows: number | 'SDK default';
  idle: MemorySample;
  afterQueryingAll: MemorySample;
  queriedRuns: number;
  queryAllSeconds: number;
}

/** The SDK 1.24 default (worker-options.js, reuseV8Context): 600 runs per GiB of heap above 200 MiB. */
const sdkDefaultCacheSize = (heapLimitMb: number) => Math.max(Math.floor((Math.max(heapLimitMb - 200, 0) * 600) / 1024), 10);

class BenchWorker {
  private constructor(
    readonly process: NodeProcess,
    readonly cacheSize: number | null,
  ) {}

  static async start(env: Record<string, string>, cacheSize: number | null): Promise<BenchWorker> {
    const child = await startNodeProcess({
      script: 'bench/worker-memory-worker.ts',
      env: { ...env, INFRAAI_WORKER_MAX_CACHED_WORKFLOWS: cacheSize === null ? '' : String(cacheSize) },
      ready: 'worker ready',
      what: 'the benchmark worker',
      nodeArgs: ['--expose-gc'],
      ipc: true,
    });
    return new BenchWorker(child, cacheSize);
  }

  /** A full collection in the worker (main isolate), a settle, then the median of three RSS reads. */
  async sample(): Promise<MemorySample & { heapLimitMb: number }> {
    const collected = await new Promise<{ exposedGc: boolean; heapUsed: number; external: number; heapLimit: number }>(
      (resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the worker did not answer the memory request within 30 s')), 30_000);
        const onMessage = (message: { type?: string; exposedGc: boolean; heapUsed: number; external: number; heapLimit: number }) => {
          if (message?.type !== 'collected') return;
          clearTimeout(timer);
          this.process.child.off('message', onMessage);
          resolve(message);
        };
        this.process.child.on('message', onMessage);
        this.process.child.send({ type: 'collect' });
      },
    );
    if (!collected.exposedGc) throw new Error('the worker runs without --expose-gc: its heap figures would include garbage');
    await delay(SETTLE_SECONDS * 1000);
    const reads: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      reads.push(await residentMemoryMb(this.process.pid));
      if (i < 2) await delay(1000);
    }
    return {
      rssMb: round(median(reads), 1),
      heapUsedMb: round(collected.heapUsed / 2 ** 20, 1),
      externalMb: round(collected.external / 2 ** 20, 1),
      heapLimitMb: round(collected.heapLimit / 2 ** 20),
    };
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}

class Api {
  constructor(readonly url: string) {}

  private headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

  async post(path: string, body: unknown, expected: number[]): Promise<unknown> {
    const response = await fetch(`${this.url}${path}`, { method: 'POST', headers: this.headers, body: JSON.stringify(body) });
    const text = await response.text();
    if (!expected.includes(response.status)) throw new Error(`POST ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as unknown;
  }

  /** How many incidents of the CMDB item are in `status` (pages of 200). */
  async count(tagId: string, status: IncidentStatus): Promise<number> {
    let total = 0;
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ tagId, status, limit: '200', ...(cursor ? { cursor } : {}) });
      const response = await fetch(`${this.url}/api/v1/incidents?${query}`, { headers: this.headers });
      if (response.status !== 200) throw new Error(`GET /api/v1/incidents: ${response.status} ${await response.text()}`);
      const page = (await response.json()) as { items: unknown[]; nextCursor: string | null };
      total += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
    return total;
  }
}

const ENDED: IncidentStatus[] = INCIDENT_STATUSES.filter((s) => ['resolved', 'escalated', 'failed', 'cancelled'].includes(s));

/** Waits until `target` runs of `tagId` are in `status`; a run that ends otherwise means the set-up is wrong. */
async function untilStatus(api: Api, tagId: string, status: IncidentStatus, target: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const reached = await api.count(tagId, status);
    if (reached !== last) log(`  ${reached}/${target} runs ${status.replace('_', ' ')}`);
    last = reached;
    if (reached >= target) return;
    for (const other of ENDED.filter((s) => s !== status)) {
      const ended = await api.count(tagId, other);
      if (ended > 0) throw new Error(`${ended} run(s) ended ${other}: the stand-in host no longer leads every run to an approval`);
    }
    if (Date.now() > deadline) throw new Error(`only ${reached} of ${target} runs are ${status} after ${timeoutMs} ms`);
    await delay(2000);
  }
}

/** Raises `count` incidents on `tagId` through the API; each run's plan waits for approval. */
function raiseIncidents(api: Api, tagId: string, count: number, offset: number): Promise<{ id: string; workflowId: string }[]> {
  return mapLimit(Array.from({ length: count }), START_CONCURRENCY, async (_, i) => {
    return (await api.post(
      '/api/v1/incidents',
      {
        title: 'web cannot start',
        description: `bind() to 0.0.0.0:8080 failed: address already in use (bench run ${offset + i})`,
        severity: 'high',
        tagId,
      },
      [201],
    )) as { id: string; workflowId: string };
  });
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-bench-wm-'));
  const removeDataDir = () => rm(dataDir, { recursive: true, force: true });
  const forgetDataDir = onInterrupt(removeDataDir);
  let database: Awaited<ReturnType<typeof createBenchDatabase>> | null = null;
  let devServer: DevServerHandle | null = null;
  let forgetDevServer = () => {};
  let api: NodeProcess | null = null;
  let worker: BenchWorker | null = null;
  let connection: Connection | null = null;
  try {
    database = await createBenchDatabase('worker_memory');
    log('starting the Temporal dev server and bundling the workflows…');
    const server = await startTemporalDevServer({
      configFile: 'temporal-dev.yaml',
      dataDir,
      port: await freePort(),
      uiPort: await freePort(),
      headless: true,
    });
    devServer = server;
    forgetDevServer = onInterrupt(() => server.stop());
    const bundle = await buildWorkflowBundle(join(dataDir, 'workflow-bundle.js'));
    const apiPort = await freePort();
    const env = {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: devServer.address,
      TEMPORAL_NAMESPACE: devServer.namespace,
      INFRAAI_DATA_DIR: dataDir,
      INFRAAI_WORKFLOW_BUNDLE: bundle,
      INFRAAI_API_KEY: API_KEY,
      // The runs must still wait when the last step is measured.
      INFRAAI_APPROVAL_TIMEOUT_SECONDS: String(6 * 3600),
      PORT: String(apiPort),
    };
    // The API first: it applies the migrations to the fresh database before the worker opens it.
    api = await startNodeProcess({ script: 'api/server.ts', env, ready: 'InfraAI API listening', what: 'the API (npm run api)' });
    const client = new Api(`http://127.0.0.1:${apiPort}`);
    for (const tagId of [TAG_ID, WARMUP_TAG_ID]) {
      await client.post(
        '/api/v1/cmdb',
        {
          tagId,
          hostname: `${tagId}.internal`,
          address: '10.77.0.1',
          environment: 'staging',
          serviceManager: 'supervisor',
          sshUser: 'ops',
          sshCredential: 'bench-key',
          tags: { service: 'web', servicePort: '8080' },
        },
        [201],
      );
    }

    const mainCache = CACHE_SIZES[0] ?? null;
    worker = await BenchWorker.start(env, mainCache);
    if (WARMUP_RUNS > 0) {
      log(`warm-up: ${WARMUP_RUNS} runs to the approval gate, then cancelled…`);
      const warmUp = await raiseIncidents(client, WARMUP_TAG_ID, WARMUP_RUNS, 0);
      await untilStatus(client, WARMUP_TAG_ID, 'awaiting_approval', WARMUP_RUNS, 60_000 + WARMUP_RUNS * PER_RUN_TIMEOUT_MS);
      for (const { id } of warmUp) await client.post(`/api/v1/incidents/${id}/cancel`, {}, [202]);
      await untilStatus(client, WARMUP_TAG_ID, 'cancelled', WARMUP_RUNS, 60_000);
    }
    const idle = await worker.sample();
    const cacheDefault = sdkDefaultCacheSize(idle.heapLimitMb);
    log(`worker pid ${worker.process.pid}: ${idle.rssMb} MB RSS idle (SDK default cache: ${cacheDefault} runs)`);
    const growth: GrowthRow[] = [{ waitingRuns: 0, reachedInSeconds: null, ...strip(idle) }];
    const workflowIds: string[] = [];
    for (const target of STEPS) {
      const more = target - workflowIds.length;
      if (more <= 0) continue;
      log(`starting ${more} incident runs (to ${target})…`);
      const started = performance.now();
      const created = (await raiseIncidents(client, TAG_ID, more, workflowIds.length)).map((incident) => incident.workflowId);
      workflowIds.push(...created);
      await untilStatus(client, TAG_ID, 'awaiting_approval', target, 60_000 + more * PER_RUN_TIMEOUT_MS);
      const reachedInSeconds = round((performance.now() - started) / 1000, 1);
      const sample = await worker.sample();
      growth.push({ waitingRuns: target, reachedInSeconds, ...strip(sample) });
      log(`  ${target} waiting: ${sample.rssMb} MB RSS, ${sample.heapUsedMb} MB heap (reached in ${reachedInSeconds} s)`);
    }

    connection = await Connection.connect({ address: devServer.address });
    const temporal = new Client({ connection, namespace: devServer.namespace });
    const cacheRows: CacheRow[] = [];
    for (const size of CACHE_SIZES) {
      await worker.stop();
      worker = await BenchWorker.start(env, size);
      const restartedIdle = strip(await worker.sample());
      log(
        `worker restarted with maxCachedWorkflows ${size ?? 'SDK default'}: ${restartedIdle.rssMb} MB idle; querying ${workflowIds.length} runs…`,
      );
      const started = performance.now();
      await mapLimit(workflowIds, QUERY_CONCURRENCY, async (id) => {
        const state = await temporal.workflow.getHandle(id).query(incidentStateQuery);
        if (state.status !== 'awaiting_approval') throw new Error(`run ${id} is ${state.status}, not waiting for approval`);
      });
      const queryAllSeconds = round((performance.now() - started) / 1000, 1);
      const after = strip(await worker.sample());
      cacheRows.push({
        maxCachedWorkflows: size ?? 'SDK default',
        idle: restartedIdle,
        afterQueryingAll: after,
        queriedRuns: workflowIds.length,
        queryAllSeconds,
      });
      log(`  after querying all: ${after.rssMb} MB RSS (${queryAllSeconds} s)`);
    }

    const measuredAt = new Date().toISOString();
    const base = growth[0]!;
    const perHundred = (row: { rssMb: number }, from: { rssMb: number }, runs: number) =>
      runs > 0 ? round(((row.rssMb - from.rssMb) / runs) * 100, 2) : '—';
    const cacheLabel = (size: number | null) => (size === null ? `SDK default (${cacheDefault})` : String(size));
    await writeReport(
      'worker-memory',
      {
        machine: machineDescription(),
        measuredAt,
        settleSeconds: SETTLE_SECONDS,
        sdkDefaultMaxCachedWorkflows: cacheDefault,
        growth: { maxCachedWorkflows: mainCache ?? 'SDK default', rows: growth },
        cache: cacheRows,
      },
      [
        {
          title: `Worker memory with runs waiting for approval (maxCachedWorkflows: ${cacheLabel(mainCache)})`,
          columns: ['runs waiting', 'RSS (MB)', 'growth since 0 (MB)', 'MB per 100 runs', 'JS heap used (MB)', 'all waiting after (s)'],
          rows: growth.map((row) => [
            row.waitingRuns,
            row.rssMb,
            round(row.rssMb - base.rssMb, 1),
            perHundred(row, base, row.waitingRuns),
            row.heapUsedMb,
            row.reachedInSeconds ?? '—',
          ]),
        },
        {
          title: `Workflow cache size: worker restarted, then each of the ${workflowIds.length} waiting runs queried once (replayed into the cache)`,
          columns: [
            'maxCachedWorkflows',
            'runs it can hold',
            'RSS idle (MB)',
            'RSS after (MB)',
            'growth (MB)',
            'JS heap after (MB)',
            'query all (s)',
          ],
          rows: cacheRows.map((row) => {
            const cached =
              row.maxCachedWorkflows === 'SDK default'
                ? Math.min(cacheDefault, row.queriedRuns)
                : Math.min(row.maxCachedWorkflows, row.queriedRuns);
            return [
              row.maxCachedWorkflows === 'SDK default' ? cacheLabel(null) : row.maxCachedWorkflows,
              cached,
              row.idle.rssMb,
              row.afterQueryingAll.rssMb,
              round(row.afterQueryingAll.rssMb - row.idle.rssMb, 1),
              row.afterQueryingAll.heapUsedMb,
              row.queryAllSeconds,
            ];
          }),
        },
      ],
      [
        `The worker is its own process: the real workflow bundle (pre-built, as in production) and activities over PostgreSQL; only the SSH port is a stand-in whose hosts report a stray process on the service port, so each run’s port-in-use plan proposes a high-risk fix and waits for approval. Before the first figure, ${WARMUP_RUNS} warm-up runs reached the gate and were cancelled, so 0 is a worker that has run the code once.`,
        `RSS: VmRSS of the worker from /proc, median of three reads after a full GC in its main isolate (--expose-gc) and ${SETTLE_SECONDS} s settle; workflows run in the SDK’s workflow threads, whose heaps V8 collects on its own. RSS rarely shrinks after a peak, so a step can read higher than its runs need.`,
        ...provenance('npm run bench:worker-memory', measuredAt),
      ],
      { readmeSection: 'worker-memory' },
    );
  } finally {
    await connection?.close();
    await worker?.stop();
    await api?.stop();
    await devServer?.stop();
    forgetDevServer();
    await database?.drop();
    await removeDataDir();
    forgetDataDir();
  }
}

function strip(sample: MemorySample & { heapLimitMb?: number }): MemorySample {
  return { rssMb: sample.rssMb, heapUsedMb: sample.heapUsedMb, externalMb: sample.externalMb };
}

main().catch((err: unknown) => {
  console.error(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
