import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AutomationProgress } from '../../core/automation.js';
import { checkKeys, playbookOptions } from './command.js';
import {
  ProgressTracker,
  STATS_EVENT,
  asAnsibleEvent,
  countPlaybookTasks,
  finalStatus,
  recapFromStats,
  toRunnerEvent,
  type RawAnsibleEvent,
} from './events.js';
import {
  RUNNER_LOG_TAIL_BYTES,
  RunnerExecutionNotFoundError,
  RunnerInputError,
  RunnerUnavailableError,
  type AnsibleRunner,
  type RunHooks,
  type RunnerEventPage,
  type RunnerInput,
  type RunnerOutcome,
} from './port.js';

// The local runner: ansible-runner (Debian's python3-ansible-runner, which runs Debian's ansible)
// in a private workspace per run key, under a supervisor that outlives the worker (supervisor.mjs).
//
// Workspace `<baseDir>/<sha256(runKey)>/` (0700), in the order a run writes it:
//   marker.json   the run key and when: written first, so a start that died half-way is seen
//   pdd/          ansible-runner's private data dir: project/playbook.yml, inventory/hosts.yml,
//                 env/extravars; artifacts/run/ {job_events/<n>-<uuid>.json, stdout, rc, status}
//   keys/         <credential>.key, 0600, removed by the supervisor as soon as Ansible has exited
//   known_hosts, ansible.cfg, home/, tmp/, cp/ (ssh control sockets), job.json (what to run)
//   (the control sockets go to <tmpdir>/infraai-ssh/<marker> instead when a socket path under cp/
//   would not fit a Unix socket address: see controlDirFor)
//   claim.json    created exclusively by the supervisor before it runs anything, or by a retry
//                 that found no claim after the start grace period ("abandoned": never runs)
//   cancel        a cancel request; status.json the final word (written by the supervisor, or by
//                 a worker that found the supervisor dead: then the execution is `lost`)
//
// Exactly once: the workspace directory is created exclusively; only the call that created it
// writes the artifacts and starts a supervisor, and only a supervisor holding the claim runs
// Ansible. Every other call with the same run key attaches to what is there.

const SUPERVISOR = fileURLToPath(new URL('./supervisor.mjs', import.meta.url));
const MARKER_NAME = 'INFRAAI_ANSIBLE_EXECUTION';
const ARTIFACT_IDENT = 'run';
/** A cancel request is escalated by the supervisor within ~8 s; past this the worker kills what is left itself. */
const CANCEL_BACKSTOP_MS = 12_000;

export interface LocalRunnerOptions {
  /** Where workspaces are made (0700). */
  baseDir: string;
  /** The ansible-runner program. */
  ansibleRunnerPath?: string;
  /** How often a waiting run looks at its execution. */
  pollMs?: number;
  /** How long a started workspace may go without a claim before a retry declares it abandoned. */
  startGraceMs?: number;
}

interface Claim {
  by: 'supervisor' | 'abandoned';
  pid?: number;
  startTime?: string | null;
  claimedAt: number;
}

interface FinalStatus {
  exitCode: number | null;
  cancelled: boolean;
  timedOut: boolean;
  lost?: boolean;
  detail: string | null;
  by: string;
  finishedAt: string;
}

function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * The longest Unix socket path (sun_path holds 108 bytes with its NUL). ssh binds a ControlPersist
 * master's socket as `<ControlPath>.<16 random characters>` before renaming it, and ansible names
 * the ControlPath `<control dir>/<10 hex>`: a longer path fails every connection ("too long for
 * Unix domain socket", the host shows as unreachable).
 */
const SOCKET_PATH_MAX = 107;
const CONTROL_SOCKET_NAME_BYTES = '/0123456789.0123456789abcdef'.length;
/** Where control sockets go when the workspace's own cp/ is too deep: short, and private to this user. */
const SHORT_CONTROL_ROOT = join(tmpdir(), 'infraai-ssh');

/**
 * Where an execution's ssh control sockets live: the workspace's cp/ when its sockets' paths fit a
 * socket address, otherwise a short directory named by the execution's marker. Deterministic, so
 * a retry or a cleanup finds the same one.
 */
function controlDirFor(workspace: string, markerValue: string): string {
  const inside = join(workspace, 'cp');
  if (Buffer.byteLength(inside) + CONTROL_SOCKET_NAME_BYTES <= SOCKET_PATH_MAX) return inside;
  return join(SHORT_CONTROL_ROOT, markerValue.slice(0, 24));
}

/** The short control directory's parent: created 0700 by this user, or refused if anyone else could use it. */
async function ensureShortControlRoot(): Promise<void> {
  await mkdir(SHORT_CONTROL_ROOT, { recursive: true, mode: 0o700 });
  const info = await lstat(SHORT_CONTROL_ROOT);
  if (!info.isDirectory() || info.uid !== process.getuid?.() || (info.mode & 0o077) !== 0)
    throw new RunnerUnavailableError(
      `${SHORT_CONTROL_ROOT} (for ssh control sockets) must be a directory of this user with mode 0700; remove it or set INFRAAI_ANSIBLE_WORKSPACE_DIR to a shorter path.`,
    );
}

/**
 * Processes of an execution, wherever they went: their environment carries its marker, or their
 * command line names its workspace or its control directory (an ssh ControlPersist master
 * overwrites its environment with its process title, `ssh: <control dir>/<hash> [mux]`). The
 * supervisor (supervisor.mjs) finds them the same way.
 */
function markedProcesses(marker: string, places: readonly string[]): number[] {
  const found: number[] = [];
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

/** SIGKILLs every process of the execution and waits (up to 3 s) until none is left; returns how many there were. */
async function killMarked(marker: string, places: readonly string[]): Promise<number> {
  const pids = markedProcesses(marker, places);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  for (let waited = 0; waited < 3000 && markedProcesses(marker, places).length > 0; waited += 100) await sleep(100);
  return pids.length;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return null;
    throw err;
  }
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(value), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** The events directory's files by counter, from `after` on (only names: nothing is read). */
async function eventFiles(dir: string, after: number): Promise<Map<number, string>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const files = new Map<number, string>();
  for (const name of names) {
    const match = /^(\d+)-[0-9a-f-]+\.json$/.exec(name);
    if (match && Number(match[1]) > after) files.set(Number(match[1]), name);
  }
  return files;
}

async function readEventFile(path: string): Promise<RawAnsibleEvent | null> {
  try {
    return asAnsibleEvent(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    return null;
  }
}

async function tailOfFile(path: string, maxBytes: number): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8').replace(/\r\n/g, '\n');
  } finally {
    await handle.close();
  }
}

/**
 * Ansible's environment for a run whose files are under `dir` (known_hosts, ansible.cfg, home/,
 * tmp/; ssh control sockets in `controlDir`, cp/ by default): strict host keys from that known_hosts only, no retry files,
 * pipelining. Exported so that a hand run (bench/automation.ts) uses the same ssh options.
 */
export function ansibleEnvironment(dir: string, binDir: string, controlDir = join(dir, 'cp')): Record<string, string> {
  const sshArgs = [
    '-F /dev/null',
    `-o UserKnownHostsFile=${join(dir, 'known_hosts')}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o StrictHostKeyChecking=yes',
    '-o IdentitiesOnly=yes',
    '-o BatchMode=yes',
    '-o ControlMaster=auto',
    '-o ControlPersist=60s',
  ].join(' ');
  return {
    PATH: `${binDir}:/usr/local/bin:/usr/bin:/bin`,
    HOME: join(dir, 'home'),
    TMPDIR: join(dir, 'tmp'),
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    ANSIBLE_CONFIG: join(dir, 'ansible.cfg'),
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_SSH_ARGS: sshArgs,
    ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
    ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
    ANSIBLE_PIPELINING: 'True',
    ANSIBLE_TIMEOUT: '15',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_DEPRECATION_WARNINGS: 'False',
  };
}

export class LocalAnsibleRunner implements AnsibleRunner {
  readonly kind = 'local' as const;
  private readonly baseDir: string;
  private readonly ansibleRunnerPath: string;
  private readonly pollMs: number;
  private readonly startGraceMs: number;

  constructor(options: LocalRunnerOptions) {
    this.baseDir = resolve(options.baseDir);
    this.ansibleRunnerPath = options.ansibleRunnerPath ?? '/usr/bin/ansible-runner';
    this.pollMs = options.pollMs ?? 250;
    this.startGraceMs = options.startGraceMs ?? 30_000;
  }

  /** The workspace of a run key (a hash: run keys are caller text). */
  workspace(runKey: string): string {
    return join(this.baseDir, createHash('sha256').update(runKey).digest('hex').slice(0, 40));
  }

  private markerValue(runKey: string): string {
    return createHash('sha256').update(`execution:${runKey}`).digest('hex').slice(0, 32);
  }

  private marker(runKey: string): string {
    return `${MARKER_NAME}=${this.markerValue(runKey)}`;
  }

  private controlDir(runKey: string): string {
    return controlDirFor(this.workspace(runKey), this.markerValue(runKey));
  }

  /** Where the execution's processes are named in their command lines: the workspace, and the control directory outside it. */
  private places(runKey: string): string[] {
    const ws = this.workspace(runKey);
    const control = this.controlDir(runKey);
    return control.startsWith(`${ws}/`) ? [ws] : [ws, control];
  }

  async run(input: RunnerInput, hooks: RunHooks): Promise<RunnerOutcome> {
    if (!existsSync(this.ansibleRunnerPath))
      throw new RunnerUnavailableError(
        `${this.ansibleRunnerPath} is missing: install Debian's python3-ansible-runner (npm install does as root).`,
      );
    const options = playbookOptions(input.artifacts.command, input.checkMode);
    checkKeys(input.artifacts.hosts, input.keys);
    await mkdir(this.baseDir, { recursive: true, mode: 0o700 });
    await chmod(this.baseDir, 0o700);
    const ws = this.workspace(input.runKey);
    let created = true;
    try {
      await mkdir(ws, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      created = false;
    }
    if (created) {
      await this.prepare(ws, input, options);
      this.startSupervisor(ws);
    }
    return this.follow(input.runKey, countPlaybookTasks(input.artifacts.playbook), hooks, !created);
  }

  private async prepare(ws: string, input: RunnerInput, options: string[]): Promise<void> {
    // First: a crash after this line leaves a workspace that says a start was under way.
    await writeFile(join(ws, 'marker.json'), JSON.stringify({ runKey: input.runKey, createdAt: Date.now(), by: process.pid }), {
      mode: 0o600,
      flag: 'wx',
    });
    const pdd = join(ws, 'pdd');
    for (const dir of ['pdd/project', 'pdd/inventory', 'pdd/env', 'keys', 'home', 'tmp', 'cp'])
      await mkdir(join(ws, dir), { recursive: true, mode: 0o700 });
    const controlDir = this.controlDir(input.runKey);
    if (!controlDir.startsWith(`${ws}/`)) {
      await ensureShortControlRoot();
      await mkdir(controlDir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      if (Buffer.byteLength(controlDir) + CONTROL_SOCKET_NAME_BYTES > SOCKET_PATH_MAX)
        throw new RunnerUnavailableError(
          `ssh control sockets under ${controlDir} would not fit a Unix socket path: set TMPDIR or INFRAAI_ANSIBLE_WORKSPACE_DIR to a shorter path.`,
        );
    }
    const keyDir = join(ws, 'keys');
    for (const [name, pem] of Object.entries(input.keys)) {
      await writeFile(join(keyDir, `${name}.key`), pem.endsWith('\n') ? pem : `${pem}\n`, { mode: 0o600 });
    }
    await writeFile(join(pdd, 'project', 'playbook.yml'), input.artifacts.playbook, { mode: 0o600 });
    await writeFile(join(pdd, 'inventory', 'hosts.yml'), input.artifacts.inventory, { mode: 0o600 });
    await writeFile(join(pdd, 'env', 'extravars'), JSON.stringify({ ...input.artifacts.variables, infraai_key_dir: keyDir }), {
      mode: 0o600,
    });
    await writeFile(join(ws, 'known_hosts'), input.knownHosts.endsWith('\n') ? input.knownHosts : `${input.knownHosts}\n`, { mode: 0o600 });
    // Everything is set through the environment; an empty config file keeps /etc/ansible/ansible.cfg out.
    await writeFile(join(ws, 'ansible.cfg'), '[defaults]\n', { mode: 0o600 });
    const env: Record<string, string> = {
      ...ansibleEnvironment(ws, dirname(this.ansibleRunnerPath), controlDir),
      [MARKER_NAME]: this.markerValue(input.runKey),
    };
    const args = ['run', pdd, '-p', 'playbook.yml', '--ident', ARTIFACT_IDENT, '-q'];
    if (options.length > 0) args.push(`--cmdline=${options.join(' ')}`);
    await writeFile(
      join(ws, 'job.json'),
      JSON.stringify({
        program: this.ansibleRunnerPath,
        args,
        cwd: pdd,
        env,
        markerName: MARKER_NAME,
        markerValue: this.markerValue(input.runKey),
        controlDir,
        timeoutMs: input.timeoutMs,
        artifactDir: join(pdd, 'artifacts', ARTIFACT_IDENT),
      }),
      { mode: 0o600 },
    );
  }

  private startSupervisor(ws: string): void {
    const out = openSync(join(ws, 'supervisor.log'), 'a', 0o600);
    try {
      const job = JSON.parse(readFileSync(join(ws, 'job.json'), 'utf8')) as { env: Record<string, string> };
      const child = spawn(process.execPath, [SUPERVISOR, ws], {
        cwd: ws,
        // Its own session: a signal to the worker's group, or the worker's death, does not reach it.
        detached: true,
        stdio: ['ignore', out, out],
        env: job.env,
      });
      child.on('error', () => undefined);
      child.unref();
    } finally {
      closeSync(out);
    }
  }

  private async claimAsAbandoned(ws: string): Promise<boolean> {
    try {
      await writeFile(join(ws, 'claim.json'), JSON.stringify({ by: 'abandoned', claimedAt: Date.now() } satisfies Claim), {
        mode: 0o600,
        flag: 'wx',
      });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  /** Waits for the execution's end, reporting progress; cancels it when the signal aborts. */
  private async follow(runKey: string, plannedTasks: number, hooks: RunHooks, reattached: boolean): Promise<RunnerOutcome> {
    const ws = this.workspace(runKey);
    const marker = this.marker(runKey);
    const eventsDir = join(ws, 'pdd', 'artifacts', ARTIFACT_IDENT, 'job_events');
    const tracker = new ProgressTracker(plannedTasks);
    let lastSeq = 0;
    let lastReported = '';
    let cancelAt: number | null = null;
    const drain = async () => {
      const files = await eventFiles(eventsDir, lastSeq);
      // Only contiguous events: a later file can land before an earlier one is renamed into place.
      while (files.has(lastSeq + 1)) {
        const raw = await readEventFile(join(eventsDir, files.get(lastSeq + 1)!));
        if (!raw) break;
        tracker.observe(raw);
        lastSeq += 1;
      }
      const progress = tracker.progress();
      const key = JSON.stringify(progress);
      if (key !== lastReported) {
        lastReported = key;
        hooks.onProgress(progress);
      }
    };
    const requestCancel = async () => {
      if (cancelAt !== null) return;
      cancelAt = Date.now();
      await writeFile(join(ws, 'cancel'), new Date().toISOString(), { mode: 0o600 }).catch(() => undefined);
      const claim = await readJson<Claim>(join(ws, 'claim.json'));
      if (claim?.by === 'supervisor' && claim.pid && startTime(claim.pid) === claim.startTime) {
        try {
          process.kill(claim.pid, 'SIGUSR1');
        } catch {
          // gone: the loop finds out
        }
      }
    };
    const markerJson = await readJson<{ createdAt: number }>(join(ws, 'marker.json'));
    const createdAt = markerJson?.createdAt ?? (await stat(ws)).mtimeMs;

    for (;;) {
      if (hooks.signal.aborted) await requestCancel();
      const status = await readJson<FinalStatus>(join(ws, 'status.json'));
      if (status) {
        await drain();
        return this.outcome(runKey, status, tracker, reattached);
      }
      const claim = await readJson<Claim>(join(ws, 'claim.json'));
      if (!claim) {
        if (Date.now() - createdAt > this.startGraceMs && (await this.claimAsAbandoned(ws))) {
          return this.declareLost(
            runKey,
            tracker,
            reattached,
            'The start was interrupted before Ansible ran (no supervisor claimed it); it never ran and will not.',
          );
        }
      } else if (claim.by === 'abandoned') {
        return this.declareLost(runKey, tracker, reattached, 'The start was interrupted before Ansible ran; it never ran and will not.');
      } else if (!claim.pid || startTime(claim.pid) !== claim.startTime) {
        // The supervisor is gone. It may have written its status just before exiting.
        if (await readJson<FinalStatus>(join(ws, 'status.json'))) continue;
        await drain();
        const killed = await killMarked(marker, this.places(runKey));
        return this.declareLost(
          runKey,
          tracker,
          reattached,
          `The execution's supervisor died without a final status${killed ? ` (${killed} leftover process(es) killed)` : ''}; the playbook is not run again.`,
        );
      } else if (cancelAt !== null && Date.now() - cancelAt > CANCEL_BACKSTOP_MS) {
        await killMarked(marker, this.places(runKey));
        try {
          process.kill(claim.pid, 'SIGKILL');
        } catch {
          // gone
        }
        await rm(join(ws, 'keys'), { recursive: true, force: true });
        await writeJsonAtomic(join(ws, 'status.json'), {
          exitCode: null,
          cancelled: true,
          timedOut: false,
          detail: 'The supervisor did not stop the execution in time: every process of it was killed.',
          by: 'worker',
          finishedAt: new Date().toISOString(),
        } satisfies FinalStatus);
        continue;
      }
      await drain();
      await sleep(this.pollMs);
    }
  }

  private async declareLost(runKey: string, tracker: ProgressTracker, reattached: boolean, detail: string): Promise<RunnerOutcome> {
    const ws = this.workspace(runKey);
    await rm(join(ws, 'keys'), { recursive: true, force: true });
    const status: FinalStatus = {
      exitCode: null,
      cancelled: false,
      timedOut: false,
      lost: true,
      detail,
      by: 'worker',
      finishedAt: new Date().toISOString(),
    };
    // Keep the first final word: another caller may have declared it already.
    try {
      await writeFile(join(ws, 'status.json'), JSON.stringify(status), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const first = await readJson<FinalStatus>(join(ws, 'status.json'));
      if (first) return this.outcome(runKey, first, tracker, reattached);
    }
    return this.outcome(runKey, status, tracker, reattached);
  }

  private async outcome(runKey: string, status: FinalStatus, tracker: ProgressTracker, reattached: boolean): Promise<RunnerOutcome> {
    const artifactDir = join(this.workspace(runKey), 'pdd', 'artifacts', ARTIFACT_IDENT);
    const stats = tracker.statsData;
    const progress: AutomationProgress = tracker.progress();
    const runnerStatus = status.lost
      ? 'lost'
      : finalStatus({ exitCode: status.exitCode, cancelled: status.cancelled, timedOut: status.timedOut }, stats !== null);
    let detail = status.detail;
    if (runnerStatus === 'recap_missing')
      detail = `Ansible exited 0 but emitted no final stats event (${STATS_EVENT}): the run is not taken for a success.`;
    if (runnerStatus === 'timeout') detail = detail ?? 'The run outlived its timeout and was stopped.';
    if (runnerStatus === 'cancelled') detail = detail ?? 'The run was cancelled and stopped.';
    return {
      runKey,
      status: runnerStatus,
      exitCode: status.exitCode,
      recap: stats ? recapFromStats(stats) : null,
      progress,
      logTail: await tailOfFile(join(artifactDir, 'stdout'), RUNNER_LOG_TAIL_BYTES),
      eventCount: progress.events,
      reattached,
      detail,
    };
  }

  async readEvents(runKey: string, cursor: string | null, limit: number): Promise<RunnerEventPage> {
    const ws = this.workspace(runKey);
    if (!existsSync(join(ws, 'marker.json'))) throw new RunnerExecutionNotFoundError(`No execution for run key '${runKey}'.`);
    const after = cursor === null ? 0 : Number(cursor);
    if (!Number.isInteger(after) || after < 0) throw new RunnerInputError(`Not a cursor of the local runner: '${cursor}'.`);
    const finished = existsSync(join(ws, 'status.json'));
    const dir = join(ws, 'pdd', 'artifacts', ARTIFACT_IDENT, 'job_events');
    const files = await eventFiles(dir, after);
    const events = [];
    let seq = after;
    while (events.length < Math.max(1, limit) && files.has(seq + 1)) {
      const raw = await readEventFile(join(dir, files.get(seq + 1)!));
      if (!raw) break;
      events.push(toRunnerEvent(raw));
      seq += 1;
    }
    return { events, cursor: String(seq), end: finished && !files.has(seq + 1) };
  }

  async cleanup(runKey: string): Promise<void> {
    // A cleanup of a running execution ends it: nothing may run from a removed workspace.
    await killMarked(this.marker(runKey), this.places(runKey));
    await rm(this.workspace(runKey), { recursive: true, force: true });
    const control = this.controlDir(runKey);
    if (!control.startsWith(`${this.workspace(runKey)}/`)) await rm(control, { recursive: true, force: true });
  }
}
