// The supervisor of one local Ansible execution (adapters/ansible-runner/local.ts starts it).
// Plain JavaScript, started as `node supervisor.mjs <workspace>` in a session of its own, so that
// it starts fast and outlives the worker that started it. It:
//  1. claims the execution (creates claim.json exclusively: a retry that found no claim after its
//     grace period claims it as abandoned first, and then this supervisor exits without running);
//  2. runs `ansible-runner run` with the clean environment job.json gives (ansible-runner writes
//     one JSON file per event, the stdout, the rc);
//  3. stops it on a cancel request (a `cancel` file, SIGUSR1, SIGINT or SIGTERM) or at the timeout:
//     INT, then TERM, then KILL to every process of the execution and to their process groups.
//     The processes are found by the marker variable in their environment, which every process
//     the execution starts inherits, so none is missed: ansible-runner's terminal session,
//     ansible-playbook's forks, ssh and its ControlPersist masters (which leave their parent);
//  4. when Ansible has exited, ends what is left (the ssh masters), removes the key files, and
//     writes status.json atomically: the final word on the execution.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const workspace = process.argv[2];
if (!workspace) {
  process.stderr.write('usage: supervisor.mjs <workspace>\n');
  process.exit(2);
}
const job = JSON.parse(readFileSync(join(workspace, 'job.json'), 'utf8'));
const marker = `${job.markerName}=${job.markerValue}`;
/** Where the execution's processes are named in command lines (job.json from before controlDir: the workspace only). */
const places = job.controlDir && !job.controlDir.startsWith(`${workspace}/`) ? [workspace, job.controlDir] : [workspace];
const log = (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

/** Field 22 of /proc/<pid>/stat (start time in clock ticks): tells a reused pid from the process. */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function processGroup(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}

/**
 * Processes of this execution (but this one): their environment carries the marker, or their
 * command line names the workspace or the control directory (an ssh ControlPersist master rewrites
 * its environment area with its process title, `ssh: <control dir>/<hash> [mux]`; the control
 * directory is the workspace's cp/ unless that was too deep for a socket path).
 */
function markedProcesses() {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(marker)) found.push(Number(entry));
      else {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
        if (places.some((place) => cmdline.includes(`${place}/`))) found.push(Number(entry));
      }
    } catch {
      // gone, or a kernel thread
    }
  }
  return found;
}

function signalAll(signal) {
  const pids = markedProcesses();
  const ownGroup = processGroup(process.pid);
  const groups = new Set(pids.map(processGroup).filter((g) => g !== null && g > 1 && g !== ownGroup));
  for (const group of groups) {
    try {
      process.kill(-group, signal);
    } catch {
      // gone meanwhile
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
  return pids.length;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntilNoneLeft(ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (markedProcesses().length === 0) return true;
    await sleep(100);
  }
  return markedProcesses().length === 0;
}

/** INT, then TERM, then KILL: within about 8 s every process of the execution is gone. */
async function stopAll(
  steps = [
    ['SIGINT', 3000],
    ['SIGTERM', 3000],
    ['SIGKILL', 2000],
  ],
) {
  for (const [signal, graceMs] of steps) {
    const n = signalAll(signal);
    if (n === 0) return;
    log(`sent ${signal} to ${n} process(es)`);
    if (await waitUntilNoneLeft(graceMs)) return;
  }
}

function writeJsonAtomic(name, value) {
  const path = join(workspace, name);
  writeFileSync(`${path}.tmp`, JSON.stringify(value), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

// 1. The claim.
let claimFd;
try {
  claimFd = openSync(join(workspace, 'claim.json'), 'wx', 0o600);
} catch (err) {
  if (err.code === 'EEXIST') {
    log('the execution was claimed already (abandoned by a retry): not running');
    process.exit(0);
  }
  throw err;
}
const claimedAt = Date.now();
writeSync(claimFd, JSON.stringify({ by: 'supervisor', pid: process.pid, startTime: startTime(process.pid), claimedAt }));
closeSync(claimFd);

// 2. The execution.
let stopping = null;
const output = openSync(join(workspace, 'ansible-runner.log'), 'a', 0o600);
const child = spawn(job.program, job.args, { cwd: job.cwd, env: job.env, detached: true, stdio: ['ignore', output, output] });
closeSync(output);
const exited = new Promise((resolve) => {
  child.once('error', (err) => {
    log(`cannot start ${job.program}: ${err.message}`);
    resolve({ code: null, signal: null, error: err.message });
  });
  child.once('exit', (code, signal) => resolve({ code, signal, error: null }));
});

// 3. Cancel and timeout.
let stopped = null;
function stop(reason) {
  if (stopping) return;
  stopping = reason;
  log(`stopping: ${reason}`);
  stopped = stopAll();
}
const timer = setTimeout(() => stop('timeout'), Math.max(0, job.timeoutMs));
const poll = setInterval(() => {
  if (existsSync(join(workspace, 'cancel'))) stop('cancelled');
}, 200);
for (const signal of ['SIGUSR1', 'SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => stop('cancelled'));
}

const ended = await exited;
clearTimeout(timer);
clearInterval(poll);
if (stopped) await stopped;

// 4. What is left, the keys, the final status.
await stopAll([
  ['SIGTERM', 1000],
  ['SIGKILL', 2000],
]);
rmSync(join(workspace, 'keys'), { recursive: true, force: true });
let exitCode = ended.code;
try {
  const rc = readFileSync(join(job.artifactDir, 'rc'), 'utf8').trim();
  if (/^-?\d+$/.test(rc)) exitCode = Number(rc);
} catch {
  // ansible-runner was stopped before it wrote its rc: the child's exit code stands
}
writeJsonAtomic('status.json', {
  exitCode: stopping ? null : exitCode,
  cancelled: stopping === 'cancelled',
  timedOut: stopping === 'timeout',
  detail: ended.error ?? (ended.signal ? `ansible-runner ended by ${ended.signal}` : null),
  by: 'supervisor',
  finishedAt: new Date().toISOString(),
});
log(`finished: exit ${exitCode}${stopping ? ` (${stopping})` : ''}`);
process.exit(0);
