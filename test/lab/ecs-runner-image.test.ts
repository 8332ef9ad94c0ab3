import { labTestProblems } from './prerequisites.js';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ECS_RUNNER_EXIT_EVENT, ECS_RUNNER_TIMEOUT_RC, EcsAnsibleRunner, RunnerLog } from '../../adapters/ansible-runner/ecs.js';
import { finalStatus, parseEventLine, recapFromStats, toRunnerEvent } from '../../adapters/ansible-runner/events.js';
import type { RunnerInput } from '../../adapters/ansible-runner/port.js';
import { startLab, type Lab, type LabHost } from '../../lab/lab.js';
import { ensureMoto, startMoto, type MotoServer } from '../support/moto.js';

// The ECS runner image's entrypoint (adapters/ansible-runner/ecs-image/entrypoint.py), run as a
// process on this machine the way the container runs it: the job is uploaded to S3 (moto) by the ECS
// runner's own upload code, the entrypoint fetches it with boto3 through AWS_ENDPOINT_URL, runs
// Debian's ansible-runner against a real lab host over SSH (strict host keys, the key from a 0600
// file), and its stdout — what the awslogs driver would ship — is read with the ECS runner's own
// line parsing. Effects are checked on the host's files. What is not real here: the container
// itself (no image is built on this machine: no Docker daemon), Fargate and CloudWatch Logs.
//
// INFRAAI_ECS_IMAGE_PYTHON picks the interpreter (default: the moto environment's, which has
// boto3); the image runs Debian's /usr/bin/python3 with python3-boto3.

const problems = labTestProblems();
if (problems.length > 0) console.warn(`lab tests skipped: ${problems.join('; ')}`);
const ansibleMissing = !existsSync('/usr/bin/ansible-runner');
if (ansibleMissing && problems.length === 0) {
  if (process.env.CI === 'true') throw new Error('/usr/bin/ansible-runner is missing: npm ci installs python3-ansible-runner as root.');
  console.warn('ECS runner image tests skipped: /usr/bin/ansible-runner is missing (apt-get install python3-ansible-runner)');
}
const moto = problems.length > 0 || ansibleMissing ? { error: 'the lab cannot run here' } : await ensureMoto();
if ('error' in moto && problems.length === 0 && !ansibleMissing) {
  if (process.env.CI === 'true') throw new Error(`moto is required under CI (npm ci installs it): ${moto.error}`);
  console.warn(`ECS runner image tests skipped: ${moto.error.split('\n')[0]}`);
}
const skipped = problems.length > 0 || ansibleMissing || 'error' in moto;

const ENTRYPOINT = join(import.meta.dirname, '..', '..', 'adapters', 'ansible-runner', 'ecs-image', 'entrypoint.py');
const PYTHON = process.env.INFRAAI_ECS_IMAGE_PYTHON ?? ('executable' in moto ? join(dirname(moto.executable), 'python') : 'python3');
const REGION = 'us-east-1';
const BUCKET = 'infraai-runner-image-test';
const CREDENTIAL = 'lab';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
/** Docker splits a log line at 16 KiB. */
const DOCKER_LINE_LIMIT = 16 * 1024;

let lab: Lab;
let host: LabHost;
let knownHosts: string;
let server: MotoServer;
let runner: EcsAnsibleRunner;
let workRoot: string;
let runCount = 0;
const started: ImageRun[] = [];

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

function input(playbook: string, options: { timeoutMs?: number; variables?: Record<string, unknown> } = {}): RunnerInput {
  runCount += 1;
  return {
    runKey: `automation-image-${process.pid}-${runCount}`,
    artifacts: {
      playbook,
      inventory: `all:
  hosts:
    ${host.name}:
      ansible_host: ${host.address}
      ansible_port: ${host.port}
      ansible_user: root
      ansible_ssh_private_key_file: "{{ infraai_key_dir }}/${CREDENTIAL}.key"
`,
      variables: options.variables ?? {},
      collections: [],
      command: ['-i', 'inventory.yml', 'playbook.yml', '--extra-vars', '@vars.json', '--diff'],
      hosts: [{ tagId: host.name, hostname: host.name, address: host.address, port: host.port, user: 'root', credential: CREDENTIAL }],
    },
    keys: { [CREDENTIAL]: lab.clientPrivateKey },
    knownHosts,
    checkMode: false,
    timeoutMs: options.timeoutMs ?? 120_000,
  };
}

interface ImageRun {
  child: ChildProcess;
  /** Where the entrypoint makes its workspace (INFRAAI_WORK_DIR). */
  workDir: string;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the entrypoint as the container would run it: a clean environment, its own process group. */
async function startImage(jobUri: string, timeoutSeconds: number): Promise<ImageRun> {
  const workDir = await mkdtemp(join(workRoot, 'run-'));
  const child = spawn(PYTHON, [ENTRYPOINT], {
    env: {
      PATH: '/usr/bin:/bin',
      INFRAAI_JOB_URI: jobUri,
      INFRAAI_TIMEOUT_SECONDS: String(timeoutSeconds),
      INFRAAI_WORK_DIR: workDir,
      AWS_ENDPOINT_URL: server.endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_DEFAULT_REGION: REGION,
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: ImageRun = {
    child,
    workDir,
    stdout: [],
    stderr: [],
    exited: new Promise((done) => child.once('exit', (code, signal) => done({ code, signal }))),
  };
  const stdoutClosed = new Promise((done) =>
    createInterface({ input: child.stdout! })
      .on('line', (l) => run.stdout.push(l))
      .once('close', done),
  );
  const stderrClosed = new Promise((done) =>
    createInterface({ input: child.stderr! })
      .on('line', (l) => run.stderr.push(l))
      .once('close', done),
  );
  const exited = run.exited;
  // Resolves once the process exited and both streams were read to their end.
  run.exited = Promise.all([exited, stdoutClosed, stderrClosed]).then(([ended]) => ended);
  started.push(run);
  return run;
}

/** The output fed through the ECS runner's own line parsing, as `follow` reads the task's log. */
function readAsEcsRunner(playbook: string, lines: readonly string[]): RunnerLog {
  const log = new RunnerLog(playbook);
  for (const line of lines) log.push(line);
  return log;
}

/** Processes left of a run: in the entrypoint's process group, or naming or working in its work dir. */
function processesOf(run: ImageRun): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (group === run.child.pid || cmdline.includes(run.workDir) || cwd.startsWith(run.workDir))
        found.push(`${entry}: ${cmdline.slice(0, 160)}`);
    } catch {
      // gone, or a kernel thread
    }
  }
  return found;
}

/** The key's base64 lines: none may appear in any output line. */
const keyMaterial = (): string[] =>
  lab.clientPrivateKey
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length >= 16 && !line.startsWith('-----'));

function expectNoKeyMaterial(run: ImageRun): void {
  const secrets = keyMaterial();
  expect(secrets.length).toBeGreaterThan(0);
  for (const line of [...run.stdout, ...run.stderr]) {
    expect(line).not.toContain('PRIVATE KEY');
    for (const secret of secrets) expect(line.includes(secret), 'a line of the private key reached the output').toBe(false);
  }
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

const waitingPlaybook = `- hosts: all
  gather_facts: false
  tasks:
    - name: Reach the host
      ansible.builtin.ping:
    - name: Wait
      ansible.builtin.command: sleep 300
`;

describe.skipIf(skipped)('ECS runner image entrypoint against moto and a real lab host', () => {
  beforeAll(async () => {
    if ('error' in moto) return;
    lab = await startLabWhenFree();
    host = lab.hosts[0]!;
    knownHosts = await readFile(lab.knownHostsPath, 'utf8');
    workRoot = await mkdtemp(join(tmpdir(), 'infraai-ecs-image-'));
    server = await startMoto(moto.executable);
    const common = { region: REGION, endpoint: server.endpoint, credentials };
    const s3 = new S3Client({ ...common, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    // Only its upload is used: no task is started, no log is read.
    runner = new EcsAnsibleRunner({
      cluster: 'unused',
      taskDefinition: 'unused',
      subnets: [],
      securityGroups: [],
      assignPublicIp: false,
      containerName: 'ansible-runner',
      artifactBucket: BUCKET,
      logGroup: 'unused',
      logStreamPrefix: 'unused',
      region: REGION,
      endpoint: server.endpoint,
      clients: { s3, ecs: new ECSClient(common), logs: new CloudWatchLogsClient(common) },
    });
  }, 16 * 60_000);
  afterEach(() => {
    // A failed test must not leave an entrypoint (and Ansible) running.
    for (const run of started.splice(0)) {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        try {
          process.kill(-run.child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });
  afterAll(async () => {
    await server?.stop();
    await lab?.stop();
    if (workRoot) await rm(workRoot, { recursive: true, force: true });
  });

  it('runs an uploaded job on the lab host: the host changed, the recap from the stats event, one event a line under 16 KB, exit line rc 0, no key material, the workspace gone', async () => {
    const stamp = `image-${process.pid}-${Date.now()}`;
    const playbook = `- hosts: all
  gather_facts: false
  tasks:
    - name: Write the labsvc configuration
      ansible.builtin.copy:
        dest: /etc/labsvc/labsvc.conf
        content: "# labsvc configuration (written by the ECS runner image test)\\nport=8080\\nlog_level=warn\\n# {{ stamp }}\\n"
        mode: "0644"
    - name: Print a large result
      ansible.builtin.shell: head -c 30000 /dev/zero | tr '\\0' x
    - name: Print a large message
      ansible.builtin.debug:
        msg: "{{ 'y' * 40000 }}"
`;
    const run = input(playbook, { variables: { stamp } });
    const jobUri = await runner.uploadJob(run);
    expect(jobUri).toBe(`s3://${BUCKET}/${run.runKey}/job.json`);

    const image = await startImage(jobUri, 120);
    const ended = await image.exited;
    expect(ended, image.stderr.join('\n')).toEqual({ code: 0, signal: null });

    // The container's log: events, one per line, each under Docker's limit; the exit line last.
    expect(image.stdout.at(-1)).toBe(JSON.stringify({ event: ECS_RUNNER_EXIT_EVENT, rc: 0 }));
    for (const line of image.stdout) expect(Buffer.byteLength(line) + 1).toBeLessThan(DOCKER_LINE_LIMIT);
    expect(image.stdout.slice(0, -1).every((line) => parseEventLine(line) !== null)).toBe(true);

    // Read the way the ECS runner reads it.
    const log = readAsEcsRunner(playbook, image.stdout);
    const stats = log.tracker.statsData;
    expect(log.exitCode).toBe(0);
    expect(finalStatus({ exitCode: log.exitCode, cancelled: false, timedOut: false }, stats !== null)).toBe('successful');
    expect(recapFromStats(stats!)).toEqual({
      [host.name]: { ok: 3, changed: 2, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
    });
    expect(log.tracker.progress()).toMatchObject({ tasksDone: 3, tasksTotal: 3, currentTask: null, events: image.stdout.length - 1 });
    // The job's options reached ansible-playbook (--diff), and a result too large for one line
    // was shrunk without losing what a page shows.
    expect(log.logTail()).toContain('--- before: /etc/labsvc/labsvc.conf');
    expect(log.logTail()).toContain('cut by the runner image');
    const large = image.stdout
      .map(parseEventLine)
      .find((raw) => raw?.event === 'runner_on_ok' && raw.event_data?.task === 'Print a large result');
    expect((large?.event_data?.res as Record<string, unknown> | undefined)?.infraai_truncated).toBe(true);
    expect(toRunnerEvent(large!)).toMatchObject({ host: host.name, changed: true });

    // On the host itself.
    const conf = await readFile(join(host.dir, 'etc-labsvc', 'labsvc.conf'), 'utf8');
    expect(conf).toContain(`# ${stamp}`);
    expect(conf).toContain('log_level=warn');

    expectNoKeyMaterial(image);
    expect(readdirSync(image.workDir)).toEqual([]);
    expect(processesOf(image)).toEqual([]);
  });

  it('on SIGTERM (ECS StopTask) stops every process of the run, removes the keys and still prints the exit line, rc 143', async () => {
    const run = input(waitingPlaybook);
    const image = await startImage(await runner.uploadJob(run), 600);
    await waitFor(() => readAsEcsRunner(waitingPlaybook, image.stdout).tracker.progress().currentTask === 'Wait', "the task 'Wait'");
    // ansible-playbook, its fork and ssh run the task now; the key is in a 0600 file of a 0700 directory.
    await new Promise((done) => setTimeout(done, 1500));
    const [workspace] = readdirSync(image.workDir);
    const keyFile = join(image.workDir, workspace!, 'keys', `${CREDENTIAL}.key`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(keyFile)).mode & 0o777).toBe(0o700);
    expect(processesOf(image).length).toBeGreaterThan(2);

    const sentAt = Date.now();
    image.child.kill('SIGTERM');
    const ended = await image.exited;
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect(ended, image.stderr.join('\n')).toEqual({ code: 143, signal: null });
    expect(image.stdout.at(-1)).toBe(JSON.stringify({ event: ECS_RUNNER_EXIT_EVENT, rc: 143 }));
    const log = readAsEcsRunner(waitingPlaybook, image.stdout);
    expect(log.exitCode).toBe(143);
    expect(log.tracker.statsData).toBeNull();
    expect(processesOf(image)).toEqual([]);
    expect(readdirSync(image.workDir)).toEqual([]);
    expectNoKeyMaterial(image);
  });

  it('stops a run that outlives its timeout: every process gone, exit line rc 124 (the rc the ECS runner reports as timeout)', async () => {
    const run = input(waitingPlaybook, { timeoutMs: 4000 });
    const began = Date.now();
    // INFRAAI_TIMEOUT_SECONDS is larger here: job.json's timeoutSeconds (4) is the smaller and wins.
    const image = await startImage(await runner.uploadJob(run), 600);
    const ended = await image.exited;
    expect(Date.now() - began).toBeLessThan(20_000);
    expect(ended, image.stderr.join('\n')).toEqual({ code: ECS_RUNNER_TIMEOUT_RC, signal: null });
    expect(image.stdout.at(-1)).toBe(JSON.stringify({ event: ECS_RUNNER_EXIT_EVENT, rc: ECS_RUNNER_TIMEOUT_RC }));
    expect(readAsEcsRunner(waitingPlaybook, image.stdout).tracker.progress().currentTask).toBe('Wait');
    expect(image.stderr.join('\n')).toMatch(/outlived its timeout/);
    expect(processesOf(image)).toEqual([]);
    expect(readdirSync(image.workDir)).toEqual([]);
  });

  it('without a job at the URI ends at once with the exit line, rc 125, and runs nothing', async () => {
    const image = await startImage(`s3://${BUCKET}/automation-image-missing-${process.pid}/job.json`, 60);
    const ended = await image.exited;
    expect(ended).toEqual({ code: 125, signal: null });
    expect(image.stdout).toEqual([JSON.stringify({ event: ECS_RUNNER_EXIT_EVENT, rc: 125 })]);
    expect(image.stderr.join('\n')).toMatch(/NoSuchKey/);
    expect(readdirSync(image.workDir)).toEqual([]);
  });
});
