import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdir, open, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { clientHost, devServerArgs, readDevServerConfig, resolveDevServerSettings, type DevServerSettings } from './dev-server-config.js';
import { ensureTemporalCli } from './temporal-cli.js';

export interface DevServerHandle {
  /** `host:port` of the gRPC frontend. */
  address: string;
  namespace: string;
  /** Web UI root, or null when headless. */
  uiUrl: string | null;
  pid: number;
  /** The CLI's stdout and stderr (appended across starts). */
  logFile: string;
  settings: DevServerSettings;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process is gone. Safe to call twice. */
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

const STOP_GRACE_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function portInUse(what: string, host: string, port: number, variable: string): string {
  return (
    `${what} port ${host}:${port} is already in use (another Temporal dev server or InfraAI stack?). ` +
    `Stop it or choose another port with ${variable}.`
  );
}

async function assertPortFree(host: string, port: number, what: string, variable: string): Promise<void> {
  await new Promise<void>((resolvePort, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new DevServerStartError(
          err.code === 'EADDRINUSE' ? portInUse(what, host, port, variable) : `cannot use ${what} port ${host}:${port}: ${err.message}`,
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

let pdeathsigWrapper: Promise<string | null> | undefined;

/**
 * util-linux `setpriv --pdeathsig TERM` sets PR_SET_PDEATHSIG and then execs the CLI (same pid), so
 * the kernel stops the server even when this process is SIGKILLed or crashes without running any
 * handler. Elsewhere (macOS, no util-linux) there is no such wrapper: a SIGKILLed parent leaves the
 * server running, while a normal exit and terminal Ctrl-C (same process group) still stop it.
 * Caveat of the kernel feature: the signal follows the *thread* that spawned, so start the server
 * from the main thread, not from a worker thread that may end first.
 */
function findPdeathsigWrapper(): Promise<string | null> {
  pdeathsigWrapper ??= (async () => {
    if (process.platform !== 'linux') return null;
    for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
      try {
        await access(candidate, constants.X_OK);
        const { stdout } = await promisify(execFile)(candidate, ['--help'], { timeout: 5000 });
        if (stdout.includes('--pdeathsig')) return candidate;
      } catch {
        // not there or too old (util-linux < 2.33)
      }
    }
    return null;
  })();
  return pdeathsigWrapper;
}

/**
 * Starts `temporal server start-dev` as configured in temporal-dev.yaml and resolves once the
 * namespace answers with the configured retention, the custom search attributes are registered
 * and (unless headless) the Web UI answers.
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
  const args = devServerArgs(settings);
  const wrapper = await findPdeathsigWrapper();
  const [command, commandArgs] = wrapper ? [wrapper, ['--pdeathsig', 'TERM', '--', cli.path, ...args]] : [cli.path, args];
  const logHandle = await open(logFile, 'a');
  let child: ChildProcess;
  try {
    await logHandle.write(`\n--- ${new Date().toISOString()} ${cli.path} ${args.join(' ')}\n`);
    // Same process group as ours (no `detached`), so Ctrl-C in a terminal reaches the server too.
    child = spawn(command, commandArgs, { stdio: ['ignore', logHandle.fd, logHandle.fd] });
  } finally {
    await logHandle.close(); // the child holds its own copy of the descriptor
  }

  let exited = false;
  let exitDetail = '';
  const killOnExit = () => {
    // Last line of defence when the caller exits without stop() (e.g. an uncaught error).
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exitPromise = new Promise<void>((resolveExit) => {
    const done = (detail: string) => {
      if (exited) return;
      exited = true;
      exitDetail = detail;
      process.removeListener('exit', killOnExit);
      resolveExit();
    };
    child.once('exit', (code, signal) => done(signal ? `killed by ${signal}` : `exit code ${code}`));
    child.once('error', (err) => done(`could not be started: ${err.message}`));
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exitPromise;
      clearTimeout(timer);
    })();
    return stopping;
  };

  const address = `${clientHost(settings.ip)}:${settings.port}`;
  const uiUrl = settings.headless ? null : `http://${clientHost(settings.ip)}:${settings.uiPort}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let lastError = 'no answer yet';
  try {
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      if (exited) throw new DevServerStartError(await earlyExitMessage(settings, logFile, exitDetail));
      if (Date.now() > deadline) {
        throw new DevServerStartError(
          `the Temporal dev server did not become ready within ${Math.round((options.startTimeoutMs ?? 60_000) / 1000)} s (${lastError}). ` +
            `Last lines of ${logFile}:\n${await tail(logFile)}`,
        );
      }
      // Raced with the exit so a server that dies during a slow connect attempt is reported at once.
      const outcome = await Promise.race([
        waitReady(address, uiUrl, settings).then(
          () => 'ready' as const,
          (err: unknown) => {
            lastError = (err as Error).message;
            return 'retry' as const;
          },
        ),
        exitPromise.then(() => 'exited' as const),
      ]);
      if (outcome === 'ready') break;
      if (outcome === 'retry') await Promise.race([sleep(delay), exitPromise]);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return { address, namespace: settings.namespace, uiUrl, pid: child.pid ?? -1, logFile, settings, stop };
}

async function earlyExitMessage(settings: DevServerSettings, logFile: string, exitDetail: string): Promise<string> {
  const lines = await tail(logFile);
  // The port check above can lose a race with another process; the CLI then says so itself.
  if (/can't set frontend port .*address already in use/.test(lines))
    return portInUse('Temporal gRPC', settings.ip, settings.port, 'TEMPORAL_DEV_PORT');
  if (/can't set UI port .*address already in use/.test(lines))
    return portInUse('Temporal Web UI', settings.ip, settings.uiPort, 'TEMPORAL_DEV_UI_PORT');
  return `the Temporal dev server stopped during start (${exitDetail}). Last lines of ${logFile}:\n${lines}`;
}

/** Ready = the namespace answers with the configured retention, lists our search attributes, and the UI answers. */
async function waitReady(address: string, uiUrl: string | null, settings: DevServerSettings): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await connection.withDeadline(Date.now() + 5000, async () => {
      const { namespace } = settings;
      const described = await connection.workflowService.describeNamespace({ namespace });
      const retentionSeconds = settings.retentionDays * 24 * 3600;
      if (Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0) !== retentionSeconds) {
        // start-dev has no retention flag and creates namespaces with 24 h.
        await connection.workflowService.updateNamespace({
          namespace,
          config: { workflowExecutionRetentionTtl: msToTs(retentionSeconds * 1000) },
        });
      }
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = Object.keys(settings.searchAttributes).filter((name) => !(name in (customAttributes ?? {})));
      if (missing.length > 0) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
    });
  } finally {
    await connection.close();
  }
  if (uiUrl) {
    const response = await fetch(uiUrl, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`Web UI answered ${response.status}`);
  }
}
