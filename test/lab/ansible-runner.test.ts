import { labTestProblems } from './prerequisites.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalAnsibleRunner } from '../../adapters/ansible-runner/local.js';
import {
  RunnerExecutionNotFoundError,
  type RunnerEvent,
  type RunnerInput,
  type RunnerOutcome,
} from '../../adapters/ansible-runner/port.js';
import type { AutomationProgress } from '../../core/automation.js';
import { execInHost, startCount, startLab, type Lab, type LabHost } from '../../lab/lab.js';
import { httpGet } from '../../lab/proc.js';

// The local Ansible runner against a real OpenSSH host of the lab: Debian's ansible-runner and
// ansible run real playbooks over SSH (strict host-key checking, the key from a 0600 file), and
// every effect is checked on the host itself (its files in the lab root, nsenter), never through
// the runner. Worker crashes are real: a separate worker process is SIGKILLed mid-run.

const problems = labTestProblems();
if (problems.length > 0) console.warn(`lab tests skipped: ${problems.join('; ')}`);
const ansibleMissing = !existsSync('/usr/bin/ansible-runner');
if (ansibleMissing && problems.length === 0) {
  if (process.env.CI === 'true') throw new Error('/usr/bin/ansible-runner is missing: npm ci installs python3-ansible-runner as root.');
  console.warn('ansible runner lab tests skipped: /usr/bin/ansible-runner is missing (apt-get install python3-ansible-runner)');
}

const WORKER = join(import.meta.dirname, '..', 'support', 'ansible-runner-worker.ts');
const CREDENTIAL = 'lab';
const NO_HOOKS = () => ({ onProgress: () => undefined, signal: new AbortController().signal });

let lab: Lab;
let host: LabHost;
let baseDir: string;
let runner: LocalAnsibleRunner;
let knownHosts: string;
let runCount = 0;

/** The lab, waiting for another test run's lab to finish (only one lab runs on a machine). */
async function startLabWhenFree(): Promise<Lab> {
  const until = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      return await startLab({ hosts: 1 });
    } catch (err) {
      if (!/already running/.test((err as Error).message) || Date.now() > until) throw err;
      await new Promise((done) => setTimeout(done, 60_000));
    }
  }
}

function inventory(extra: string = ''): string {
  return `all:
  hosts:
    ${host.name}:
      ansible_host: ${host.address}
      ansible_port: ${host.port}
      ansible_user: root
      ansible_ssh_private_key_file: "{{ infraai_key_dir }}/${CREDENTIAL}.key"
${extra}`;
}

function input(
  playbook: string,
  options: { checkMode?: boolean; inventory?: string; timeoutMs?: number; runKey?: string } = {},
): RunnerInput {
  runCount += 1;
  return {
    runKey: options.runKey ?? `automation-lab-${process.pid}-${runCount}`,
    artifacts: {
      playbook,
      inventory: options.inventory ?? inventory(),
      variables: {},
      collections: [],
      command: ['-i', 'inventory.yml', 'playbook.yml', '--extra-vars', '@vars.json', ...(options.checkMode ? ['--check', '--diff'] : [])],
      hosts: [{ tagId: host.name, hostname: host.name, address: host.address, port: host.port, user: 'root', credential: CREDENTIAL }],
    },
    keys: { [CREDENTIAL]: lab.clientPrivateKey },
    knownHosts,
    checkMode: options.checkMode ?? false,
    timeoutMs: options.timeoutMs ?? 120_000,
  };
}

/** Every event of the run, paged the way the caller stores them. */
async function allEvents(runKey: string): Promise<RunnerEvent[]> {
  const events: RunnerEvent[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await runner.readEvents(runKey, cursor, 7);
    events.push(...page.events);
    cursor = page.cursor;
    if (page.end) return events;
    if (page.events.length === 0) throw new Error('a finished run ended its pages without end=true');
  }
}

/** Processes of this machine that belong to a workspace: started in it or naming it. */
function processesOf(workspace: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      // A zombie, or a process inside exit (its memory, cmdline included, already released), runs
      // no code of the execution any more: on a loaded machine its parent reaps it a moment later.
      if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2)) || cmdline === '') continue;
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cmdline.includes(workspace) || cwd.startsWith(workspace)) found.push(`${entry}: ${cmdline.slice(0, 160)}`);
    } catch {
      // gone, or a kernel thread
    }
  }
  return found;
}

const keyFiles = (workspace: string): string[] =>
  existsSync(join(workspace, 'keys')) ? readdirSync(join(workspace, 'keys')).map((name) => join('keys', name)) : [];

const counterLines = async (): Promise<number> => {
  try {
    return (await readFile(join(host.dir, 'etc-labsvc', 'runs.log'), 'utf8')).split('\n').filter(Boolean).length;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
};

/** A playbook that appends one line to a counter file on the host, then waits. */
const countingPlaybook = (seconds: number) => `- hosts: all
  gather_facts: false
  tasks:
    - name: Count this execution
      ansible.builtin.shell: echo "ran $(date +%s%N)" >> /etc/labsvc/runs.log
    - name: Wait
      ansible.builtin.command: sleep ${seconds}
`;

function waitForTask(name: string, progress: () => AutomationProgress | null, timeoutMs = 60_000): Promise<void> {
  return new Promise((done, fail) => {
    const began = Date.now();
    const timer = setInterval(() => {
      if (progress()?.currentTask === name) {
        clearInterval(timer);
        done();
      } else if (Date.now() - began > timeoutMs) {
        clearInterval(timer);
        fail(new Error(`task '${name}' did not start within ${timeoutMs} ms (last progress ${JSON.stringify(progress())})`));
      }
    }, 100);
  });
}

describe.skipIf(problems.length > 0 || ansibleMissing)('local Ansible runner on a real lab host', () => {
  beforeAll(async () => {
    lab = await startLabWhenFree();
    host = lab.hosts[0]!;
    knownHosts = await readFile(lab.knownHostsPath, 'utf8');
    baseDir = await mkdtemp(join(tmpdir(), 'infraai-ansible-runs-'));
    runner = new LocalAnsibleRunner({ baseDir, pollMs: 100 });
  }, 16 * 60_000);
  afterAll(async () => {
    await lab?.stop();
    if (baseDir) await rm(baseDir, { recursive: true, force: true });
  });

  it('writes labsvc’s configuration and restarts it: the change is on the host, the recap comes from the stats event, the keys are gone', async () => {
    const starts = await startCount(host);
    const run = input(`- hosts: all
  gather_facts: false
  tasks:
    - name: Write the labsvc configuration
      ansible.builtin.copy:
        dest: /etc/labsvc/labsvc.conf
        content: "# labsvc configuration (written by the InfraAI runner test)\\nport=8080\\nlog_level=warn\\n"
        mode: "0644"
    - name: Restart labsvc
      ansible.builtin.command: supervisorctl restart labsvc
`);
    const reports: AutomationProgress[] = [];
    const outcome = await runner.run(run, { onProgress: (p) => reports.push(p), signal: new AbortController().signal });

    expect(outcome, outcome.logTail).toMatchObject({ status: 'successful', exitCode: 0, reattached: false });
    expect(outcome.recap).toEqual({ [host.name]: { ok: 2, changed: 2, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 } });
    expect(outcome.progress).toMatchObject({ tasksDone: 2, tasksTotal: 2, currentTask: null });
    expect(reports.some((p) => p.currentTask === 'Restart labsvc' && p.tasksDone === 1)).toBe(true);
    // On the host, not through the runner: the file, a new start of labsvc, and the service answering.
    expect(await readFile(join(host.dir, 'etc-labsvc', 'labsvc.conf'), 'utf8')).toContain('log_level=warn');
    expect(await startCount(host)).toBe(starts + 1);
    expect((await execInHost(host, 'supervisorctl status labsvc')).stdout).toMatch(/RUNNING/);
    expect((await httpGet(`http://${host.address}:${host.servicePort}/health`, 2000)).status).toBe(200);

    const events = await allEvents(run.runKey);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: outcome.eventCount }, (_, i) => i + 1));
    expect(events.at(-1)?.type).toBe('playbook_on_stats');
    expect(events.find((e) => e.type === 'runner_on_ok' && e.task === 'Restart labsvc')).toMatchObject({ host: host.name, changed: true });
    expect(keyFiles(runner.workspace(run.runKey))).toEqual([]);
    expect(outcome.logTail).toMatch(/PLAY RECAP/);
  });

  it('pages events while the playbook runs: in counter order without a gap, end only once the execution finished', async () => {
    const run = input(`- hosts: all
  gather_facts: false
  tasks:
    - name: First
      ansible.builtin.command: sleep 2
    - name: Second
      ansible.builtin.command: sleep 2
    - name: Third
      ansible.builtin.command: sleep 2
`);
    let answered = false;
    const pending = runner.run(run, NO_HOOKS()).finally(() => (answered = true));
    // A follower as the run step has one: small pages from its cursor, every 200 ms, while ansible-runner writes job_events/.
    const events: RunnerEvent[] = [];
    const readWhileRunning: RunnerEvent[] = [];
    let cursor: string | null = null;
    let statsSeen = false;
    while (!answered) {
      try {
        const page = await runner.readEvents(run.runKey, cursor, 3);
        // Before the final stats event exists, the execution cannot have finished.
        if (!statsSeen && !page.events.some((e) => e.type === 'playbook_on_stats')) expect(page.end).toBe(false);
        statsSeen ||= page.events.some((e) => e.type === 'playbook_on_stats');
        events.push(...page.events);
        if (!answered) readWhileRunning.push(...page.events);
        cursor = page.cursor;
      } catch (err) {
        // The workspace is made by run(): before it, there is no execution to read.
        if (!(err instanceof RunnerExecutionNotFoundError)) throw err;
      }
      await new Promise((done) => setTimeout(done, 200));
    }
    const outcome = await pending;
    expect(outcome, outcome.logTail).toMatchObject({ status: 'successful' });
    for (;;) {
      const page = await runner.readEvents(run.runKey, cursor, 3);
      events.push(...page.events);
      cursor = page.cursor;
      if (page.end) break;
      expect(page.events.length).toBeGreaterThan(0);
    }
    // Read while Ansible was still running: the first task's result, before the third had begun.
    const firstDone = readWhileRunning.findIndex((e) => e.type === 'runner_on_ok' && e.task === 'First');
    expect(firstDone).toBeGreaterThanOrEqual(0);
    expect(readWhileRunning.slice(0, firstDone).some((e) => e.task === 'Third')).toBe(false);
    // Every event once, in counter order, the stats last: the same as paging after the end.
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: outcome.eventCount }, (_, i) => i + 1));
    expect(events.at(-1)?.type).toBe('playbook_on_stats');
    expect(events).toEqual(await allEvents(run.runKey));
  });

  it('check mode changes nothing on the host and shows the diff a real run would make', async () => {
    const before = await readFile(join(host.dir, 'etc-labsvc', 'labsvc.conf'), 'utf8');
    const run = input(
      `- hosts: all
  gather_facts: false
  tasks:
    - name: Write the labsvc configuration
      ansible.builtin.copy:
        dest: /etc/labsvc/labsvc.conf
        content: "port=8080\\nlog_level=error\\n"
`,
      { checkMode: true },
    );
    const outcome = await runner.run(run, NO_HOOKS());
    expect(outcome, outcome.logTail).toMatchObject({ status: 'successful', exitCode: 0 });
    expect(outcome.recap?.[host.name]).toMatchObject({ changed: 1, failed: 0 });
    expect(await readFile(join(host.dir, 'etc-labsvc', 'labsvc.conf'), 'utf8')).toBe(before);
    const log = (await allEvents(run.runKey)).map((e) => e.stdout).join('\n');
    expect(log).toContain('--- before: /etc/labsvc/labsvc.conf');
    expect(log).toContain('-log_level=warn');
    expect(log).toContain('+log_level=error');
  });

  it('shows an unreachable host in the recap from the stats event, the reachable one ran', async () => {
    // A port on the lab host where nothing listens: refused at once, and no traffic leaves the lab.
    const run = input(
      `- hosts: all
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
`,
      {
        inventory: inventory(`    ghost:
      ansible_host: ${host.address}
      ansible_port: 2222
      ansible_user: root
      ansible_ssh_private_key_file: "{{ infraai_key_dir }}/${CREDENTIAL}.key"
`),
      },
    );
    const outcome = await runner.run(run, NO_HOOKS());
    expect(outcome.status).toBe('failed');
    expect(outcome.exitCode).toBe(4);
    expect(outcome.recap?.ghost).toMatchObject({ unreachable: 1, ok: 0 });
    expect(outcome.recap?.[host.name]).toMatchObject({ ok: 1, unreachable: 0, failed: 0 });
  });

  it('cancels mid-run: every process of the execution is gone within 10 s, the run ends cancelled', async () => {
    const run = input(`- hosts: all
  gather_facts: false
  tasks:
    - name: Sleep
      ansible.builtin.command: sleep 300
`);
    const abort = new AbortController();
    let last: AutomationProgress | null = null;
    const pending = runner.run(run, { onProgress: (p) => (last = p), signal: abort.signal });
    await waitForTask('Sleep', () => last);
    const workspace = runner.workspace(run.runKey);
    // ansible-playbook, its fork and ssh are running the task now.
    await new Promise((done) => setTimeout(done, 1500));
    expect(processesOf(workspace).length).toBeGreaterThan(0);
    const abortedAt = Date.now();
    abort.abort();
    const outcome = await pending;
    expect(Date.now() - abortedAt).toBeLessThan(10_000);
    expect(outcome).toMatchObject({ status: 'cancelled', exitCode: null, recap: null });
    expect(processesOf(workspace)).toEqual([]);
    expect(keyFiles(workspace)).toEqual([]);
  });

  it('survives a worker SIGKILLed mid-run: the retry re-attaches, waits, and the playbook ran once', async () => {
    const before = await counterLines();
    const run = input(countingPlaybook(6));
    const inputPath = join(baseDir, `input-${run.runKey}.json`);
    await writeFile(inputPath, JSON.stringify(run), { mode: 0o600 });
    const worker: ChildProcess = spawn(process.execPath, ['--import', 'tsx', WORKER, baseDir, inputPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let workerProgress: AutomationProgress | null = null;
    worker.stdout!.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.startsWith('progress ')) workerProgress = JSON.parse(line.slice('progress '.length)) as AutomationProgress;
      }
    });
    await waitForTask('Wait', () => workerProgress);
    const exited = new Promise((done) => worker.once('exit', done));
    worker.kill('SIGKILL');
    await exited;

    // Two retries at once (a redelivered activity and a duplicate call): both find the first execution.
    const [first, second] = await Promise.all([runner.run(run, NO_HOOKS()), runner.run(run, NO_HOOKS())]);
    for (const outcome of [first, second]) {
      expect(outcome, outcome.logTail).toMatchObject({ status: 'successful', exitCode: 0, reattached: true });
      expect(outcome.recap?.[host.name]).toMatchObject({ ok: 2, changed: 2 });
    }
    expect(await counterLines()).toBe(before + 1);
    // Finished: a later call returns the same outcome, still without running anything.
    const later = await runner.run(run, NO_HOOKS());
    expect(later).toMatchObject({ status: 'successful', reattached: true, eventCount: first.eventCount });
    expect(await counterLines()).toBe(before + 1);
  });

  it('reports lost when the execution died without a final status, and never runs it again', async () => {
    const before = await counterLines();
    const run = input(countingPlaybook(30));
    let last: AutomationProgress | null = null;
    const pending: Promise<RunnerOutcome> = runner.run(run, { onProgress: (p) => (last = p), signal: new AbortController().signal });
    await waitForTask('Wait', () => last);
    const workspace = runner.workspace(run.runKey);
    const claim = JSON.parse(await readFile(join(workspace, 'claim.json'), 'utf8')) as { pid: number };
    process.kill(claim.pid, 'SIGKILL');

    const outcome = await pending;
    expect(outcome.status).toBe('lost');
    expect(outcome.detail).toMatch(/died without a final status/);
    expect(processesOf(workspace)).toEqual([]);
    expect(keyFiles(workspace)).toEqual([]);
    const retried = await runner.run(run, NO_HOOKS());
    expect(retried).toMatchObject({ status: 'lost', reattached: true });
    expect(await counterLines()).toBe(before + 1);
  });

  it('stops a run that outlives its timeout: every process gone, the run ends timeout', async () => {
    const run = input(
      `- hosts: all
  gather_facts: false
  tasks:
    - name: Sleep
      ansible.builtin.command: sleep 300
`,
      { timeoutMs: 4000 },
    );
    const began = Date.now();
    const outcome = await runner.run(run, NO_HOOKS());
    expect(outcome).toMatchObject({ status: 'timeout', exitCode: null, recap: null });
    // 4 s of run, then INT/TERM/KILL within 10 s.
    expect(Date.now() - began).toBeLessThan(16_000);
    expect(processesOf(runner.workspace(run.runKey))).toEqual([]);
  });

  it('reports lost, and never runs the playbook, when a start died between its marker and the supervisor', async () => {
    const before = await counterLines();
    const run = input(countingPlaybook(1));
    const impatient = new LocalAnsibleRunner({ baseDir, pollMs: 100, startGraceMs: 1000 });
    // What a worker killed right after writing the marker leaves: the workspace and its marker, no claim.
    const workspace = impatient.workspace(run.runKey);
    await mkdir(workspace, { mode: 0o700 });
    await writeFile(join(workspace, 'marker.json'), JSON.stringify({ runKey: run.runKey, createdAt: Date.now() - 60_000, by: 0 }));
    const outcome = await impatient.run(run, NO_HOOKS());
    expect(outcome).toMatchObject({ status: 'lost', reattached: true, exitCode: null });
    expect(outcome.detail).toMatch(/never ran/);
    expect(JSON.parse(await readFile(join(workspace, 'claim.json'), 'utf8'))).toMatchObject({ by: 'abandoned' });
    expect(await counterLines()).toBe(before);
  });

  it('cleanup removes the workspace; its events cannot be read any more', async () => {
    const run = input(`- hosts: all
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
`);
    expect((await runner.run(run, NO_HOOKS())).status).toBe('successful');
    await runner.cleanup(run.runKey);
    expect(existsSync(runner.workspace(run.runKey))).toBe(false);
    await expect(runner.readEvents(run.runKey, null, 10)).rejects.toThrow(/No execution/);
  });
});
