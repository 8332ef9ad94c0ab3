import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { READ_TABLE_COLUMNS, measureReads, readTableRows, type ReadsReport } from './api-reads.js';
import { INTAKE_TABLE_COLUMNS, intakeTableRows, measureIntake, type IntakeReport } from './intake.js';
import {
  assertPostgresReachable,
  createBenchDatabase,
  freePort,
  machineDescription,
  provenance,
  startNodeProcess,
  startStack,
  writeReport,
  type NodeProcess,
  type Table,
} from './lib.js';

// `npm run bench`: for the embedded store (PGlite) and for PostgreSQL (a fresh database per run,
// dropped at the end), in one run: incident intake through the API against the bare Temporal
// client, and API reads under load against Hono's hello world. Each pass starts the stack as
// `npm start` does (own data directory, own dev server). Ratios, never assertions.

const STORES = ['pglite', 'postgres'] as const;
type StoreKind = (typeof STORES)[number];
const STORE_LABEL: Record<StoreKind, string> = { pglite: 'embedded store (PGlite)', postgres: 'PostgreSQL' };

function storesFromEnv(): StoreKind[] {
  const wanted = (process.env.BENCH_STORES ?? 'pglite,postgres')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted.filter((s) => !(STORES as readonly string[]).includes(s));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new Error(`BENCH_STORES must list pglite and/or postgres (comma-separated), got '${process.env.BENCH_STORES}'`);
  }
  return wanted as StoreKind[];
}

function positiveNumber(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min}, got '${raw}'`);
  return value;
}

const stores = storesFromEnv();
const INCIDENTS = positiveNumber('BENCH_INCIDENTS', 100);
const ROUNDS = positiveNumber('BENCH_ROUNDS', 3);
const INTAKE = process.env.BENCH_INTAKE !== '0';
const settings = {
  seconds: positiveNumber('BENCH_LOAD_SECONDS', 8),
  warmupSeconds: positiveNumber('BENCH_WARMUP_SECONDS', 2, 0),
  connections: positiveNumber('BENCH_LOAD_CONNECTIONS', 10),
};
const API_KEY = 'bench-admin-key-0123456789abcdef';
const log = (line: string) => console.log(`[bench] ${line}`);

interface StorePass {
  store: StoreKind;
  database: string | null;
  intake: IntakeReport | null;
  reads: ReadsReport;
}

async function runPass(store: StoreKind, bareHonoUrl: string): Promise<StorePass> {
  log(`${STORE_LABEL[store]}: starting the stack…`);
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-bench-'));
  const database = store === 'postgres' ? await createBenchDatabase('api') : null;
  let stack: NodeProcess | null = null;
  let connection: Connection | null = null;
  try {
    const [apiPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    stack = await startStack({
      PORT: String(apiPort),
      INFRAAI_DATA_DIR: dataDir,
      TEMPORAL_DEV_PORT: String(temporalPort),
      TEMPORAL_DEV_UI_PORT: String(uiPort),
      INFRAAI_API_KEY: API_KEY,
      // Empty means unset: the PGlite pass must not pick up a DATABASE_URL from the environment.
      DATABASE_URL: database?.url ?? '',
    });
    const api = `http://127.0.0.1:${apiPort}`;
    const address = `127.0.0.1:${temporalPort}`;
    const namespace = /namespace (\S+),/.exec(stack.output())?.[1] ?? 'infraai';
    connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace });
    const intake = INTAKE
      ? await measureIntake({ api, apiKey: API_KEY, address, namespace, client, incidents: INCIDENTS, rounds: ROUNDS, log })
      : null;
    log(`${STORE_LABEL[store]}: reads under load (${settings.connections} connections, ${settings.seconds} s each)…`);
    const reads = await measureReads({ api, apiKey: API_KEY, bareHonoUrl, client, settings, log });
    return { store, database: database?.name ?? null, intake, reads };
  } finally {
    await connection?.close();
    await stack?.stop();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  if (stores.includes('postgres')) await assertPostgresReachable();
  const barePort = await freePort();
  const bare = await startNodeProcess({
    script: 'bench/bare-hono.ts',
    env: { PORT: String(barePort) },
    ready: 'bare Hono listening',
    what: 'the bare Hono baseline',
    timeoutMs: 30_000,
  });
  const passes: StorePass[] = [];
  try {
    for (const store of stores) passes.push(await runPass(store, `http://127.0.0.1:${barePort}/`));
  } finally {
    await bare.stop();
  }

  const measuredAt = new Date().toISOString();
  const machine = machineDescription();
  const readNotes = [
    'Baseline: Hono’s hello world (`bench/bare-hono.ts`, @hono/node-server under tsx) in its own process; the API is `npm start` (worker and API in one process, the worker idle during the reads), measured the same way by autocannon in the same pass.',
    `Each row: ${settings.warmupSeconds} s warm-up, then ${settings.seconds} s at ${settings.connections} connections; a row with failed requests is marked, its speed not valid. The incident read is of a finished run.`,
    ...provenance('npm run bench', measuredAt),
  ];
  await writeReport(
    'api',
    { machine, measuredAt, load: settings, stores: Object.fromEntries(passes.map((p) => [p.store, { database: p.database, ...p.reads }])) },
    passes.map((p): Table => ({
      title: `API reads, ${STORE_LABEL[p.store]} (${settings.connections} connections, ${settings.seconds} s each)`,
      columns: READ_TABLE_COLUMNS,
      rows: readTableRows(p.reads),
    })),
    readNotes,
    { readmeSection: 'api' },
  );

  const intakePasses = passes.filter((p): p is StorePass & { intake: IntakeReport } => p.intake !== null);
  if (intakePasses.length > 0) {
    await writeReport(
      'intake',
      {
        machine,
        measuredAt,
        incidentsPerRound: INCIDENTS,
        rounds: ROUNDS,
        stores: Object.fromEntries(intakePasses.map((p) => [p.store, p.intake])),
      },
      intakePasses.map((p): Table => ({
        title: `Incident intake, ${STORE_LABEL[p.store]}: ${INCIDENTS} concurrent starts (median of ${ROUNDS} rounds)`,
        columns: INTAKE_TABLE_COLUMNS,
        rows: intakeTableRows(p.intake),
      })),
      [`BENCH_INCIDENTS=${INCIDENTS}, BENCH_ROUNDS=${ROUNDS}.`, ...provenance('npm run bench', measuredAt)],
      { readmeSection: 'intake' },
    );
  }
}

main().catch((err: unknown) => {
  console.error(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
