import { spawn } from 'node:child_process';
import { PrometheusTelemetry } from '../adapters/telemetry/prometheus.js';
import { incidentRunCounts } from '../adapters/telemetry/create.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Hono } from 'hono';
import { LocalKnowledgeBase } from '../adapters/knowledge/knowledge-base.js';
import { EncryptedCredentialVault } from '../adapters/secrets/encrypted-vault.js';
import { createStore } from '../adapters/store/create.js';
import { createApiKey } from '../api/api-keys.js';
import { createApp } from '../api/app.js';
import { createAuthenticator } from '../api/auth.js';
import { listen } from '../api/server.js';
import type { DiagnosisGateway, IncidentWorkflowGateway, IngestionGateway } from '../api/temporal-gateway.js';
import { machineDescription, round, writeReport } from './lib.js';

// `npm run bench:middleware`: what the API's middleware chain and authentication cost per request,
// against a bare Hono hello-world on the same HTTP server, all in one run on one machine. The
// servers run in a child process so autocannon (this process) does not share their event loop.
// Nothing here asserts a figure.

const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 5);
const LOAD_CONNECTIONS = Number(process.env.BENCH_LOAD_CONNECTIONS ?? 10);

interface Targets {
  bareUrl: string;
  appUrl: string;
  key: string;
}

/** A gateway whose every method throws: /me and the refusals measured here never reach Temporal. */
function unreachableGateway<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_target, method) => () => {
      throw new Error(`${name}.${String(method)} is not available in the middleware benchmark`);
    },
  });
}

/** The child: a bare Hono app and the InfraAI app (PGlite store, one API key), both on loopback. */
async function serve(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-bench-mw-'));
  const store = await createStore({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
  const tenant = await store.tenants.ensure('bench');
  const { key } = await createApiKey(store, { tenantId: tenant.id, name: 'bench', role: 'viewer' });

  const bare = new Hono().get('/', (c) => c.text('Hello Hono!'));
  const app = createApp({
    store,
    // What production measures too: every request goes through the metrics middleware.
    telemetry: new PrometheusTelemetry({ runCounts: () => incidentRunCounts(store) }),
    incidents: unreachableGateway<IncidentWorkflowGateway>('incidents'),
    ingestion: unreachableGateway<IngestionGateway>('ingestion'),
    diagnosis: unreachableGateway<DiagnosisGateway>('diagnosis'),
    knowledge: new LocalKnowledgeBase(store),
    vault: new EncryptedCredentialVault(store, randomBytes(32)),
    inlineIngestLimitBytes: 128 * 1024,
    runbooks: [],
    kubernetes: null,
    auth: createAuthenticator(store, null),
    version: 'bench',
    bodyLimitBytes: 1024 * 1024,
    uploadLimitBytes: 20 * 1024 * 1024,
    corsOrigins: [],
  });
  const bareServer = await listen(bare.fetch, '127.0.0.1', 0);
  const appServer = await listen(app.fetch, '127.0.0.1', 0);
  const targets: Targets = {
    bareUrl: `http://127.0.0.1:${bareServer.port}`,
    appUrl: `http://127.0.0.1:${appServer.port}`,
    key,
  };
  console.log(JSON.stringify(targets));
  // The parent closes stdin when it is done; then everything goes.
  process.stdin.resume();
  process.stdin.once('end', () => {
    bareServer.server.close();
    appServer.server.close();
    void store
      .close()
      .then(() => rm(dataDir, { recursive: true, force: true }))
      .then(() => process.exit(0));
  });
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  statuses: Record<string, number>;
}

async function load(url: string, expectedStatus: number, headers: Record<string, string> = {}): Promise<Load> {
  const result = await autocannon({ url, headers, connections: LOAD_CONNECTIONS, duration: LOAD_SECONDS });
  const statuses: Record<string, number> = {};
  for (const [code, count] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = count?.count ?? 0;
  const unexpected = Object.entries(statuses).filter(([code]) => Number(code) !== expectedStatus);
  if (unexpected.length > 0 || result.errors > 0) {
    throw new Error(`${url}: expected only ${expectedStatus}, got ${JSON.stringify(statuses)} and ${result.errors} errors`);
  }
  return {
    rps: round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    statuses,
  };
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the benchmark servers exited with ${code}`)));
    });
    const targets = JSON.parse(firstLine) as Targets;
    const withKey = { authorization: `Bearer ${targets.key}` };

    const cases = [
      { name: 'bare Hono hello-world (baseline)', url: `${targets.bareUrl}/`, status: 200, headers: {} },
      { name: 'app: unknown path, no key (404)', url: `${targets.appUrl}/nowhere`, status: 404, headers: {} },
      { name: 'app: GET /api/v1/me, no key (401)', url: `${targets.appUrl}/api/v1/me`, status: 401, headers: {} },
      { name: 'app: GET /api/v1/me, valid key (200)', url: `${targets.appUrl}/api/v1/me`, status: 200, headers: withKey },
    ];
    // One short pass over every case warms the JIT, the store and the caches up; it is not reported.
    for (const c of cases) await autocannon({ url: c.url, headers: c.headers, connections: LOAD_CONNECTIONS, duration: 1 });
    const results: (Load & { name: string; ratioToBare: number })[] = [];
    for (const c of cases) {
      const measured = await load(c.url, c.status, c.headers);
      results.push({ name: c.name, ...measured, ratioToBare: round(measured.rps / (results[0]?.rps ?? measured.rps)) });
    }

    const summary = {
      machine: machineDescription(),
      measuredAt: new Date().toISOString(),
      loadSeconds: LOAD_SECONDS,
      connections: LOAD_CONNECTIONS,
      results,
    };
    await writeReport(
      'middleware',
      summary,
      [
        {
          title: `Middleware and authentication cost (${LOAD_CONNECTIONS} connections, ${LOAD_SECONDS} s each)`,
          columns: ['request', 'req/s', 'p50 (ms)', 'p99 (ms)', 'vs bare Hono'],
          rows: results.map((r) => [r.name, r.rps, r.p50, r.p99, `${r.ratioToBare}×`]),
        },
      ],
      [
        `Machine: ${summary.machine}.`,
        `Measured ${summary.measuredAt} by \`npm run bench:middleware\` (BENCH_LOAD_SECONDS=${LOAD_SECONDS}); servers in a child process, autocannon in the parent.`,
      ],
    );
  } finally {
    child.stdin.end();
    await exited;
  }
}

const run = process.argv[2] === 'serve' ? serve : main;
run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
