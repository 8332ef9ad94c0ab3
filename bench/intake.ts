import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { median, round } from './lib.js';

// Incident intake: N incidents posted concurrently through the API against the bare Temporal
// client starting N trivial workflows on the same server, in rounds (round 0 warms both paths up
// and is not reported). Each round waits for all its runs to end, so rounds do not overlap.

export interface IntakeRound {
  startsPerSecond: number;
  allStartedMs: number;
  allCompletedMs: number;
}

export interface IntakePath {
  startsPerSecondMedian: number;
  allStartedMsMedian: number;
  allCompletedMsMedian: number;
  rounds: IntakeRound[];
}

export interface IntakeReport {
  incidentsPerRound: number;
  rounds: number;
  baselineBareClient: IntakePath;
  api: IntakePath;
  /** API starts/s over the bare client's, medians. */
  startsRatio: number;
  completionTimeRatio: number;
}

async function timeAll<T>(tasks: (() => Promise<T>)[]): Promise<{ results: T[]; ms: number }> {
  const started = performance.now();
  const results = await Promise.all(tasks.map((task) => task()));
  return { results, ms: performance.now() - started };
}

const summarise = (rounds: IntakeRound[]): IntakePath => ({
  startsPerSecondMedian: round(median(rounds.map((r) => r.startsPerSecond))),
  allStartedMsMedian: round(median(rounds.map((r) => r.allStartedMs))),
  allCompletedMsMedian: round(median(rounds.map((r) => r.allCompletedMs))),
  rounds,
});

export async function measureIntake(options: {
  api: string;
  apiKey: string;
  address: string;
  namespace: string;
  client: Client;
  incidents: number;
  rounds: number;
  log: (line: string) => void;
}): Promise<IntakeReport> {
  const { api, apiKey, address, namespace, client, incidents: n, rounds, log } = options;
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
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
    for (let round = 0; round < rounds + 1; round += 1) {
      const baselineStart = performance.now();
      const starts = await timeAll(
        Array.from(
          { length: n },
          (_, i) => () =>
            client.workflow.start('benchNoop', { taskQueue: noopQueue, workflowId: `bench-noop-${round}-${i}-${Date.now()}` }),
        ),
      );
      await Promise.all(starts.results.map((handle) => handle.result()));
      const baselineRound: IntakeRound = {
        startsPerSecond: (n / starts.ms) * 1000,
        allStartedMs: starts.ms,
        allCompletedMs: performance.now() - baselineStart,
      };

      const apiStart = performance.now();
      const posted = await timeAll(
        Array.from({ length: n }, (_, i) => async () => {
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
        startsPerSecond: (n / posted.ms) * 1000,
        allStartedMs: posted.ms,
        allCompletedMs: performance.now() - apiStart,
      };
      log(
        `  intake round ${round}${round === 0 ? ' (warm-up)' : ''}: bare client ${round2(baselineRound.startsPerSecond)} starts/s, API ${round2(apiRound.startsPerSecond)} starts/s`,
      );
      if (round > 0) {
        baseline.push(baselineRound);
        viaApi.push(apiRound);
      }
    }
    const b = summarise(baseline);
    const a = summarise(viaApi);
    return {
      incidentsPerRound: n,
      rounds,
      baselineBareClient: b,
      api: a,
      startsRatio: round(a.startsPerSecondMedian / b.startsPerSecondMedian, 3),
      completionTimeRatio: round(a.allCompletedMsMedian / b.allCompletedMsMedian, 3),
    };
  } finally {
    noopWorker.shutdown();
    await noopRun;
    await workerConnection.close();
  }
}

const round2 = (value: number) => round(value, 1);

export function intakeTableRows(report: IntakeReport): (string | number)[][] {
  const b = report.baselineBareClient;
  const a = report.api;
  return [
    ['bare Temporal client, trivial workflow (baseline)', b.startsPerSecondMedian, b.allStartedMsMedian, b.allCompletedMsMedian, '1×', '—'],
    [
      'POST /api/v1/incidents → remediateIncident',
      a.startsPerSecondMedian,
      a.allStartedMsMedian,
      a.allCompletedMsMedian,
      `${report.startsRatio}× starts/s, ${report.completionTimeRatio}× completion time`,
      `≥ 0.9× starts/s: ${report.startsRatio >= 0.9 ? 'met' : '**missed**'}`,
    ],
  ];
}

export const INTAKE_TABLE_COLUMNS = ['path', 'starts/s', 'all started (ms)', 'all completed (ms)', 'vs baseline', 'target'];
