import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { crashService } from '../lab/faults.js';
import { execInHost, labPrerequisites, startLab, type LabHost } from '../lab/lab.js';
import { httpGet, run } from '../lab/proc.js';
import { ensureEda, type EdaInstallation } from './eda-setup.js';
import { freePort, machineDescription, median, onInterrupt, percentile, provenance, round, writeReport } from './lib.js';

// The Event-Driven Ansible half of `npm run bench:ingress` (issue 11): alert posted → service
// restored on a lab host, with ansible-rulebook 1.3.2 (PyPI, drools-jpy on the machine's Java 17)
// running a rulebook whose eda.builtin.webhook source takes the Alertmanager notification and whose
// rule runs `run_playbook` with a playbook that restarts labsvc (a supervisor program) on the host
// the alert's `instance` label names, over SSH. bench/ingress.ts calls startEda (trials to
// interleave) or runEdaBenchmark (all at once) and puts InfraAI's policy path beside it, measured by
// the same restoreTrial (kill, the same Alertmanager v4 payload with a new startsAt, the same
// restore check) posted to POST /api/v1/alerts instead; `npm run bench:eda` runs this half alone and
// writes bench/results/eda.json and .md.
//
// One trial: labsvc is SIGKILLed (supervisor leaves it EXITED; autorestart is off), then the clock
// starts as the notification is posted to the rulebook's webhook and stops when the host serves
// again: labsvc's own start log names a new pid and GET /health answers 200 (polled every 20 ms
// from this machine, never through EDA or SSH); supervisor must then report that pid RUNNING. The
// playbook's start and end are read from a wrapper placed first on ansible-runner's PATH that
// stamps the moment ansible-playbook is spawned and the moment it exits, then runs Debian's
// /usr/bin/ansible-playbook (the one InfraAI's local runner uses).

export const EDA_WEBHOOK_TOKEN = 'eda-bench-token-0123456789abcdef';
const ANSIBLE_PLAYBOOK = '/usr/bin/ansible-playbook';
const POLL_MS = 20;
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

// ---------------------------------------------------------------------------------------------
// What both systems get and how both are judged

/** Prometheus's label-set fingerprint (FNV-1a 64 over sorted name 0xff value 0xff), as Alertmanager sends it. */
export function alertFingerprint(labels: Record<string, string>): string {
  let hash = 14695039346656037325n;
  const prime = 1099511628211n;
  const mask = (1n << 64n) - 1n;
  const add = (bytes: Uint8Array) => {
    for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * prime) & mask;
  };
  const separator = new Uint8Array([0xff]);
  for (const name of Object.keys(labels).sort()) {
    add(Buffer.from(name, 'utf8'));
    add(separator);
    add(Buffer.from(labels[name]!, 'utf8'));
    add(separator);
  }
  return hash.toString(16).padStart(16, '0');
}

/** The labels test/support/alerting.ts's ServiceDown rule gives a lab host's labsvc alert. */
export function serviceDownLabels(host: Pick<LabHost, 'name' | 'service'>): Record<string, string> {
  return { alertname: 'ServiceDown', instance: host.name, job: 'labsvc', service: host.service, severity: 'critical' };
}

/**
 * An Alertmanager webhook notification (payload version 4, as Alertmanager 0.25 sends it) for the
 * host's ServiceDown alert. A new `startsAt` is a new firing episode (InfraAI: a new alert run).
 */
export function serviceDownAlert(
  host: Pick<LabHost, 'name' | 'service'>,
  options: { startsAt: string; status?: 'firing' | 'resolved'; endsAt?: string },
) {
  const labels = serviceDownLabels(host);
  const status = options.status ?? 'firing';
  const annotations = { summary: `${host.service} on ${host.name} does not answer its scrape` };
  return {
    version: '4',
    groupKey: `{}:{alertname="ServiceDown", instance="${host.name}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'webhook',
    groupLabels: { alertname: 'ServiceDown', instance: host.name },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: 'http://alertmanager.bench.invalid:9093',
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: options.startsAt,
        endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : (options.endsAt ?? new Date().toISOString()),
        generatorURL: 'http://prometheus.bench.invalid:9090/graph?g0.expr=up%7Bjob%3D%22labsvc%22%7D+%3D%3D+0',
        fingerprint: alertFingerprint(labels),
      },
    ],
  };
}

/** supervisor's pid of labsvc (0 when it is not running), read inside the host without SSH. */
export async function servicePid(host: LabHost): Promise<number> {
  const result = await execInHost(host, `supervisorctl pid ${host.service}`, { timeoutMs: 10_000 });
  const pid = Number(result.stdout.trim());
  return Number.isInteger(pid) ? pid : 0;
}

/** labsvc's own start log (`<ISO time> start pid=<pid> …`, one line each time it starts serving), read through the lab root. */
async function serviceStarts(host: LabHost): Promise<{ at: number; pid: number }[]> {
  const text = await readFile(join(host.dir, 'log', 'starts.log'), 'utf8').catch(() => '');
  return [...text.matchAll(/^(\S+) start pid=(\d+)/gm)].map((m) => ({ at: Date.parse(m[1]!), pid: Number(m[2]) }));
}

/** SIGKILLs labsvc and waits until supervisor reports it EXITED; returns the pid it had and how many starts the log holds. */
export async function killService(host: LabHost): Promise<{ oldPid: number; startsBefore: number }> {
  const oldPid = await servicePid(host);
  if (oldPid <= 0) throw new Error(`${host.service} is not running on ${host.name}: nothing to kill`);
  const startsBefore = (await serviceStarts(host)).length;
  await crashService(host);
  return { oldPid, startsBefore };
}

export interface Restored {
  /** When this machine first saw it: a new start in labsvc's log and GET /health 200. */
  observedAt: number;
  /** When labsvc logged that it serves again (its own clock: the machine's). */
  servingAt: number;
  pid: number;
}

/**
 * Polls (every 20 ms) until labsvc serves again under a pid other than `oldPid`: a start line after
 * `startsBefore` with a new pid, and GET /health answering 200 over the veth.
 */
export async function waitRestored(
  host: LabHost,
  { oldPid, startsBefore, timeoutMs = 60_000 }: { oldPid: number; startsBefore: number; timeoutMs?: number },
): Promise<Restored> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const fresh = (await serviceStarts(host)).slice(startsBefore).find((s) => s.pid !== oldPid);
    if (fresh) {
      const health = await httpGet(`http://${host.address}:${host.servicePort}/health`, 1_000).catch(() => null);
      if (health?.status === 200) return { observedAt: Date.now(), servingAt: fresh.at, pid: fresh.pid };
    }
    if (Date.now() > deadline) throw new Error(`${host.service} on ${host.name} was not restored within ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

export interface RestoreSample {
  postedAt: string;
  /** The alert's fingerprint and startsAt (InfraAI's run: alert-<fingerprint>-<startsAt>). */
  fingerprint: string;
  startsAt: string;
  /** Posted → the receiver answered. */
  acceptedMs: number;
  acceptedStatus: number;
  /** Posted → labsvc logged that it serves again. */
  servingMs: number;
  /** Posted → seen restored from this machine (new pid in the start log, /health 200): the measure. */
  restoredMs: number;
  oldPid: number;
  newPid: number;
}

/**
 * One trial, the same for every system compared: kill labsvc (EXITED), post a firing ServiceDown
 * notification for the host (a new startsAt each time) to `url` with the given credentials, wait
 * until the service is restored (waitRestored), and check supervisor runs that pid.
 */
export async function restoreTrial(
  host: LabHost,
  receiver: { url: string; bearer?: string; basic?: { username: string; password: string } },
  options: { timeoutMs?: number } = {},
): Promise<RestoreSample> {
  const { oldPid, startsBefore } = await killService(host);
  const startsAt = new Date().toISOString();
  const payload = serviceDownAlert(host, { startsAt });
  const authorization = receiver.bearer
    ? `Bearer ${receiver.bearer}`
    : receiver.basic
      ? `Basic ${Buffer.from(`${receiver.basic.username}:${receiver.basic.password}`).toString('base64')}`
      : null;
  const posted = Date.now();
  const answer = await fetch(receiver.url, {
    method: 'POST',
    headers: { ...(authorization ? { authorization } : {}), 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const accepted = Date.now();
  const body = await answer.text();
  if (!answer.ok) throw new Error(`${receiver.url} answered ${answer.status}: ${body.slice(0, 1000)}`);
  const restored = await waitRestored(host, { oldPid, startsBefore, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
  const running = await servicePid(host);
  if (running !== restored.pid) throw new Error(`supervisor runs ${host.service} as pid ${running}, the start log says ${restored.pid}`);
  return {
    postedAt: new Date(posted).toISOString(),
    fingerprint: payload.alerts[0]!.fingerprint,
    startsAt,
    acceptedMs: accepted - posted,
    acceptedStatus: answer.status,
    servingMs: restored.servingAt - posted,
    restoredMs: restored.observedAt - posted,
    oldPid,
    newPid: restored.pid,
  };
}

export interface Stats {
  median: number;
  p90: number;
  min: number;
  max: number;
  n: number;
}

export function stats(values: number[]): Stats {
  if (values.length === 0) return { median: Number.NaN, p90: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  return {
    median: round(median(values), 0),
    p90: round(percentile(values, 90), 0),
    min: round(Math.min(...values), 0),
    max: round(Math.max(...values), 0),
    n: values.length,
  };
}

// ---------------------------------------------------------------------------------------------
// ansible-rulebook

export interface EdaSample extends RestoreSample {
  /** Posted → ansible-playbook spawned (the wrapper's stamp). */
  playbookStartMs: number | null;
  /** Posted → ansible-playbook exited. */
  playbookEndMs: number | null;
  playbookExitCode: number | null;
}

export interface EdaRig {
  /** The rulebook's webhook (POST the notification here with `Authorization: Bearer <token>`). */
  url: string;
  token: string;
  installation: EdaInstallation;
  /** The rulebook, playbook and inventory it runs, for the report. */
  files: { rulebook: string; playbook: string; inventory: string };
  /** One kill → post → restored trial on the host. */
  trial(): Promise<EdaSample>;
  output(): string;
  stop(): Promise<void>;
}

interface Mark {
  kind: 'start' | 'end';
  at: number;
  rc: number | null;
}

async function readMarks(path: string): Promise<Mark[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return [...text.matchAll(/^(start|end) (\d+)(?: (\d+))?$/gm)].map((m) => ({
    kind: m[1] as 'start' | 'end',
    at: Number(BigInt(m[2]!) / 1_000_000n) + Number(BigInt(m[2]!) % 1_000_000n) / 1e6,
    rc: m[3] === undefined ? null : Number(m[3]),
  }));
}

/** The rulebook: the webhook source (Bearer token), one rule on a firing ServiceDown, run_playbook. */
export function edaRulebook(port: number, playbookPath: string, token: string): string {
  return stringify([
    {
      name: 'Self-healing from Alertmanager',
      hosts: 'all',
      sources: [{ name: 'alertmanager', 'eda.builtin.webhook': { host: '127.0.0.1', port, token } }],
      rules: [
        {
          name: 'Restart a service that is down',
          condition: 'event.payload.status == "firing" and event.payload.alerts[0].labels.alertname == "ServiceDown"',
          action: { run_playbook: { name: playbookPath } },
        },
      ],
    },
  ]);
}

/** The playbook: restart the supervisor program the alert names, on the host the alert names (no shell). */
export const EDA_PLAYBOOK = stringify([
  {
    name: 'Restart the service the alert names',
    hosts: '{{ ansible_eda.event.payload.alerts[0].labels.instance }}',
    gather_facts: false,
    tasks: [
      {
        name: 'Restart the supervisor program',
        'ansible.builtin.command': {
          argv: ['supervisorctl', 'restart', '{{ ansible_eda.event.payload.alerts[0].labels.service }}'],
        },
        changed_when: true,
      },
    ],
  },
]);

/** The inventory: the lab host as an operator's Ansible would reach it (root, the lab's key, strict host keys). */
export function edaInventory(host: LabHost, clientKeyPath: string, knownHostsPath: string): string {
  return stringify({
    all: {
      hosts: {
        [host.name]: {
          ansible_host: host.address,
          ansible_port: host.port,
          ansible_user: 'root',
          ansible_ssh_private_key_file: clientKeyPath,
          ansible_ssh_common_args: `-o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHostsPath} -o IdentitiesOnly=yes`,
          ansible_python_interpreter: '/usr/bin/python3',
        },
      },
    },
  });
}

/** Starts ansible-rulebook on the rulebook above and waits until its webhook listens. */
export async function startEda(options: {
  host: LabHost;
  clientKeyPath: string;
  knownHostsPath: string;
  log?: (line: string) => void;
}): Promise<EdaRig> {
  const { host, clientKeyPath, knownHostsPath, log = () => undefined } = options;
  const installation = await ensureEda();
  if ('error' in installation) throw new Error(`Event-Driven Ansible is not available: ${installation.error}`);
  const dir = await mkdtemp(join(tmpdir(), 'infraai-eda-'));
  const port = await freePort();
  const marks = join(dir, 'marks.log');
  const playbookPath = join(dir, 'project', 'restart-service.yml');
  const files = {
    rulebook: edaRulebook(port, playbookPath, EDA_WEBHOOK_TOKEN),
    playbook: EDA_PLAYBOOK,
    inventory: edaInventory(host, clientKeyPath, knownHostsPath),
  };
  await mkdir(join(dir, 'project'));
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'rulebook.yml'), files.rulebook);
  await writeFile(playbookPath, files.playbook);
  await writeFile(join(dir, 'inventory.yml'), files.inventory);
  // Stamps when ansible-runner spawns ansible-playbook and when it exits (two `date` calls, ~2 ms).
  await writeFile(
    join(dir, 'bin', 'ansible-playbook'),
    [
      '#!/bin/sh',
      `echo "start $(date +%s%N)" >> ${marks}`,
      `${ANSIBLE_PLAYBOOK} "$@"`,
      'rc=$?',
      `echo "end $(date +%s%N) $rc" >> ${marks}`,
      'exit $rc',
      '',
    ].join('\n'),
  );
  await chmod(join(dir, 'bin', 'ansible-playbook'), 0o755);

  const child: ChildProcess = spawn(
    installation.executable,
    ['--rulebook', join(dir, 'rulebook.yml'), '--inventory', join(dir, 'inventory.yml'), '--verbose'],
    {
      cwd: dir,
      detached: true,
      env: {
        ...process.env,
        JAVA_HOME: installation.javaHome,
        PATH: `${join(dir, 'bin')}:${join(installation.venv, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
        ANSIBLE_NOCOLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const append = (chunk: Buffer) => {
    output = `${output}${chunk.toString()}`.slice(-100_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const url = `http://127.0.0.1:${port}/alerts`;
  const stop = async () => {
    unregister();
    if (!gone()) {
      // The whole group: ansible-rulebook and whatever playbook it still runs.
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // gone meanwhile
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const unregister = onInterrupt(stop);

  const startedAt = Date.now();
  for (;;) {
    if (gone()) {
      await stop();
      throw new Error(`ansible-rulebook exited (${child.exitCode ?? child.signalCode}) before its webhook listened:\n${output}`);
    }
    // GET is not a route of the webhook source: any answer means it listens.
    const listening = await fetch(url, { signal: AbortSignal.timeout(1000) })
      .then(() => true)
      .catch(() => false);
    if (listening) break;
    if (Date.now() - startedAt > 120_000) {
      await stop();
      throw new Error(`ansible-rulebook's webhook did not listen on ${url} within 120 s:\n${output}`);
    }
    await sleep(100);
  }
  log(`ansible-rulebook listening on ${url} after ${Date.now() - startedAt} ms`);

  const trial = async (): Promise<EdaSample> => {
    if (gone()) throw new Error(`ansible-rulebook is gone (${child.exitCode ?? child.signalCode}):\n${output.slice(-4000)}`);
    const marksBefore = (await readMarks(marks)).length;
    const sample = await restoreTrial(host, { url, bearer: EDA_WEBHOOK_TOKEN }).catch((err: Error) => {
      throw new Error(`${err.message}\nansible-rulebook output (tail):\n${output.slice(-6000)}`);
    });
    // The playbook ends after supervisorctl returns (startsecs=1): wait for it before the next kill.
    const deadline = Date.now() + 60_000;
    let mine: Mark[] = [];
    for (;;) {
      mine = (await readMarks(marks)).slice(marksBefore);
      if (mine.some((m) => m.kind === 'end') || Date.now() > deadline) break;
      await sleep(POLL_MS);
    }
    const start = mine.find((m) => m.kind === 'start') ?? null;
    const end = mine.find((m) => m.kind === 'end') ?? null;
    const posted = Date.parse(sample.postedAt);
    return {
      ...sample,
      playbookStartMs: start ? round(start.at - posted, 1) : null,
      playbookEndMs: end ? round(end.at - posted, 1) : null,
      playbookExitCode: end?.rc ?? null,
    };
  };

  return { url, token: EDA_WEBHOOK_TOKEN, installation, files, trial, output: () => output, stop };
}

export interface EdaResult {
  versions: EdaInstallation['versions'] & { ansiblePlaybook: string; javaHome: string };
  files: EdaRig['files'];
  warmUp: EdaSample[];
  samples: EdaSample[];
  restoredMs: Stats;
  servingMs: Stats;
  playbookStartMs: Stats;
  playbookEndMs: Stats;
  acceptedMs: Stats;
  /** Samples whose playbook did not exit 0 (they still count if the service came back). */
  playbookFailures: number;
}

export function summarizeEda(samples: EdaSample[]): Omit<EdaResult, 'versions' | 'files' | 'warmUp' | 'samples'> {
  const present = (values: (number | null)[]) => values.filter((v): v is number => v !== null);
  return {
    restoredMs: stats(samples.map((s) => s.restoredMs)),
    servingMs: stats(samples.map((s) => s.servingMs)),
    playbookStartMs: stats(present(samples.map((s) => s.playbookStartMs))),
    playbookEndMs: stats(present(samples.map((s) => s.playbookEndMs))),
    acceptedMs: stats(samples.map((s) => s.acceptedMs)),
    playbookFailures: samples.filter((s) => s.playbookExitCode !== 0).length,
  };
}

/** `ansible-playbook [core 2.14.18]`: the Ansible the rulebook's playbooks run on. */
async function ansiblePlaybookVersion(): Promise<string> {
  const { stdout } = await run(ANSIBLE_PLAYBOOK, ['--version'], { timeoutMs: 60_000 });
  return /\[core ([^\]]+)\]/.exec(stdout)?.[1] ?? 'unknown';
}

/** ansible-rulebook started, `warmUp` trials not counted (first SSH connection, JIT), then `runs` trials. */
export async function runEdaBenchmark(options: {
  host: LabHost;
  clientKeyPath: string;
  knownHostsPath: string;
  runs?: number;
  warmUp?: number;
  log?: (line: string) => void;
}): Promise<EdaResult> {
  const { runs = 10, warmUp = 1, log = () => undefined } = options;
  const rig = await startEda(options);
  try {
    const warm: EdaSample[] = [];
    for (let i = 0; i < warmUp; i += 1) warm.push(await rig.trial());
    const samples: EdaSample[] = [];
    for (let i = 0; i < runs; i += 1) {
      const sample = await rig.trial();
      samples.push(sample);
      log(
        `eda #${i + 1}: restored ${sample.restoredMs} ms (serving ${sample.servingMs}, playbook start ${sample.playbookStartMs ?? '—'}, end ${sample.playbookEndMs ?? '—'} rc ${sample.playbookExitCode ?? '—'})`,
      );
    }
    return {
      versions: { ...rig.installation.versions, ansiblePlaybook: await ansiblePlaybookVersion(), javaHome: rig.installation.javaHome },
      files: rig.files,
      warmUp: warm,
      samples,
      ...summarizeEda(samples),
    };
  } finally {
    await rig.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Alone: `npm run bench:eda`

async function main(): Promise<void> {
  const problems = labPrerequisites();
  if (problems.length) throw new Error(`the lab cannot run here: ${problems.join('; ')}`);
  const runs = Number(process.env.BENCH_EDA_RUNS ?? 10);
  const measuredAt = new Date().toISOString();
  const benchStarted = performance.now();
  const machine = { description: machineDescription(), cores: cpus().length, loadAverageAtStart: loadavg().map((l) => round(l, 2)) };
  const lab = await startLab({ hosts: 1 });
  const stopLab = onInterrupt(() => lab.stop());
  let result: EdaResult;
  try {
    result = await runEdaBenchmark({
      host: lab.hosts[0]!,
      clientKeyPath: lab.clientKeyPath,
      knownHostsPath: lab.knownHostsPath,
      runs,
      log: (line) => console.log(line),
    });
  } finally {
    stopLab();
    await lab.stop();
  }
  const benchSeconds = round((performance.now() - benchStarted) / 1000, 0);
  const ms = (v: number) => (Number.isNaN(v) ? '—' : `${Math.round(v)} ms`);
  const row = (name: string, s: Stats, note = '') => [name, ms(s.median), ms(s.p90), `${ms(s.min)} – ${ms(s.max)}`, s.n, note];
  await writeReport(
    'eda',
    {
      machine: { ...machine, loadAverageAtEnd: loadavg().map((l) => round(l, 2)) },
      measuredAt,
      benchSeconds,
      settings: { runs, warmUp: 1, pollMs: POLL_MS },
      ...result,
    },
    [
      {
        title: `Event-Driven Ansible: alert posted → labsvc restored on a lab host, ${result.samples.length} runs`,
        columns: ['measure', 'median', 'p90', 'range', 'n', 'note'],
        rows: [
          row('posted → restored (new pid in the start log, /health 200, seen from this machine)', result.restoredMs, 'the measure'),
          row('posted → labsvc logged it serves again', result.servingMs),
          row('posted → webhook answered', result.acceptedMs),
          row('posted → ansible-playbook spawned', result.playbookStartMs, 'rule matched, job set up'),
          row(
            'posted → ansible-playbook exited',
            result.playbookEndMs,
            result.playbookFailures ? `${result.playbookFailures} exited non-zero` : 'all exited 0',
          ),
        ],
      },
    ],
    [
      `Cores ${machine.cores}, load average at start ${machine.loadAverageAtStart.join(' ')}, at the end ${loadavg()
        .map((l) => round(l, 2))
        .join(' ')}; the benchmark took ${benchSeconds} s.`,
      `ansible-rulebook ${result.versions.ansibleRulebook} and drools-jpy ${result.versions.droolsJpy} (PyPI) on Java ${result.versions.java} (${result.versions.javaHome}); playbooks run by ansible-runner (ansible-rulebook's dependency) with Debian's ansible-core ${result.versions.ansiblePlaybook}, a fresh private data directory per run (no SSH connection is reused, as ansible-rulebook runs it).`,
      'Each run: labsvc SIGKILLed (supervisor leaves it EXITED), then an Alertmanager v4 notification for its ServiceDown alert is posted to the eda.builtin.webhook source (Bearer token); the rule runs `run_playbook` with a playbook that runs `supervisorctl restart <service>` (argv, no shell) on the host named by the `instance` label, over SSH as root with the lab key and strict host keys. Restored: labsvc’s own start log names a new pid and GET /health answers 200, polled every 20 ms; supervisor then reports that pid RUNNING.',
      'Playbook start and end: a wrapper first on ansible-runner’s PATH stamps when ansible-playbook is spawned and when it exits, and runs Debian’s /usr/bin/ansible-playbook. supervisorctl waits startsecs=1 before it reports the restart, so the playbook ends about a second after labsvc serves again.',
      'One run before the measured ones is not counted.',
      ...provenance('npm run bench:eda', measuredAt),
    ],
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
