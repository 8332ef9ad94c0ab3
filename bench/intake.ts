import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { freePort, machineDescription, median, round, startStack, writeReport } from './lib.js';

// `npm run bench`: incident intake through the API against the bare Temporal client, and API read
// latency against /health, all measured in one run on one machine. Nothing here asserts a time.

const N = Number(process.env.BENCH_INCIDENTS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const LOAD_CONNECTIONS = Number(process.env.BENCH_LOAD_CONNECTIONS ?? 10);
const API_KEY = 'bench-admin-key-0123456789abcdef';

interface IntakeRound {
  startsPerSecond: number;
  allStartedMs: number;
  allCompletedMs: number;
}

async function timeAll<T>(tasks: (() => Promise<T>)[]): Promise<{ results: T[]; ms: number }> {
  const started = performance.now();
  const results = await Promise.all(tasks.map((task) => task()));
  return { results, ms: performance.now() - started };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-bench-'));
  const [apiPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const stack = await startStack({
    PORT: String(apiPort),
    INFRAAI_DATA_DIR: dataDir,
    TEMPORAL_DEV_PORT: String(temporalPort),
    TEMPORAL_DEV_UI_PORT: String(uiPort),
    INFRAAI_API_KEY: API_KEY,
  });
  const api = `http://127.0.0.1:${apiPort}`;
  const address = `127.0.0.1:${temporalPort}`;
  const namespace = /namespace (\S+),/.exec(stack.output())?.[1] ?? 'infraai';
  const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  const workerConnection = await NativeConnection.connect({ address });
  const noopQueue = 'bench-noop';
  const noopWorker = await Worker.create({
    connection: workerConnection,
    namespace,
    taskQueue: noopQueue,
    workflowsPath: fileURLToPath(new URL('./noop-workflows.ts', import.meta.url)),
  });
  const noopRun = noopWorker.run();

  try {
    const created = await fetch(`${api}/api/v1/cmdb`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ tagId: 'bench-host', hostname: 'bench-host.internal', address: '127.0.0.1', environment: 'test' }),
    });
    if (created.status !== 201) throw new Error(`CMDB create failed: ${created.status} ${await created.text()}`);

    const baseline: IntakeRound[] = [];
    const viaApi: IntakeRound[] = [];
    let sampleIncidentId = '';
    for (let round = 0; round < ROUNDS + 1; round += 1) {
      // Round 0 warms both paths up (bundles, connections, JIT) and is not reported.
      const baselineStart = performance.now();
      const starts = await timeAll(
        Array.from(
          { length: N },
          (_, i) => () =>
            client.workflow.start('benchNoop', { taskQueue: noopQueue, workflowId: `bench-noop-${round}-${i}-${Date.now()}` }),
        ),
      );
      await Promise.all(starts.results.map((handle) => handle.result()));
      const baselineRound: IntakeRound = {
        startsPerSecond: (N / starts.ms) * 1000,
        allStartedMs: starts.ms,
        allCompletedMs: performance.now() - baselineStart,
      };

      const apiStart = performance.now();
      const posted = await timeAll(
        Array.from({ length: N }, (_, i) => async () => {
          const response = await fetch(`${api}/api/v1/incidents`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ title: `bench incident ${round}-${i}`, severity: 'low', tagId: 'bench-host' }),
          });
          if (response.status !== 201) throw new Error(`incident create failed: ${response.status} ${await response.text()}`);
          return (await response.json()) as { id: string; workflowId: string };
        }),
      );
      await Promise.all(posted.results.map(({ workflowId }) => client.workflow.getHandle(workflowId).result()));
      const apiRound: IntakeRound = {
        startsPerSecond: (N / posted.ms) * 1000,
        allStartedMs: posted.ms,
        allCompletedMs: performance.now() - apiStart,
      };
      sampleIncidentId = posted.results[0]!.id;
      if (round > 0) {
        baseline.push(baselineRound);
        viaApi.push(apiRound);
      }
    }

    const load = async (path: string) => {
      const result = await autocannon({
        url: `${api}${path}`,
        headers: { authorization: `Bearer ${API_KEY}` },
        connections: LOAD_CONNECTIONS,
        duration: LOAD_SECONDS,
      });
      if (result.non2xx > 0) throw new Error(`${path}: ${result.non2xx} non-2xx responses under load`);
      return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average, requests: result.requests.total };
    };
    await load('/health'); // warm-up
    const health = await load('/health');
    const incident = await load(`/api/v1/incidents/${sampleIncidentId}`);

    const summary = {
      machine: machineDescription(),
      measuredAt: new Date().toISOString(),
      incidentsPerRound: N,
      rounds: ROUNDS,
      intake: {
        baselineBareClient: {
          startsPerSecondMedian: round(median(baseline.map((r) => r.startsPerSecond))),
          allStartedMsMedian: round(median(baseline.map((r) => r.allStartedMs))),
          allCompletedMsMedian: round(median(baseline.map((r) => r.allCompletedMs))),
          rounds: baseline,
        },
        api: {
          startsPerSecondMedian: round(median(viaApi.map((r) => r.startsPerSecond))),
          allStartedMsMedian: round(median(viaApi.map((r) => r.allStartedMs))),
          allCompletedMsMedian: round(median(viaApi.map((r) => r.allCompletedMs))),
          rounds: viaApi,
        },
      },
      latency: { loadSeconds: LOAD_SECONDS, connections: LOAD_CONNECTIONS, health, incident },
    };
    const ratio = (a: number, b: number) => `${round(a / b)}×`;
    const b = summary.intake.baselineBareClient;
    const a = summary.intake.api;
    await writeReport(
      'intake',
      summary,
      [
        {
          title: `Incident intake, ${N} concurrent starts (median of ${ROUNDS} rounds)`,
          columns: ['path', 'starts/s', 'all started (ms)', 'all completed (ms)', 'vs baseline'],
          rows: [
            [
              'bare Temporal client, trivial workflow (baseline)',
              b.startsPerSecondMedian,
              b.allStartedMsMedian,
              b.allCompletedMsMedian,
              '1×',
            ],
            [
              'POST /api/v1/incidents → remediateIncident',
              a.startsPerSecondMedian,
              a.allStartedMsMedian,
              a.allCompletedMsMedian,
              `${ratio(a.startsPerSecondMedian, b.startsPerSecondMedian)} starts/s, ${ratio(a.allCompletedMsMedian, b.allCompletedMsMedian)} completion time`,
            ],
          ],
        },
        {
          title: `API latency under load (${LOAD_CONNECTIONS} connections, ${LOAD_SECONDS} s each)`,
          columns: ['endpoint', 'p50 (ms)', 'p99 (ms)', 'req/s', 'p50 vs /health'],
          rows: [
            ['GET /health (baseline)', health.p50, health.p99, round(health.rps), '1×'],
            [
              'GET /api/v1/incidents/{id}',
              incident.p50,
              incident.p99,
              round(incident.rps),
              ratio(incident.p50, Math.max(health.p50, 0.01)),
            ],
          ],
        },
      ],
      [
        `Machine: ${summary.machine}.`,
        `Measured ${summary.measuredAt} by \`npm run bench\` (BENCH_INCIDENTS=${N}, BENCH_ROUNDS=${ROUNDS}).`,
      ],
    );
  } finally {
    noopWorker.shutdown();
    await noopRun;
    await workerConnection.close();
    await connection.close();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
