import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { devServerArgs, readDevServerConfig, resolveDevServerSettings, type DevServerSettings } from './dev-server-config.js';
import { ensureTemporalCli } from './temporal-cli.js';

export interface DevServerHandle {
  address: string;
  namespace: string;
  /** Web UI root, or null when headless. */
  uiUrl: string | null;
  pid: number;
  logFile: string;
  settings: DevServerSettings;
  stop(): Promise<void>;
}

export interface StartDevServerOptions {
  configFile: string;
  dataDir: string;
  port?: number | undefined;
  uiPort?: number | undefined;
  headless?: boolean | undefined;
  cliPath?: string | undefined;
  /** Install the CLI through pip when it is missing (default true). */
  installCli?: boolean | undefined;
  startTimeoutMs?: number | undefined;
  log?: ((line: string) => void) | undefined;
}

export class DevServerStartError extends Error {
  override readonly name = 'DevServerStartError';
}

async function assertPortFree(host: string, port: number, what: string, variable: string): Promise<void> {
  await new Promise<void>((resolvePort, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new DevServerStartError(
          err.code === 'EADDRINUSE'
            ? `${what} port ${host}:${port} is already in use (another Temporal dev server or InfraAI stack?). Stop it or choose another port with ${variable}.`
            : `cannot use ${what} port ${host}:${port}: ${err.message}`,
        ),
      );
    });
    server.listen(port, host, () => server.close(() => resolvePort()));
  });
}

async function tail(file: string, lines = 15): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `temporal server start-dev` as configured in temporal-dev.yaml and resolves once the
 * namespace answers and the custom search attributes are registered.
 */
export async function startTemporalDevServer(options: StartDevServerOptions): Promise<DevServerHandle> {
  const file = await readDevServerConfig(options.configFile);
  const settings = resolveDevServerSettings(file, options);
  const log = options.log ?? ((line: string) => console.log(line));
  const cli = await ensureTemporalCli({ explicitPath: options.cliPath ?? null, install: options.installCli ?? true, log });

  await assertPortFree(settings.ip, settings.port, 'Temporal gRPC', 'TEMPORAL_DEV_PORT');
  if (!settings.headless) await assertPortFree(settings.ip, settings.uiPort, 'Temporal Web UI', 'TEMPORAL_DEV_UI_PORT');

  await mkdir(dirname(settings.databasePath), { recursive: true });
  const logFile = join(resolve(options.dataDir), 'temporal', 'server.log');
  await mkdir(dirname(logFile), { recursive: true });
  const logHandle = await open(logFile, 'a');
  const child: ChildProcess = spawn(cli, devServerArgs(settings), { stdio: ['ignore', logHandle.fd, logHandle.fd] });
  await logHandle.close();

  let exited = false;
  const exitPromise = new Promise<void>((resolveExit) => {
    child.once('exit', () => {
      exited = true;
      resolveExit();
    });
  });
  // Last line of defence if the parent exits without calling stop() (an uncaught error): the
  // child must not outlive it. A SIGKILLed parent cannot run this; Ctrl-C in a terminal reaches
  // the child directly because it stays in the parent's process group.
  const killOnExit = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exitPromise;
    clearTimeout(timer);
  };

  const address = `${settings.ip}:${settings.port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let lastError = 'not started';
  try {
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      if (exited) throw new DevServerStartError(`the Temporal dev server exited during start. Last lines of ${logFile}:\n${await tail(logFile)}`);
      if (Date.now() > deadline) {
        throw new DevServerStartError(`the Temporal dev server did not become ready within the time limit (${lastError}). Last lines of ${logFile}:\n${await tail(logFile)}`);
      }
      try {
        await waitReady(address, settings);
        break;
      } catch (err) {
        lastError = (err as Error).message;
        await sleep(delay);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    address,
    namespace: settings.namespace,
    uiUrl: settings.headless ? null : `http://${settings.ip === '0.0.0.0' ? '127.0.0.1' : settings.ip}:${settings.uiPort}`,
    pid: child.pid ?? -1,
    logFile,
    settings,
    stop,
  };
}

/** Ready = the namespace answers, has the configured retention, and lists our search attributes. */
async function waitReady(address: string, settings: DevServerSettings): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    const described = await connection.workflowService.describeNamespace({ namespace: settings.namespace });
    const retentionMs = settings.retentionDays * 24 * 3600 * 1000;
    const currentSeconds = Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
    if (currentSeconds * 1000 !== retentionMs) {
      await connection.workflowService.updateNamespace({
        namespace: settings.namespace,
        config: { workflowExecutionRetentionTtl: msToTs(retentionMs) },
      });
    }
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: settings.namespace });
    const missing = Object.keys(settings.searchAttributes).filter((name) => !(name in (customAttributes ?? {})));
    if (missing.length > 0) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
  } finally {
    await connection.close();
  }
}
