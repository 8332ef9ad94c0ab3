import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpGet, must, readBanner, run, shq, waitFor, type RunResult } from './proc.js';

// A lab of real target hosts on this machine. Each host `labN` is:
// - a network namespace `infraai-labN`, joined to the root namespace by a veth pair
//   (ilabN = 10.77.N.1/24 here, eth0 = 10.77.N.2/24 inside);
// - its own mount, PID, UTS and IPC namespaces (`unshare`), in which per-host directories of the lab
//   root are bind-mounted over the standard paths (/etc/labsvc, /var/log/labsvc, /etc/supervisor,
//   /var/log/supervisor, /etc/ssh, /root), /var/lib/labsvc is a 16 MiB tmpfs, and /run and /tmp are
//   private tmpfs, so `ps`, `df`, `ss` and `supervisorctl` inside see only that host; the log
//   directory is a 160 MiB tmpfs of its own (mounted in the lab root, so this machine reads it too),
//   like a /var/log partition: a log that grows fills it without touching this machine's disk;
// - a small init as PID 1 (lab/init.py: reaps orphans at once, like systemd) that starts
// - Debian's supervisord, running the `labsvc` program (lab/labsvc.mjs) as `nobody`, with the
//   default /etc/supervisor/supervisord.conf and /var/run/supervisor.sock, and
// - OpenSSH's sshd on 10.77.N.2:22, public-key only, root login with the lab's client key.
// A watchdog shell deletes the namespaces (and so every process in them) when the owning process dies.

export const LAB_NETNS_PREFIX = 'infraai-lab';
export const DEFAULT_LAB_ROOT = '/tmp/infraai-lab';
/** Who owns the running lab: one lab per machine, since the namespace names are fixed. */
export const LAB_LOCK_FILE = '/run/infraai-lab.json';
export const MAX_LAB_HOSTS = 50;

export const LAB_SERVICE = 'labsvc';
export const LAB_SERVICE_PORT = 8080;
export const LAB_DATA_PATH = '/var/lib/labsvc';
export const LAB_LOG_PATH = '/var/log/labsvc';
export const LAB_CONFIG_PATH = '/etc/labsvc/labsvc.conf';
/** Read-only inside every host: the service and the fault helpers. */
export const LAB_OPT_PATH = '/opt/labsvc';
export const LAB_DATA_SIZE = '16m';
/** The log filesystem: room for the log-growth fault's 120 MiB log, and full (≥95%) at about 152 MiB. */
export const LAB_LOG_SIZE = '160m';
export const LAB_SERVICE_USER = 'nobody';
const NOBODY_UID = 65534;
const NOBODY_GID = 65534;

export interface LabHost {
  name: string;
  index: number;
  /** The host's own address (inside its namespace); reachable from this machine through the veth. */
  address: string;
  port: 22;
  /** `SHA256:…`, as `ssh-keygen -lf` prints it for the host's ed25519 key. */
  hostKeyFingerprint: string;
  hostPublicKey: string;
  serviceManager: 'supervisor';
  service: 'labsvc';
  dataPath: string;
  logPath: string;
  configPath: string;
  servicePort: number;
  /** Network namespace name (`ip netns`). */
  netns: string;
  /** The host's directory in the lab root: etc-labsvc/, log/, etc-ssh/, … (bind-mounted inside). */
  dir: string;
}

export interface Lab {
  root: string;
  hosts: LabHost[];
  clientKeyPath: string;
  clientPrivateKey: string;
  /** known_hosts lines for every host (address + host key), for strict host-key checking. */
  knownHostsPath: string;
  /** How long startLab took. */
  startMs: number;
  stop(): Promise<void>;
}

export interface StartLabOptions {
  hosts: number;
  root?: string;
  log?: (line: string) => void;
  /** Per host: how long to wait for sshd and the service. */
  readyTimeoutMs?: number;
}

interface LockFile {
  pid: number;
  root: string;
  hosts: LabHost[];
  clientKeyPath: string;
  knownHostsPath: string;
  watchdogPid: number | null;
  startedAt: string;
}

const REQUIRED_PROGRAMS = [
  '/usr/sbin/sshd',
  '/usr/bin/supervisord',
  '/usr/bin/supervisorctl',
  '/usr/bin/ssh-keygen',
  '/usr/bin/ssh',
  '/usr/bin/unshare',
  '/usr/bin/nsenter',
  '/usr/bin/setsid',
  '/usr/bin/python3',
];

/** Why the lab cannot run on this machine (empty when it can). */
export function labPrerequisites(): string[] {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push('the lab needs Linux (network and mount namespaces)');
  if (typeof process.getuid === 'function' && process.getuid() !== 0) problems.push('the lab needs root (ip netns, mount, unshare)');
  for (const program of REQUIRED_PROGRAMS) {
    if (!existsSync(program)) problems.push(`${program} is missing (apt-get install openssh-server openssh-client supervisor util-linux)`);
  }
  if (spawnSync('ip', ['-V']).status !== 0) problems.push('`ip` (iproute2) is missing');
  return problems;
}

export const netnsName = (index: number): string => `${LAB_NETNS_PREFIX}${index}`;
const vethName = (index: number): string => `ilab${index}`;
const hostAddress = (index: number): string => `10.77.${index}.2`;
const gatewayAddress = (index: number): string => `10.77.${index}.1`;

// ---------------------------------------------------------------------------------------------
// Namespaces and processes

async function listLabNamespaces(): Promise<string[]> {
  const result = await run('ip', ['netns', 'list'], { timeoutMs: 5_000 });
  const names = result.stdout.split('\n').map((line) => line.trim().split(/\s+/)[0] ?? '');
  return names.filter((name) => new RegExp(`^${LAB_NETNS_PREFIX}\\d+$`).test(name));
}

async function netnsPids(netns: string): Promise<number[]> {
  const result = await run('ip', ['netns', 'pids', netns], { timeoutMs: 5_000 });
  if (result.code !== 0) return [];
  return result.stdout
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** PID (in this machine's PID namespace) of the host's PID 1 (its init), or null. */
export async function hostInitPid(host: Pick<LabHost, 'netns'>): Promise<number | null> {
  for (const pid of await netnsPids(host.netns)) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue;
    }
    const nspid = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/);
    if (nspid && nspid.length > 1 && nspid[nspid.length - 1] === '1') return pid;
  }
  return null;
}

/** Kills every process of the given lab namespaces and deletes them (and their veth pairs). */
export async function destroyNamespaces(names: readonly string[]): Promise<void> {
  for (const netns of names) {
    for (const pid of await netnsPids(netns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const netns of names) {
    await waitFor(`the processes of ${netns} to exit`, async () => (await netnsPids(netns)).length === 0, {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const deleted = await run('ip', ['netns', 'del', netns], { timeoutMs: 10_000 });
    if (deleted.code !== 0 && !/No such file|not found|Cannot remove namespace file/i.test(deleted.stderr)) {
      throw new Error(`cannot delete network namespace ${netns}: ${deleted.stderr.trim()}`);
    }
    const index = Number(netns.slice(LAB_NETNS_PREFIX.length));
    // The veth pair normally disappears with the namespace; a half-made one may not.
    if ((await run('ip', ['link', 'show', vethName(index)], { timeoutMs: 5_000 })).code === 0) {
      await run('ip', ['link', 'del', vethName(index)], { timeoutMs: 5_000 });
    }
  }
}

/** Synchronous last-resort cleanup (process 'exit'): no promises can run there. */
function destroyNamespacesSync(names: readonly string[]): void {
  for (const netns of names) {
    const pids = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8', timeout: 5_000 }).stdout ?? '';
    for (const pid of pids
      .split('\n')
      .map(Number)
      .filter((p) => p > 0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const netns of names) spawnSync('ip', ['netns', 'del', netns], { timeout: 5_000 });
}

/** Mount points of this machine's mount namespace (octal escapes of /proc/self/mounts decoded). */
function mountPoints(): Set<string> {
  const text = readFileSync('/proc/self/mounts', 'utf8');
  return new Set(
    text
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter(Boolean)
      .map((field) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))),
  );
}

/** The log directories of a lab root's hosts that are mounted (a crashed run leaves them mounted). */
function mountedLogDirs(root: string): string[] {
  const mounted = mountPoints();
  return [...mounted].filter((dir) => dir.startsWith(`${root}/`) && /^lab\d+\/log$/.test(dir.slice(root.length + 1)));
}

async function unmountLogDirs(root: string): Promise<void> {
  for (const dir of mountedLogDirs(root)) {
    const result = await run('umount', [dir], { timeoutMs: 10_000 });
    if (result.code !== 0 && mountPoints().has(dir)) throw new Error(`cannot unmount ${dir}: ${result.stderr.trim()}`);
  }
}

function unmountLogDirsSync(root: string): void {
  for (const dir of mountedLogDirs(root)) spawnSync('umount', [dir], { timeout: 5_000 });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(): LockFile | null {
  try {
    return JSON.parse(readFileSync(LAB_LOCK_FILE, 'utf8')) as LockFile;
  } catch {
    return null;
  }
}

/** The lab another command started (`npm run lab`), for `npm run lab -- inject …`. */
export function attachLab(): Omit<LockFile, 'watchdogPid'> {
  const lock = readLock();
  if (!lock || !isAlive(lock.pid)) throw new Error('no lab is running on this machine: start one with `npm run lab`');
  return lock;
}

/** Runs a shell script inside a lab host (all its namespaces), as root, without SSH. */
export async function execInHost(
  host: Pick<LabHost, 'netns' | 'name'>,
  script: string,
  options: { timeoutMs?: number } = {},
): Promise<RunResult> {
  const pid = await hostInitPid(host);
  if (pid === null) throw new Error(`lab host ${host.name} is not running (no PID 1 in ${host.netns})`);
  return run('nsenter', ['--target', String(pid), '--mount', '--uts', '--ipc', '--net', '--pid', '--', '/bin/sh', '-c', script], {
    timeoutMs: options.timeoutMs ?? 20_000,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' },
  });
}

/** Like execInHost, but a non-zero exit throws with the output. */
export async function mustInHost(
  host: Pick<LabHost, 'netns' | 'name'>,
  script: string,
  options: { timeoutMs?: number } = {},
): Promise<RunResult> {
  const result = await execInHost(host, script, options);
  if (result.code !== 0) {
    const why = result.timedOut ? 'timed out' : `exited with ${result.code}`;
    throw new Error(`on ${host.name}: \`${script}\` ${why}: ${`${result.stderr}\n${result.stdout}`.trim().slice(-2000)}`);
  }
  return result;
}

/** How many times labsvc started serving on the host (lines of /var/log/labsvc/starts.log). */
export async function startCount(host: Pick<LabHost, 'dir'>): Promise<number> {
  try {
    const text = await readFile(join(host.dir, 'log', 'starts.log'), 'utf8');
    return text.split('\n').filter((line) => line.includes(' start ')).length;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Files of the lab root

const LABSVC_SOURCE = fileURLToPath(new URL('./labsvc.mjs', import.meta.url));
const INIT_SOURCE = fileURLToPath(new URL('./init.py', import.meta.url));

/** Fault helpers, run inside the hosts from /opt/labsvc/bin (the name is what `ps` shows). */
const HELPERS: Record<string, string> = {
  // runaway-cpu: a stuck batch job spinning forever on N threads (default 1).
  'report-builder': `#!${process.execPath}
// A stuck nightly report job: spins forever on N threads (argument, default 1).
const threads = Math.max(1, Number(process.argv[2] || 1));
for (let i = 1; i < threads; i++) new (require('node:worker_threads').Worker)('for (;;) {}', { eval: true });
for (;;) {}
`,
  // port-in-use: a stray HTTP server on the service's port.
  'stray-listener': `#!${process.execPath}
// A second copy of "something" started by hand that holds the service's port.
const port = Number(process.argv[2] || ${LAB_SERVICE_PORT});
require('node:http')
  .createServer((req, res) => { res.writeHead(404); res.end('stray listener, not labsvc\\n'); })
  .listen(port, '0.0.0.0');
`,
  // log-growth: debug logging left on. Writes the backlog of weeks (120 MiB) at once, then keeps
  // appending a line every 100 ms, in O_APPEND mode so truncating the file in place works.
  'debug-logger': `#!${process.execPath}
const fs = require('node:fs');
const path = process.argv[2] || '${LAB_LOG_PATH}/debug.log';
const megabytes = Number(process.argv[3] || 120);
const fd = fs.openSync(path, 'a');
let n = 0;
const line = () => \`\${new Date().toISOString()} DEBUG cache lookup key=session:\${n++} hit=false ttl=300 payload=\${'x'.repeat(40)}\\n\`;
const block = () => { let s = ''; while (s.length < 1 << 20) s += line(); return s; };
for (let written = 0; written < megabytes * (1 << 20); ) written += fs.writeSync(fd, block());
setInterval(() => fs.writeSync(fd, line()), 100);
`,
};

async function prepareRoot(root: string): Promise<{ clientKeyPath: string; clientPublicKey: string }> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  await chmod(root, 0o700);
  const clientDir = join(root, 'client');
  await mkdir(clientDir, { recursive: true, mode: 0o700 });
  const clientKeyPath = join(clientDir, 'id_ed25519');
  if (!existsSync(clientKeyPath) || !existsSync(`${clientKeyPath}.pub`)) {
    await rm(clientKeyPath, { force: true });
    await rm(`${clientKeyPath}.pub`, { force: true });
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'infraai-lab-client', '-f', clientKeyPath]);
  }
  await chmod(clientKeyPath, 0o600);

  const opt = join(root, 'opt');
  await rm(opt, { recursive: true, force: true });
  await mkdir(join(opt, 'bin'), { recursive: true, mode: 0o755 });
  await mkdir(join(opt, 'sbin'), { recursive: true, mode: 0o755 });
  await copyFile(INIT_SOURCE, join(opt, 'sbin', 'init'));
  await chmod(join(opt, 'sbin', 'init'), 0o755);
  await chmod(opt, 0o755);
  await copyFile(LABSVC_SOURCE, join(opt, 'labsvc.mjs'));
  await chmod(join(opt, 'labsvc.mjs'), 0o755);
  for (const [name, text] of Object.entries(HELPERS)) await writeFile(join(opt, 'bin', name), text, { mode: 0o755 });

  // Empty mount points on this machine's file system; the content lives in the lab root.
  for (const dir of ['/etc/labsvc', LAB_LOG_PATH, LAB_DATA_PATH, LAB_OPT_PATH, '/var/log/supervisor', '/etc/supervisor']) {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  }
  return { clientKeyPath, clientPublicKey: (await readFile(`${clientKeyPath}.pub`, 'utf8')).trim() };
}

export const DEFAULT_LABSVC_CONF = `# labsvc configuration\nport=${LAB_SERVICE_PORT}\nlog_level=info\n`;

function supervisordConf(name: string): string {
  return `; supervisor config of lab host ${name} (written by the InfraAI lab)
[unix_http_server]
file=/var/run/supervisor.sock
chmod=0700

[supervisord]
user=root
logfile=/var/log/supervisor/supervisord.log
pidfile=/var/run/supervisord.pid
childlogdir=/var/log/supervisor

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///var/run/supervisor.sock

[include]
files = /etc/supervisor/conf.d/*.conf
`;
}

function labsvcProgramConf(): string {
  // autorestart=false and startretries=0: a crash stays crashed, a start that fails is FATAL at once.
  return `[program:${LAB_SERVICE}]
command=${process.execPath} ${LAB_OPT_PATH}/labsvc.mjs
directory=${LAB_DATA_PATH}
user=${LAB_SERVICE_USER}
autostart=true
autorestart=false
startsecs=1
startretries=0
stopsignal=TERM
stopwaitsecs=5
stdout_logfile=${LAB_LOG_PATH}/stdout.log
stderr_logfile=${LAB_LOG_PATH}/stderr.log
environment=HOME="${LAB_DATA_PATH}",LABSVC_CONFIG="${LAB_CONFIG_PATH}"
`;
}

function sshdConfig(address: string): string {
  return `# sshd of a lab host (written by the InfraAI lab)
ListenAddress ${address}:22
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PermitEmptyPasswords no
UsePAM no
StrictModes yes
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 50:30:100
LogLevel INFO
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
`;
}

function initScript(host: LabHost, root: string): string {
  const bind = (from: string, to: string) => `mount --bind ${shq(join(host.dir, from))} ${to}`;
  return [
    'set -eu',
    'mount --make-rprivate /',
    'mount -t proc -o nosuid,nodev,noexec proc /proc',
    'mount -t tmpfs -o size=8m,mode=0755 tmpfs /run',
    'mkdir -p /run/sshd',
    bind('etc-labsvc', '/etc/labsvc'),
    bind('log', LAB_LOG_PATH),
    `mount -t tmpfs -o size=${LAB_DATA_SIZE},mode=0755,uid=${NOBODY_UID},gid=${NOBODY_GID} tmpfs ${LAB_DATA_PATH}`,
    bind('etc-supervisor', '/etc/supervisor'),
    bind('log-supervisor', '/var/log/supervisor'),
    bind('etc-ssh', '/etc/ssh'),
    bind('root-home', '/root'),
    `mount --bind ${shq(join(root, 'opt'))} ${LAB_OPT_PATH}`,
    `mount -o remount,bind,ro ${LAB_OPT_PATH}`,
    // Last: the lab root may itself live under /tmp.
    'mount -t tmpfs -o size=64m,mode=1777 tmpfs /tmp',
    `hostname ${host.name}`,
    'cd /',
    // init starts `sshd -D -f /etc/ssh/sshd_config` and `supervisord -n`.
    `exec ${LAB_OPT_PATH}/sbin/init`,
  ].join('\n');
}

async function fingerprint(publicKeyPath: string): Promise<string> {
  const out = (await must('ssh-keygen', ['-lf', publicKeyPath])).stdout;
  const found = /\bSHA256:\S+/.exec(out)?.[0];
  if (!found) throw new Error(`cannot read the fingerprint of ${publicKeyPath}: ${out}`);
  return found;
}

async function prepareHostFiles(root: string, index: number, clientPublicKey: string): Promise<LabHost> {
  const name = `lab${index}`;
  const dir = join(root, name);
  const address = hostAddress(index);
  // Fresh state each start; host keys are kept so known_hosts stay valid across runs.
  if (mountPoints().has(join(dir, 'log'))) await must('umount', [join(dir, 'log')], { timeoutMs: 10_000 });
  for (const sub of ['etc-labsvc', 'log', 'log-supervisor', 'etc-supervisor', 'root-home'])
    await rm(join(dir, sub), { recursive: true, force: true });
  for (const sub of ['etc-labsvc', 'log', 'log-supervisor', 'etc-supervisor/conf.d', 'etc-ssh', 'root-home/.ssh']) {
    await mkdir(join(dir, sub), { recursive: true, mode: 0o755 });
  }
  await chmod(dir, 0o755);
  await writeFile(join(dir, 'etc-labsvc', 'labsvc.conf'), DEFAULT_LABSVC_CONF, { mode: 0o644 });
  await must(
    'mount',
    ['-t', 'tmpfs', '-o', `size=${LAB_LOG_SIZE},mode=0755,uid=${NOBODY_UID},gid=${NOBODY_GID}`, 'tmpfs', join(dir, 'log')],
    { timeoutMs: 10_000 },
  );
  await chown(join(dir, 'log'), NOBODY_UID, NOBODY_GID);
  await writeFile(join(dir, 'etc-supervisor', 'supervisord.conf'), supervisordConf(name), { mode: 0o644 });
  await writeFile(join(dir, 'etc-supervisor', 'conf.d', `${LAB_SERVICE}.conf`), labsvcProgramConf(), { mode: 0o644 });

  const sshDir = join(dir, 'etc-ssh');
  await chmod(sshDir, 0o755);
  const hostKey = join(sshDir, 'ssh_host_ed25519_key');
  if (!existsSync(hostKey) || !existsSync(`${hostKey}.pub`)) {
    await rm(hostKey, { force: true });
    await rm(`${hostKey}.pub`, { force: true });
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${name}`, '-f', hostKey]);
  }
  await chmod(hostKey, 0o600);
  await writeFile(join(sshDir, 'sshd_config'), sshdConfig(address), { mode: 0o644 });
  for (const file of ['moduli', 'ssh_config']) {
    if (existsSync(`/etc/ssh/${file}`) && !existsSync(join(sshDir, file))) await copyFile(`/etc/ssh/${file}`, join(sshDir, file));
  }

  const home = join(dir, 'root-home');
  await chmod(home, 0o700);
  await chmod(join(home, '.ssh'), 0o700);
  await writeFile(join(home, '.ssh', 'authorized_keys'), `${clientPublicKey}\n`, { mode: 0o600 });

  return {
    name,
    index,
    address,
    port: 22,
    hostKeyFingerprint: await fingerprint(`${hostKey}.pub`),
    hostPublicKey: (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' '),
    serviceManager: 'supervisor',
    service: 'labsvc',
    dataPath: LAB_DATA_PATH,
    logPath: LAB_LOG_PATH,
    configPath: LAB_CONFIG_PATH,
    servicePort: LAB_SERVICE_PORT,
    netns: netnsName(index),
    dir,
  };
}

async function createNetwork(host: LabHost): Promise<void> {
  const { netns, index } = host;
  const veth = vethName(index);
  const peer = `${veth}p`;
  const ip = (...args: string[]) => must('ip', args, { timeoutMs: 10_000 });
  await ip('netns', 'add', netns);
  await ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', peer, 'netns', netns);
  await ip('addr', 'add', `${gatewayAddress(index)}/24`, 'dev', veth);
  await ip('link', 'set', veth, 'up');
  await ip('-n', netns, 'link', 'set', 'lo', 'up');
  await ip('-n', netns, 'link', 'set', peer, 'name', 'eth0');
  await ip('-n', netns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0');
  await ip('-n', netns, 'link', 'set', 'eth0', 'up');
  await ip('-n', netns, 'route', 'add', 'default', 'via', gatewayAddress(index));
  // Never send lab traffic anywhere but into the veth: check the route before the first packet.
  const route = (await ip('-o', 'route', 'get', host.address)).stdout;
  if (!new RegExp(`\\bdev ${veth}\\b`).test(route))
    throw new Error(`${host.address} is not routed through ${veth} (${route.trim()}): another route overlaps 10.77.${index}.0/24`);
}

async function tail(path: string, lines = 15): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(none)';
  }
}

/** Why a host did not come up: the last lines of its logs. */
async function hostLogs(host: LabHost): Promise<string> {
  return [
    `console: ${await tail(join(host.dir, 'console.log'))}`,
    `sshd.log: ${await tail(join(host.dir, 'log-supervisor', 'sshd.log'))}`,
    `supervisord.log: ${await tail(join(host.dir, 'log-supervisor', 'supervisord.log'))}`,
    `labsvc stderr.log: ${await tail(join(host.dir, 'log', 'stderr.log'))}`,
  ].join('\n');
}

async function bootHost(host: LabHost, root: string, readyTimeoutMs: number): Promise<void> {
  await createNetwork(host);
  const consoleFd = openSync(join(host.dir, 'console.log'), 'w');
  try {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        host.netns,
        'unshare',
        '--mount',
        '--pid',
        '--fork',
        '--uts',
        '--ipc',
        '--propagation',
        'private',
        '/bin/sh',
        '-c',
        initScript(host, root),
      ],
      { detached: true, stdio: ['ignore', consoleFd, consoleFd] },
    );
    child.on('error', () => undefined);
    child.unref();
  } finally {
    closeSync(consoleFd);
  }
  try {
    await waitFor(`${host.name}: PID 1 in ${host.netns}`, async () => (await hostInitPid(host)) ?? undefined, {
      timeoutMs: readyTimeoutMs,
    });
    await waitFor(
      `${host.name}: sshd on ${host.address}:22`,
      async () => (await readBanner(host.address, 22, 1_000)).startsWith('SSH-2.0-'),
      {
        timeoutMs: readyTimeoutMs,
      },
    );
    await waitFor(
      `${host.name}: supervisor reporting ${LAB_SERVICE} RUNNING`,
      async () => /\bRUNNING\b/.test((await execInHost(host, `supervisorctl status ${LAB_SERVICE}`, { timeoutMs: 5_000 })).stdout),
      { timeoutMs: readyTimeoutMs },
    );
    await waitFor(
      `${host.name}: GET http://${host.address}:${host.servicePort}/health = 200`,
      async () => (await httpGet(`http://${host.address}:${host.servicePort}/health`, 1_000)).status === 200,
      { timeoutMs: readyTimeoutMs },
    );
  } catch (err) {
    throw new Error(`lab host ${host.name} did not come up: ${(err as Error).message}\n${await hostLogs(host)}`);
  }
}

/** A detached shell that deletes the namespaces once `owner` is gone (even after a SIGKILL). */
async function startWatchdog(root: string, owner: number, names: readonly string[]): Promise<number | null> {
  const script = join(root, 'watchdog.sh');
  await writeFile(
    script,
    `#!/bin/sh
# Deletes the lab's namespaces (and so every process in them) and unmounts its log filesystems when
# the process that started the lab dies.
owner="$1"; lock="$2"; root="$3"; shift 3
while kill -0 "$owner" 2>/dev/null; do sleep 1; done
for ns in "$@"; do
  pids=$(ip netns pids "$ns" 2>/dev/null)
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
done
sleep 0.5
for ns in "$@"; do ip netns del "$ns" 2>/dev/null; done
for dir in "$root"/lab*/log; do mountpoint -q "$dir" && umount "$dir"; done
grep -q "\\"pid\\":$owner," "$lock" 2>/dev/null && rm -f "$lock"
exit 0
`,
    { mode: 0o755 },
  );
  const child = spawn('/bin/sh', [script, String(owner), LAB_LOCK_FILE, root, ...names], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
  return child.pid ?? null;
}

async function claimLock(): Promise<void> {
  const lock = readLock();
  if (lock && lock.pid !== process.pid && isAlive(lock.pid)) {
    throw new Error(
      `a lab is already running on this machine (process ${lock.pid}, root ${lock.root}): stop it first (Ctrl-C in \`npm run lab\`, or kill ${lock.pid})`,
    );
  }
  if (lock?.watchdogPid && isAlive(lock.watchdogPid)) {
    try {
      process.kill(lock.watchdogPid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  // Whatever a crashed run left: its namespaces, processes, veth pairs and log filesystems.
  await destroyNamespaces(await listLabNamespaces());
  if (lock?.root) await unmountLogDirs(lock.root);
  await rm(LAB_LOCK_FILE, { force: true });
}

/** Starts `hosts` lab hosts (lab1 … labN); cleans up what an earlier crashed run left first. */
export async function startLab(options: StartLabOptions): Promise<Lab> {
  const began = Date.now();
  const log = options.log ?? (() => undefined);
  const count = options.hosts;
  if (!Number.isInteger(count) || count < 1 || count > MAX_LAB_HOSTS)
    throw new Error(`hosts must be an integer from 1 to ${MAX_LAB_HOSTS}, got ${count}`);
  const problems = labPrerequisites();
  if (problems.length > 0) throw new Error(`the lab cannot run here: ${problems.join('; ')}`);
  const root = resolve(options.root ?? DEFAULT_LAB_ROOT);
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;

  await claimLock();
  const { clientKeyPath, clientPublicKey } = await prepareRoot(root);
  const indexes = Array.from({ length: count }, (_, i) => i + 1);
  const names = indexes.map(netnsName);

  let stopped = false;
  let watchdogPid: number | null = null;
  const onExit = () => {
    if (stopped) return;
    destroyNamespacesSync(names);
    unmountLogDirsSync(root);
  };
  process.on('exit', onExit);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', onExit);
    if (watchdogPid !== null) {
      try {
        process.kill(watchdogPid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await destroyNamespaces(names);
    await unmountLogDirs(root);
    const lock = readLock();
    if (lock?.pid === process.pid) await rm(LAB_LOCK_FILE, { force: true });
    log('lab stopped');
  };

  try {
    const hosts = await Promise.all(indexes.map((index) => prepareHostFiles(root, index, clientPublicKey)));
    const lock: LockFile = {
      pid: process.pid,
      root,
      hosts,
      clientKeyPath,
      knownHostsPath: join(root, 'known_hosts'),
      watchdogPid: null,
      startedAt: new Date().toISOString(),
    };
    await writeFile(LAB_LOCK_FILE, JSON.stringify(lock));
    watchdogPid = await startWatchdog(root, process.pid, names);
    await writeFile(LAB_LOCK_FILE, JSON.stringify({ ...lock, watchdogPid }));
    await writeFile(lock.knownHostsPath, hosts.map((h) => `${h.address} ${h.hostPublicKey}\n`).join(''), { mode: 0o644 });
    await Promise.all(
      hosts.map(async (host) => {
        await bootHost(host, root, readyTimeoutMs);
        log(`${host.name} up at ${host.address}:22 (${host.hostKeyFingerprint})`);
      }),
    );
    return {
      root,
      hosts,
      clientKeyPath,
      clientPrivateKey: await readFile(clientKeyPath, 'utf8'),
      knownHostsPath: lock.knownHostsPath,
      startMs: Date.now() - began,
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** Bytes used by each file under a directory of the lab root (not recursive into symlinks). */
export async function fileSizes(dir: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const walk = async (current: string) => {
    let entries: string[];
    try {
      entries = readdirSync(current);
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(current, entry);
      try {
        const info = await stat(path);
        if (info.isDirectory()) await walk(path);
        else if (info.isFile()) sizes.set(path, info.size);
      } catch {
        // removed meanwhile
      }
    }
  };
  await walk(dir);
  return sizes;
}
