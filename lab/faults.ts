import { readFileSync } from 'node:fs';
import { readFile, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DEFAULT_LABSVC_CONF,
  LAB_CONFIG_PATH,
  LAB_DATA_PATH,
  LAB_LOG_PATH,
  LAB_OPT_PATH,
  LAB_SERVICE,
  LAB_SERVICE_PORT,
  execInHost,
  fileSizes,
  mustInHost,
  type LabHost,
} from './lab.js';
import { httpGet, run, sleep, waitFor } from './proc.js';

// Fault injection for lab hosts, one function per fault, each with a clear/reset and an independent
// health check. The checks never go through the product or SSH: they look at the host through its
// veth address (HTTP /health), `nsenter` into its namespaces (supervisorctl, df, ss) and the files
// of the lab root.

export const FAULTS = [
  'service-crashed',
  'disk-full',
  'runaway-cpu',
  'log-growth',
  'bad-config',
  'port-in-use',
  'unknown',
  // Compound faults: the symptom one runbook sees, caused by what another runbook covers.
  'disk-full-by-log',
  'service-down-by-disk-full',
  'service-down-by-old-instance',
] as const;
export type FaultName = (typeof FAULTS)[number];

export interface Health {
  healthy: boolean;
  detail: string;
}

export type FaultHost = Pick<LabHost, 'name' | 'netns' | 'dir' | 'address' | 'servicePort'>;

/** The busy loop of the runaway-cpu fault, as `ps -o comm` shows it. */
export const CPU_HOG_NAME = 'report-builder';
export const STRAY_LISTENER_NAME = 'stray-listener';
export const LOG_WRITER_NAME = 'debug-logger';
export const GROWING_LOG = `${LAB_LOG_PATH}/debug.log`;
/** The runbooks' thresholds: log-growth acts on files over 100 MB, runaway-cpu on processes over 50%. */
const MAX_LOG_BYTES = 100 * 1024 * 1024;
const MAX_CPU_PERCENT = 50;
const MAX_DISK_PERCENT = 90;
const WAIT_MS = 20_000;

const ok = (detail: string): Health => ({ healthy: true, detail });
const bad = (detail: string): Health => ({ healthy: false, detail });

function combine(parts: Health[]): Health {
  const failing = parts.filter((p) => !p.healthy);
  const details = (failing.length > 0 ? failing : parts).flatMap((p) => p.detail.split('; '));
  return { healthy: failing.length === 0, detail: [...new Set(details)].join('; ') };
}

// ---------------------------------------------------------------------------------------------
// Independent checks

async function supervisorStatus(host: FaultHost): Promise<string> {
  const result = await execInHost(host, `supervisorctl status ${LAB_SERVICE}`, { timeoutMs: 10_000 });
  return (result.stdout || result.stderr).trim();
}

/** GET /health over the veth address. */
export async function checkHttpHealth(host: FaultHost): Promise<Health> {
  const url = `http://${host.address}:${host.servicePort}/health`;
  try {
    const { status, body } = await httpGet(url, 3_000);
    return status === 200 && body === 'ok' ? ok(`GET ${url} = 200 ok`) : bad(`GET ${url} = ${status} ${body.slice(0, 200)}`);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return bad(`GET ${url} failed: ${cause ?? (err as Error).message}`);
  }
}

/** Supervisor reports labsvc RUNNING and /health answers 200. */
export async function checkService(host: FaultHost): Promise<Health> {
  const status = await supervisorStatus(host);
  const running = /\bRUNNING\b/.test(status)
    ? ok(`supervisor: ${status.replace(/\s+/g, ' ')}`)
    : bad(`supervisor: ${status.replace(/\s+/g, ' ')}`);
  return combine([running, await checkHttpHealth(host)]);
}

/** How full the log filesystem is (a tmpfs of its own, read through the lab root), as df rounds it. */
async function logFilesystemPercent(host: FaultHost): Promise<number> {
  const fs = await statfs(join(host.dir, 'log'));
  return Math.ceil(((fs.blocks - fs.bfree) / fs.blocks) * 100);
}

/** The log filesystem is below 90%. */
export async function checkLogFilesystem(host: FaultHost): Promise<Health> {
  const percent = await logFilesystemPercent(host);
  return percent < MAX_DISK_PERCENT ? ok(`${LAB_LOG_PATH} at ${percent}%`) : bad(`${LAB_LOG_PATH} at ${percent}%`);
}

/** The data file system is below 90% and the service can write to it. */
export async function checkDisk(host: FaultHost): Promise<Health> {
  const df = await execInHost(host, `df -P ${LAB_DATA_PATH}`, { timeoutMs: 10_000 });
  const percent = Number(/\s(\d+)%\s/.exec(df.stdout)?.[1] ?? NaN);
  const disk = Number.isFinite(percent)
    ? percent < MAX_DISK_PERCENT
      ? ok(`${LAB_DATA_PATH} at ${percent}%`)
      : bad(`${LAB_DATA_PATH} at ${percent}%`)
    : bad(`cannot read df for ${LAB_DATA_PATH}: ${df.stderr.trim()}`);
  return combine([disk, await checkHttpHealth(host)]);
}

let clockTicks: number | null = null;
async function ticksPerSecond(): Promise<number> {
  clockTicks ??= Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  return clockTicks;
}

async function netnsPids(netns: string): Promise<number[]> {
  const result = await run('ip', ['netns', 'pids', netns], { timeoutMs: 5_000 });
  return result.stdout
    .split('\n')
    .map(Number)
    .filter((pid) => pid > 0);
}

function cpuTicks(pid: number): { comm: string; ticks: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based) → indexes 11 and 12 here.
    return { comm: stat.slice(open + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** No process of the host uses more than 50% of a CPU, measured over one second. */
export async function checkCpu(host: FaultHost, sampleMs = 1_000): Promise<Health> {
  const hz = await ticksPerSecond();
  const before = new Map<number, { comm: string; ticks: number }>();
  for (const pid of await netnsPids(host.netns)) {
    const sample = cpuTicks(pid);
    if (sample) before.set(pid, sample);
  }
  const started = Date.now();
  await sleep(sampleMs);
  const seconds = (Date.now() - started) / 1000;
  let top = { comm: '-', pid: 0, percent: 0 };
  for (const [pid, first] of before) {
    const second = cpuTicks(pid);
    if (!second || second.comm !== first.comm) continue;
    const percent = ((second.ticks - first.ticks) / hz / seconds) * 100;
    if (percent > top.percent) top = { comm: second.comm, pid, percent };
  }
  const detail = top.pid === 0 ? 'no process used CPU' : `top process ${top.comm} (pid ${top.pid}) at ${top.percent.toFixed(0)}% CPU`;
  return top.percent < MAX_CPU_PERCENT ? ok(detail) : bad(detail);
}

/** No file under /var/log/labsvc is over 100 MB, and the directory grows by less than 1 MB/s. */
export async function checkLogs(host: FaultHost, sampleMs = 1_000): Promise<Health> {
  const dir = join(host.dir, 'log');
  const total = (sizes: Map<string, number>) => [...sizes.values()].reduce((a, b) => a + b, 0);
  const first = await fileSizes(dir);
  const started = Date.now();
  await sleep(sampleMs);
  const second = await fileSizes(dir);
  const rate = Math.max(0, total(second) - total(first)) / ((Date.now() - started) / 1000);
  const [largest, size] = [...second.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['-', 0];
  const name = largest.startsWith(dir) ? `${LAB_LOG_PATH}${largest.slice(dir.length)}` : largest;
  const detail = `largest log ${name} ${(size / 1048576).toFixed(1)} MiB, growing ${(rate / 1024).toFixed(1)} KiB/s`;
  return size <= MAX_LOG_BYTES && rate < 1048576 ? ok(detail) : bad(detail);
}

/** labsvc owns its port: the listener on 8080 is supervisor's labsvc process. */
export async function checkPort(host: FaultHost): Promise<Health> {
  const result = await execInHost(host, `echo "pid=$(supervisorctl pid ${LAB_SERVICE})"; ss -ltnpH 'sport = :${LAB_SERVICE_PORT}'`, {
    timeoutMs: 10_000,
  });
  const servicePid = /^pid=(\d+)$/m.exec(result.stdout)?.[1];
  const listeners = [...result.stdout.matchAll(/users:\(\("([^"]+)",pid=(\d+)/g)].map((m) => ({ name: m[1], pid: m[2] }));
  const owner = listeners.map((l) => `${l.name} (pid ${l.pid})`).join(', ') || 'nobody';
  const port =
    servicePid && listeners.length > 0 && listeners.every((l) => l.pid === servicePid)
      ? ok(`port ${LAB_SERVICE_PORT} held by ${owner}, the ${LAB_SERVICE} process`)
      : bad(`port ${LAB_SERVICE_PORT} held by ${owner}; ${LAB_SERVICE} pid ${servicePid ?? 'none'}`);
  return combine([port, await checkService(host)]);
}

/** The whole host: service, disk, CPU, logs (size, growth and their filesystem) and port. */
export async function checkHost(host: FaultHost): Promise<Health> {
  // CPU first and alone: the other checks run supervisorctl inside the host, which would be measured.
  const cpu = await checkCpu(host);
  const [service, disk, logs, logFs, port] = await Promise.all([
    checkService(host),
    checkDisk(host),
    checkLogs(host),
    checkLogFilesystem(host),
    checkPort(host),
  ]);
  return combine([service, disk, cpu, logs, logFs, port]);
}

// ---------------------------------------------------------------------------------------------
// Faults

async function waitStatus(host: FaultHost, pattern: RegExp, what: string): Promise<string> {
  return waitFor(
    `${host.name}: ${LAB_SERVICE} ${what}`,
    async () => {
      const status = await supervisorStatus(host);
      return pattern.test(status) ? status : undefined;
    },
    { timeoutMs: WAIT_MS },
  );
}

async function waitHealth(host: FaultHost, pattern: RegExp, what: string): Promise<string> {
  return waitFor(
    `${host.name}: /health ${what}`,
    async () => {
      const { detail } = await checkHttpHealth(host);
      return pattern.test(detail) ? detail : undefined;
    },
    { timeoutMs: WAIT_MS },
  );
}

/** Starts labsvc unless it runs, and waits for a healthy /health. */
async function ensureRunning(host: FaultHost): Promise<void> {
  if (!/\bRUNNING\b/.test(await supervisorStatus(host)))
    await execInHost(host, `supervisorctl start ${LAB_SERVICE}`, { timeoutMs: 15_000 });
  await waitStatus(host, /\bRUNNING\b/, 'RUNNING');
  await waitHealth(host, /= 200 ok$/, '200');
}

/** Kills the processes of the host (inside its PID namespace) whose command name is exactly `name`. */
async function killByName(host: FaultHost, name: string): Promise<void> {
  await execInHost(host, `pids=$(pgrep -x ${name}); [ -z "$pids" ] || kill -KILL $pids; true`);
  await waitFor(`${host.name}: ${name} to exit`, async () => (await execInHost(host, `pgrep -x ${name}`)).code === 1, {
    timeoutMs: WAIT_MS,
  });
}

/** Starts a helper from /opt/labsvc/bin inside the host, detached (its parent becomes the host's init). */
async function startHelper(host: FaultHost, name: string, args: string[] = [], nice = 0): Promise<void> {
  await mustInHost(host, `nice -n ${nice} setsid -f ${LAB_OPT_PATH}/bin/${name} ${args.join(' ')} </dev/null >/dev/null 2>&1`);
  await waitFor(`${host.name}: ${name} running`, async () => (await execInHost(host, `pgrep -x ${name}`)).code === 0, {
    timeoutMs: WAIT_MS,
  });
}

/** (1) service-crashed: SIGKILL the service; autorestart=false leaves it EXITED. */
export async function crashService(host: FaultHost): Promise<void> {
  await mustInHost(host, `pid=$(supervisorctl pid ${LAB_SERVICE}); [ "$pid" -gt 0 ] && kill -KILL "$pid"`);
  await waitStatus(host, /\b(?:EXITED|STOPPED|FATAL)\b/, 'EXITED');
}

export async function clearServiceCrashed(host: FaultHost): Promise<void> {
  await ensureRunning(host);
}

/**
 * (2) disk-full: fills the 16 MiB tmpfs on /var/lib/labsvc with *.tmp and *.dump files dated two
 * days back (what the disk-full runbook's `find … -mtime +1 -delete` removes) until writes fail.
 */
export async function fillDisk(host: FaultHost): Promise<void> {
  await mustInHost(
    host,
    [
      `cd ${LAB_DATA_PATH}`,
      'i=0',
      'while [ $i -lt 200 ]; do',
      '  ext=tmp; [ $((i % 3)) -eq 2 ] && ext=dump',
      '  dd if=/dev/zero of=batch-$i.$ext bs=256k count=4 2>/dev/null || break',
      '  i=$((i + 1))',
      'done',
      'j=0',
      'while [ $j -lt 300 ] && dd if=/dev/zero of=core-dump-$j.dump bs=4k count=1 2>/dev/null; do j=$((j + 1)); done',
      "touch -d '2 days ago' batch-* core-dump-*",
    ].join('\n'),
    { timeoutMs: 60_000 },
  );
  await waitHealth(host, /No space left on device/, 'failing with "No space left on device"');
}

export async function clearDiskFull(host: FaultHost): Promise<void> {
  await mustInHost(host, `rm -f ${LAB_DATA_PATH}/batch-* ${LAB_DATA_PATH}/core-dump-*`);
}

/**
 * (3) runaway-cpu: a stuck job (`report-builder`) spinning on one thread. It runs at nice -10 so it
 * still takes most of a core while the machine is busy with other tests; injection returns once the
 * lab's own CPU sampler sees it above the threshold (on a loaded machine that can take a few samples).
 * `threads: 2` makes it use more than one core: `ps` then prints its %CPU as an integer (e.g. `178`).
 */
export async function startRunawayCpu(host: FaultHost, options: { threads?: number } = {}): Promise<void> {
  await startHelper(host, CPU_HOG_NAME, [String(options.threads ?? 1)], -10);
  await waitFor(`${host.name}: ${CPU_HOG_NAME} above ${MAX_CPU_PERCENT}% CPU`, async () => !(await checkCpu(host)).healthy, {
    timeoutMs: WAIT_MS,
  });
  // ps's %CPU is an average over the process' life: give it a moment to show as the top process.
  await sleep(1_500);
}

export async function clearRunawayCpu(host: FaultHost): Promise<void> {
  await killByName(host, CPU_HOG_NAME);
}

/**
 * (4) log-growth: debug logging left on. `debug-logger` appends to /var/log/labsvc/debug.log in
 * O_APPEND mode: 120 MiB at once (weeks of backlog), then a line every 100 ms, without bound.
 */
export async function startLogGrowth(host: FaultHost): Promise<void> {
  await startHelper(host, LOG_WRITER_NAME, [GROWING_LOG, '120']);
  const path = join(host.dir, 'log', 'debug.log');
  await waitFor(
    `${host.name}: ${GROWING_LOG} over 100 MiB`,
    async () => ((await fileSizes(join(host.dir, 'log'))).get(path) ?? 0) > MAX_LOG_BYTES,
    {
      timeoutMs: 60_000,
    },
  );
}

export async function clearLogGrowth(host: FaultHost): Promise<void> {
  await killByName(host, LOG_WRITER_NAME);
  await mustInHost(host, `rm -f ${GROWING_LOG} ${GROWING_LOG}.*.tail.gz`);
}

/** The broken change: a directive without `=` (labsvc refuses it with a "parse error"). */
export const BAD_LABSVC_CONF = `${DEFAULT_LABSVC_CONF}max_connections 256\n`;

/**
 * (5) bad-config: saves the good file as labsvc.conf.bak (where the bad-config runbook looks), writes
 * an invalid labsvc.conf and restarts the service, which refuses to start (FATAL).
 */
export async function breakConfig(host: FaultHost): Promise<void> {
  await mustInHost(host, `cp -p ${LAB_CONFIG_PATH} ${LAB_CONFIG_PATH}.bak`);
  await writeFile(join(host.dir, 'etc-labsvc', 'labsvc.conf'), BAD_LABSVC_CONF, { mode: 0o644 });
  await execInHost(host, `supervisorctl restart ${LAB_SERVICE}`, { timeoutMs: 15_000 });
  await waitStatus(host, /\b(?:FATAL|EXITED|BACKOFF)\b/, 'failing');
}

export async function clearBadConfig(host: FaultHost): Promise<void> {
  const dir = join(host.dir, 'etc-labsvc');
  const current = await readFile(join(dir, 'labsvc.conf'), 'utf8').catch(() => '');
  if (current !== DEFAULT_LABSVC_CONF) {
    await writeFile(join(dir, 'labsvc.conf'), DEFAULT_LABSVC_CONF, { mode: 0o644 });
    await execInHost(host, `supervisorctl stop ${LAB_SERVICE}`, { timeoutMs: 15_000 });
  }
  await mustInHost(host, `rm -f ${LAB_CONFIG_PATH}.bak ${LAB_CONFIG_PATH}.broken ${LAB_CONFIG_PATH}.orig`);
  await ensureRunning(host);
}

/**
 * (6) port-in-use: stops labsvc, starts `stray-listener` on port 8080, then tries to start labsvc,
 * which fails with "address already in use" (FATAL).
 */
export async function occupyServicePort(host: FaultHost): Promise<void> {
  await execInHost(host, `supervisorctl stop ${LAB_SERVICE}`, { timeoutMs: 15_000 });
  await startHelper(host, STRAY_LISTENER_NAME, [String(LAB_SERVICE_PORT)]);
  await waitFor(
    `${host.name}: ${STRAY_LISTENER_NAME} listening on ${LAB_SERVICE_PORT}`,
    async () => {
      const ss = await execInHost(host, `ss -ltnpH 'sport = :${LAB_SERVICE_PORT}'`);
      return ss.stdout.includes(STRAY_LISTENER_NAME);
    },
    { timeoutMs: WAIT_MS },
  );
  await execInHost(host, `supervisorctl start ${LAB_SERVICE}`, { timeoutMs: 15_000 });
  await waitStatus(host, /\b(?:FATAL|EXITED|BACKOFF)\b/, 'failing');
}

export async function clearPortInUse(host: FaultHost): Promise<void> {
  await killByName(host, STRAY_LISTENER_NAME);
  await ensureRunning(host);
}

/**
 * (7) unknown: no runbook covers it. The service's state file is made unreadable (chmod 000), so
 * /health answers 500 "permission denied on /var/lib/labsvc/state.json" while supervisor shows RUNNING.
 */
export async function lockStateFile(host: FaultHost): Promise<void> {
  await mustInHost(host, `chmod 000 ${LAB_DATA_PATH}/state.json`);
  await waitHealth(host, /permission denied/, 'failing with "permission denied"');
}

export async function clearUnknown(host: FaultHost): Promise<void> {
  await execInHost(host, `[ -e ${LAB_DATA_PATH}/state.json ] && chmod 644 ${LAB_DATA_PATH}/state.json; true`);
}

export async function checkState(host: FaultHost): Promise<Health> {
  return checkHttpHealth(host);
}

// ---------------------------------------------------------------------------------------------
// Compound faults: what the incident shows is the symptom; its cause is another runbook's case.

/**
 * (8) disk-full-by-log: debug logging left on fills the log filesystem. `debug-logger` writes a
 * backlog into /var/log/labsvc/debug.log until the 160 MiB filesystem is at 96% (then a line every
 * 100 ms). Nothing disposable anywhere: the disk-full runbook alone finds nothing to delete; the
 * log-growth runbook's truncation frees the space.
 */
export async function fillLogFilesystem(host: FaultHost): Promise<void> {
  const fs = await statfs(join(host.dir, 'log'));
  const size = fs.blocks * fs.bsize;
  const used = (fs.blocks - fs.bfree) * fs.bsize;
  const megabytes = (size * 0.96 - used) / 1048576;
  await startHelper(host, LOG_WRITER_NAME, [GROWING_LOG, megabytes.toFixed(1)]);
  await waitFor(`${host.name}: ${LAB_LOG_PATH} at 95% or more`, async () => (await logFilesystemPercent(host)) >= 95, {
    timeoutMs: 60_000,
  });
}

export async function checkLogDisk(host: FaultHost): Promise<Health> {
  return combine([await checkLogFilesystem(host), await checkLogs(host)]);
}

/**
 * (9) service-down-by-disk-full: the data disk fills with old *.tmp / *.dump files (as disk-full), then
 * labsvc is restarted and refuses to start: it cannot write its state file (ENOSPC, supervisor FATAL).
 */
export async function fillDiskAndRestart(host: FaultHost): Promise<void> {
  await fillDisk(host);
  await execInHost(host, `supervisorctl restart ${LAB_SERVICE}`, { timeoutMs: 15_000 });
  await waitStatus(host, /\b(?:FATAL|EXITED|BACKOFF)\b/, 'failing');
}

export async function clearServiceDownByDiskFull(host: FaultHost): Promise<void> {
  await clearDiskFull(host);
  await ensureRunning(host);
}

export async function checkServiceAndDisk(host: FaultHost): Promise<Health> {
  return combine([await checkService(host), await checkDisk(host)]);
}

/** Where the old-instance fault notes its PID inside the host (a private /run). */
const OLD_INSTANCE_PID_FILE = '/run/labsvc-old-instance.pid';

/**
 * (10) service-down-by-old-instance: labsvc was started by hand once (same program, same user, same
 * port) and that copy never stopped. supervisor's labsvc then cannot bind 8080 and is FATAL while the
 * old copy answers /health: only the port's owner shows what is wrong.
 */
export async function startOldInstance(host: FaultHost): Promise<void> {
  await execInHost(host, `supervisorctl stop ${LAB_SERVICE}`, { timeoutMs: 15_000 });
  await mustInHost(
    host,
    [
      `cd ${LAB_DATA_PATH}`,
      `LABSVC_CONFIG=${LAB_CONFIG_PATH} HOME=${LAB_DATA_PATH} setsid -f setpriv --reuid=65534 --regid=65534 --clear-groups ${process.execPath} ${LAB_OPT_PATH}/labsvc.mjs </dev/null >/dev/null 2>&1`,
    ].join('\n'),
  );
  const pid = await waitFor(
    `${host.name}: the old ${LAB_SERVICE} instance listening on ${LAB_SERVICE_PORT}`,
    async () => /users:\(\("[^"]+",pid=(\d+)/.exec((await execInHost(host, `ss -ltnpH 'sport = :${LAB_SERVICE_PORT}'`)).stdout)?.[1],
    { timeoutMs: WAIT_MS },
  );
  await mustInHost(host, `echo ${pid} > ${OLD_INSTANCE_PID_FILE}`);
  await execInHost(host, `supervisorctl start ${LAB_SERVICE}`, { timeoutMs: 15_000 });
  await waitStatus(host, /\b(?:FATAL|EXITED|BACKOFF)\b/, 'failing');
}

/** Kills the old instance (by the PID noted at injection, if it is still that labsvc) and waits for it to go. */
async function killOldInstance(host: FaultHost): Promise<void> {
  await mustInHost(
    host,
    [
      `pid=$(cat ${OLD_INSTANCE_PID_FILE} 2>/dev/null) || exit 0`,
      'if grep -q labsvc.mjs /proc/$pid/cmdline 2>/dev/null; then kill -KILL $pid; while kill -0 $pid 2>/dev/null; do sleep 0.1; done; fi',
      `rm -f ${OLD_INSTANCE_PID_FILE}`,
    ].join('\n'),
  );
}

export async function clearOldInstance(host: FaultHost): Promise<void> {
  await killOldInstance(host);
  await ensureRunning(host);
}

export interface FaultSpec {
  description: string;
  inject(host: FaultHost): Promise<void>;
  clear(host: FaultHost): Promise<void>;
  /** The independent check that this fault makes unhealthy and its fix makes healthy again. */
  check(host: FaultHost): Promise<Health>;
}

export const FAULT_SPECS: Record<FaultName, FaultSpec> = {
  'service-crashed': {
    description: 'labsvc killed with SIGKILL; supervisor shows EXITED',
    inject: crashService,
    clear: clearServiceCrashed,
    check: checkService,
  },
  'disk-full': {
    description: '/var/lib/labsvc (16 MiB tmpfs) full of old *.tmp / *.dump files',
    inject: fillDisk,
    clear: clearDiskFull,
    check: checkDisk,
  },
  'runaway-cpu': {
    description: `a stuck job (${CPU_HOG_NAME}) spinning on one core`,
    inject: (host) => startRunawayCpu(host),
    clear: clearRunawayCpu,
    check: checkCpu,
  },
  'log-growth': {
    description: `${LOG_WRITER_NAME} appending to ${GROWING_LOG} (120 MiB, then without bound)`,
    inject: startLogGrowth,
    clear: clearLogGrowth,
    check: checkLogs,
  },
  'bad-config': {
    description: 'invalid labsvc.conf (backup in labsvc.conf.bak); labsvc FATAL',
    inject: breakConfig,
    clear: clearBadConfig,
    check: checkService,
  },
  'port-in-use': {
    description: `${STRAY_LISTENER_NAME} holds port ${LAB_SERVICE_PORT}; labsvc FATAL (address already in use)`,
    inject: occupyServicePort,
    clear: clearPortInUse,
    check: checkPort,
  },
  unknown: {
    description: 'state.json unreadable (chmod 000): /health 500 permission denied',
    inject: lockStateFile,
    clear: clearUnknown,
    check: checkState,
  },
  'disk-full-by-log': {
    description: `disk full because a log grew: ${GROWING_LOG} fills the ${LAB_LOG_PATH} filesystem to 96%`,
    inject: fillLogFilesystem,
    clear: clearLogGrowth,
    check: checkLogDisk,
  },
  'service-down-by-disk-full': {
    description: `labsvc restarted on a full ${LAB_DATA_PATH}: FATAL, cannot write its state (ENOSPC)`,
    inject: fillDiskAndRestart,
    clear: clearServiceDownByDiskFull,
    check: checkServiceAndDisk,
  },
  'service-down-by-old-instance': {
    description: `an old labsvc started by hand holds port ${LAB_SERVICE_PORT}; supervisor's labsvc FATAL (address already in use)`,
    inject: startOldInstance,
    clear: clearOldInstance,
    check: checkPort,
  },
};

export function isFaultName(value: string): value is FaultName {
  return (FAULTS as readonly string[]).includes(value);
}

export async function injectFault(host: FaultHost, fault: FaultName): Promise<void> {
  await FAULT_SPECS[fault].inject(host);
}

export async function clearFault(host: FaultHost, fault: FaultName): Promise<void> {
  await FAULT_SPECS[fault].clear(host);
}

/** Clears every fault and waits for a running, healthy service. */
export async function resetHost(host: FaultHost): Promise<void> {
  await clearRunawayCpu(host);
  await clearLogGrowth(host);
  await clearDiskFull(host);
  await clearUnknown(host);
  await killByName(host, STRAY_LISTENER_NAME);
  await killOldInstance(host);
  await clearBadConfig(host);
}
