import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { cpus, totalmem } from 'node:os';
import { freePort } from '../launcher/ports.js';

export { freePort };

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function machineDescription(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

export interface NodeProcess {
  child: ChildProcess;
  pid: number;
  output: () => string;
  /** SIGTERM, SIGKILL after the grace period; resolves once the process is gone. Safe to call twice. */
  stop: () => Promise<void>;
}

const liveProcesses = new Set<NodeProcess>();
let exitHandlersInstalled = false;

/**
 * Ctrl-C or SIGTERM during a benchmark stops the children it started (stack, workers, servers) and
 * runs the registered clean-ups (databases, temporary directories) before exiting.
 */
const exitCleanups: (() => Promise<void>)[] = [];
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  exitCleanups.push(cleanup);
  installExitHandlers();
  return () => {
    const index = exitCleanups.indexOf(cleanup);
    if (index >= 0) exitCleanups.splice(index, 1);
  };
}

function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n[bench] ${signal}: stopping what the benchmark started…`);
      void (async () => {
        await Promise.allSettled([...liveProcesses].map((p) => p.stop()));
        for (const cleanup of exitCleanups.reverse()) await cleanup().catch(() => undefined);
        process.exit(130);
      })();
    });
  }
}

/**
 * Runs `node --import tsx <script>` as a child (the way `npm start`, `npm run api` and
 * `npm run worker` run) and waits until its output matches `ready`.
 */
export async function startNodeProcess(options: {
  script: string;
  env?: Record<string, string>;
  ready: string | RegExp;
  what: string;
  timeoutMs?: number;
  nodeArgs?: string[];
  /** An IPC channel to the child (child_process.fork style). */
  ipc?: boolean;
  stopGraceMs?: number;
}): Promise<NodeProcess> {
  const { script, env = {}, ready, what, timeoutMs = 180_000, nodeArgs = [], ipc = false, stopGraceMs = 20_000 } = options;
  installExitHandlers();
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // Keep the tail only: a long run must not grow the benchmark's own memory without bound.
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const handle: NodeProcess = {
    child,
    pid: child.pid ?? -1,
    output: () => output,
    stop: async () => {
      liveProcesses.delete(handle);
      if (gone()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  liveProcesses.add(handle);
  const matches = () => (typeof ready === 'string' ? output.includes(ready) : ready.test(output));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
      const check = setInterval(() => {
        if (matches()) {
          clearTimeout(timer);
          clearInterval(check);
          resolve();
        }
      }, 100);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        clearInterval(check);
        reject(new Error(`${what} exited (${signal ?? code}) before it was ready:\n${output}`));
      });
    });
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}

/** Starts `npm start` as a child with the given environment and waits for its "is running" banner. */
export function startStack(env: Record<string, string>, timeoutMs = 180_000): Promise<NodeProcess> {
  return startNodeProcess({ script: 'scripts/start.ts', env, ready: 'InfraAI is running', what: 'the stack (npm start)', timeoutMs });
}

const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BENCH_DB_PREFIX = 'infraai_bench_';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function withAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL at ${new URL(PG_ADMIN_URL).host} is not reachable (${(err as Error).message}): start it, point BENCH_PG_ADMIN_URL at one, or leave it out with BENCH_STORES=pglite.`,
    );
  }
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Fails early, with what to do, when a PostgreSQL pass cannot run (before minutes of other passes). */
export async function assertPostgresReachable(): Promise<void> {
  await withAdmin((client) => client.query('SELECT 1'));
}

async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
  await client.query(`DROP DATABASE IF EXISTS ${name}`);
}

/**
 * A fresh database `infraai_bench_<pid>_<label>` on the machine's PostgreSQL, dropped by drop() (and on
 * Ctrl-C). Databases left by a benchmark whose process is gone (killed with SIGKILL) are dropped first.
 */
export async function createBenchDatabase(label: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${BENCH_DB_PREFIX}${process.pid}_${label.replace(/[^a-z0-9_]/g, '_')}`;
  await withAdmin(async (client) => {
    const existing = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${BENCH_DB_PREFIX}%`,
    ]);
    for (const { datname } of existing.rows) {
      const owner = Number(/^infraai_bench_(\d+)_/.exec(datname)?.[1]);
      if (datname === name || (Number.isInteger(owner) && !pidAlive(owner))) await dropDatabase(client, datname);
    }
    await client.query(`CREATE DATABASE ${name}`);
  });
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    unregister();
    await withAdmin((client) => dropDatabase(client, name));
  };
  const unregister = onInterrupt(drop);
  return { name, url: url.toString(), drop };
}

/** Resident set size of a process (VmRSS in /proc/<pid>/status), in MiB. */
export async function residentMemoryMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb) / 1024;
}

/** Percentile (0–100) of a list, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!, i);
      }
    }),
  );
  return results;
}

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
}

/** The Markdown of tables and notes, headings at `level`. */
export function renderTables(tables: Table[], notes: string[], level = 3): string {
  const md: string[] = [];
  for (const table of tables) {
    md.push(
      `${'#'.repeat(level)} ${table.title}`,
      '',
      `| ${table.columns.join(' | ')} |`,
      `| ${table.columns.map(() => '---').join(' | ')} |`,
    );
    for (const row of table.rows) md.push(`| ${row.join(' | ')} |`);
    md.push('');
  }
  md.push(...notes.map((note) => `- ${note}`));
  return md.join('\n');
}

/**
 * Writes bench/results/<name>.json and .md and prints the Markdown; with `readmeSection`, also
 * rewrites README.md between `<!-- bench:<section> -->` and `<!-- /bench:<section> -->`
 * (BENCH_README=0 leaves the README alone, for trial runs).
 */
export async function writeReport(
  name: string,
  data: unknown,
  tables: Table[],
  notes: string[],
  options: { readmeSection?: string } = {},
): Promise<void> {
  await mkdir('bench/results', { recursive: true });
  await writeFile(`bench/results/${name}.json`, `${JSON.stringify(data, null, 2)}\n`);
  const markdown = renderTables(tables, notes);
  await writeFile(`bench/results/${name}.md`, `${markdown}\n`);
  console.log(markdown);
  if (options.readmeSection && process.env.BENCH_README !== '0') {
    await updateReadmeSection(options.readmeSection, renderTables(tables, notes, 4));
    console.log(`README.md section bench:${options.readmeSection} rewritten.`);
  }
}

export class ReadmeSectionMissingError extends Error {
  override readonly name = 'ReadmeSectionMissingError';
}

/** Replaces what lies between the section's markers in README.md (the markers stay). */
export async function updateReadmeSection(section: string, markdown: string, path = 'README.md'): Promise<void> {
  const readme = await readFile(path, 'utf8');
  const open = `<!-- bench:${section} -->`;
  const close = `<!-- /bench:${section} -->`;
  const start = readme.indexOf(open);
  const end = readme.indexOf(close);
  if (start < 0 || end < start) {
    throw new ReadmeSectionMissingError(`${path} has no '${open}' … '${close}' markers: add them where the table belongs.`);
  }
  await writeFile(path, `${readme.slice(0, start + open.length)}\n${markdown}\n${readme.slice(end)}`);
}

/** The note every report carries: machine, date, command, and BENCH_NOTE (e.g. "busy machine"). */
export function provenance(command: string, measuredAt: string): string[] {
  const note = process.env.BENCH_NOTE?.trim();
  return [`Machine: ${machineDescription()}. Measured ${measuredAt} by \`${command}\`.`, ...(note ? [note] : [])];
}
