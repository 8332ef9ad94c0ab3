import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EcsAnsibleRunner, ECS_RUNNER_EXIT_EVENT, startedByFor } from '../../adapters/ansible-runner/ecs.js';
import type { RunnerInput, RunnerOutcome } from '../../adapters/ansible-runner/port.js';
import type { AutomationProgress } from '../../core/automation.js';
import { ensureMoto, motoDefaultNetwork, motoHoldStatus, startMoto, type MotoServer } from '../support/moto.js';

// The ECS runner's whole call sequence against moto's server mode: artifacts to S3, RunTask on
// Fargate with awsvpc networking, DescribeTasks polling, the log from CloudWatch Logs, StopTask,
// the artifacts removed. moto records tasks and runs nothing, so this test plays the runner
// container: it writes the container's log lines (Ansible's events as ansible-runner 2.3.1
// printed them in a real run, test/fixtures/ansible-runner) into the stream the task's awslogs
// configuration names, and stops the task as the container's exit would. What ran for real: the
// AWS SDK calls and their handling; what did not: a container, Ansible.

const moto = await ensureMoto();
if ('error' in moto) {
  if (process.env.CI === 'true') throw new Error(`moto is required under CI (npm ci installs it): ${moto.error}`);
  console.warn(`ECS runner tests skipped: ${moto.error.split('\n')[0]}`);
}

const REGION = 'us-east-1';
const CLUSTER = 'infraai-test';
const TASK_FAMILY = 'infraai-ansible-runner';
const CONTAINER = 'ansible-runner';
const BUCKET = 'infraai-runner-artifacts';
const LOG_GROUP = '/infraai/ansible-runner';
const STREAM_PREFIX = 'ansible-runner';
const FIXTURE = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'ansible-runner', 'successful-with-diff.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '');

let server: MotoServer;
let ecs: ECSClient;
let s3: S3Client;
let logs: CloudWatchLogsClient;
let runner: EcsAnsibleRunner;
let sequence = 0;

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function input(runKey: string): RunnerInput {
  return {
    runKey,
    artifacts: {
      playbook:
        '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: write file\n      copy: {dest: /tmp/x, content: "hello\\n"}\n    - name: say\n      debug: {msg: hi}\n',
      inventory:
        'all:\n  hosts:\n    h1:\n      ansible_host: 10.0.0.5\n      ansible_ssh_private_key_file: "{{ infraai_key_dir }}/lab.key"\n',
      variables: { greeting: 'hi' },
      collections: [],
      command: ['-i', 'inventory.yml', 'playbook.yml', '--diff'],
      hosts: [{ tagId: 'h1', hostname: 'h1', address: '10.0.0.5', port: 22, user: 'root', credential: 'lab' }],
    },
    keys: { lab: '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n' },
    knownHosts: '10.0.0.5 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAbcdefghijklmnopqrstuvwxyz0123456789ABCD',
    checkMode: false,
    timeoutMs: 120_000,
  };
}

/** Tasks ECS knows for the run key, running or stopped. */
async function tasksOf(runKey: string): Promise<string[]> {
  const arns: string[] = [];
  for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
    const page = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, startedBy: startedByFor(runKey), desiredStatus }));
    arns.push(...(page.taskArns ?? []));
  }
  return arns;
}

async function waitForTask(runKey: string): Promise<string> {
  return vi.waitFor(
    async () => {
      const [arn] = await tasksOf(runKey);
      if (!arn) throw new Error(`no task for ${runKey} yet`);
      return arn;
    },
    { timeout: 20_000, interval: 100 },
  );
}

async function artifactKeys(runKey: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${runKey}/` }));
  return (listed.Contents ?? []).map((o) => o.Key!.slice(runKey.length + 1)).sort();
}

/** What the runner container would print: one log event per line, into its awslogs stream. */
async function containerPrints(taskArn: string, lines: string[]): Promise<void> {
  const logStreamName = `${STREAM_PREFIX}/${CONTAINER}/${taskArn.slice(taskArn.lastIndexOf('/') + 1)}`;
  try {
    await logs.send(new CreateLogStreamCommand({ logGroupName: LOG_GROUP, logStreamName }));
  } catch (err) {
    if ((err as Error).name !== 'ResourceAlreadyExistsException') throw err;
  }
  const now = Date.now();
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: LOG_GROUP,
      logStreamName,
      logEvents: lines.map((message, i) => ({ message, timestamp: now + i })),
    }),
  );
}

const containerExits = (taskArn: string) =>
  ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn, reason: 'Essential container in task exited' }));

describe.skipIf('error' in moto)('ECS Ansible runner against a local AWS-compatible server (moto)', () => {
  beforeAll(async () => {
    if ('error' in moto) return;
    server = await startMoto(moto.executable);
    await motoHoldStatus(server.endpoint, 'ecs::task');
    // The runner builds its own clients from the endpoint and region; the SDK reads these.
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    const common = { region: REGION, endpoint: server.endpoint, credentials };
    ecs = new ECSClient(common);
    s3 = new S3Client({ ...common, forcePathStyle: true });
    logs = new CloudWatchLogsClient(common);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: TASK_FAMILY,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '512',
        memory: '1024',
        containerDefinitions: [
          {
            name: CONTAINER,
            image: 'infraai/ansible-runner:test',
            essential: true,
            cpu: 512,
            memory: 1024,
            logConfiguration: {
              logDriver: 'awslogs',
              options: { 'awslogs-group': LOG_GROUP, 'awslogs-region': REGION, 'awslogs-stream-prefix': STREAM_PREFIX },
            },
          },
        ],
      }),
    );
    await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
    const network = await motoDefaultNetwork(server.endpoint, REGION);
    runner = new EcsAnsibleRunner({
      cluster: CLUSTER,
      taskDefinition: TASK_FAMILY,
      subnets: [network.subnet],
      securityGroups: [network.securityGroup],
      assignPublicIp: false,
      containerName: CONTAINER,
      artifactBucket: BUCKET,
      logGroup: LOG_GROUP,
      logStreamPrefix: STREAM_PREFIX,
      region: REGION,
      endpoint: server.endpoint,
      pollMs: 200,
      logDrainMs: 3000,
    });
  }, 600_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('uploads the artifacts, runs one task, follows its log to the recap, and removes the artifacts; a retried start launches no second task', async () => {
    const runKey = `automation-ecs-${process.pid}-${++sequence}`;
    const reports: AutomationProgress[] = [];
    const first = runner.run(input(runKey), { onProgress: (p) => reports.push(p), signal: new AbortController().signal });
    const taskArn = await waitForTask(runKey);

    // The artifacts are in S3 under the run key; the task was told where.
    expect(await artifactKeys(runKey)).toEqual(['inventory.yml', 'job.json', 'keys/lab.key', 'known_hosts', 'playbook.yml', 'vars.json']);
    const job = JSON.parse(
      await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${runKey}/job.json` }))).Body!.transformToString(),
    ) as { options: string[]; keys: string[] };
    expect(job).toMatchObject({ options: ['--diff'], keys: ['keys/lab.key'] });
    const [described] = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }))).tasks ?? [];
    expect(described).toMatchObject({ lastStatus: 'RUNNING', launchType: 'FARGATE', startedBy: startedByFor(runKey) });
    expect(described?.overrides?.containerOverrides?.[0]?.environment).toContainEqual({
      name: 'INFRAAI_JOB_URI',
      value: `s3://${BUCKET}/${runKey}/job.json`,
    });

    // A retried start (a worker crashed after RunTask) finds the task instead of starting one.
    const retried = runner.run(input(runKey), { onProgress: () => undefined, signal: new AbortController().signal });
    await new Promise((done) => setTimeout(done, 1000));
    expect(await tasksOf(runKey)).toEqual([taskArn]);

    // The container prints the first half of the run: progress follows.
    await containerPrints(taskArn, FIXTURE.slice(0, 5));
    await vi.waitFor(() => expect(reports.at(-1)).toMatchObject({ currentTask: 'write file', events: 5 }), { timeout: 10_000 });
    // Read while the task runs, as the run step's follower reads: what the log has so far, and not the end.
    const midRun = await runner.readEvents(runKey, null, 100);
    expect(midRun.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(midRun.end).toBe(false);
    expect(await runner.readEvents(runKey, midRun.cursor, 100)).toMatchObject({ events: [], end: false });
    await containerPrints(taskArn, [...FIXTURE.slice(5), JSON.stringify({ event: ECS_RUNNER_EXIT_EVENT, rc: 0 })]);
    await containerExits(taskArn);

    const outcomes: RunnerOutcome[] = await Promise.all([first, retried]);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ status: 'successful', exitCode: 0, eventCount: FIXTURE.length });
      expect(outcome.recap).toEqual({ h1: { ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 } });
      expect(outcome.logTail).toContain('PLAY RECAP');
    }
    expect(outcomes.map((o) => o.reattached)).toEqual([false, true]);
    expect(await tasksOf(runKey)).toEqual([taskArn]);
    expect(await artifactKeys(runKey)).toEqual([]);

    // Paged from CloudWatch in small pages: every event once, in order, ending with the stats.
    const seqs: number[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 20; pages += 1) {
      const page = await runner.readEvents(runKey, cursor, 3);
      seqs.push(...page.events.map((e) => e.seq));
      cursor = page.cursor;
      if (page.end) break;
    }
    expect(seqs).toEqual(Array.from({ length: FIXTURE.length }, (_, i) => i + 1));
    // The follower's cursor from mid-run reads on to the end: the rest, once, and the end (the exit line was read).
    const rest = await runner.readEvents(runKey, midRun.cursor, 100);
    expect(rest.events.map((e) => e.seq)).toEqual(Array.from({ length: FIXTURE.length - 5 }, (_, i) => i + 6));
    expect(rest.end).toBe(true);

    // After the end: a call with the same key returns the outcome again and starts nothing.
    const later = await runner.run(input(runKey), { onProgress: () => undefined, signal: new AbortController().signal });
    expect(later).toMatchObject({ status: 'successful', reattached: true });
    expect(await tasksOf(runKey)).toEqual([taskArn]);
    expect(await artifactKeys(runKey)).toEqual([]);
  });

  it('stops the task on abort: StopTask, the task STOPPED, the run cancelled, the artifacts removed', async () => {
    const runKey = `automation-ecs-${process.pid}-${++sequence}`;
    const abort = new AbortController();
    const pending = runner.run(input(runKey), { onProgress: () => undefined, signal: abort.signal });
    const taskArn = await waitForTask(runKey);
    await containerPrints(taskArn, FIXTURE.slice(0, 4));
    abort.abort();
    const outcome = await pending;
    expect(outcome).toMatchObject({ status: 'cancelled', exitCode: null, recap: null });
    const [task] = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }))).tasks ?? [];
    expect(task).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stoppedReason: 'InfraAI: cancelled' });
    expect(await artifactKeys(runKey)).toEqual([]);
    expect(await tasksOf(runKey)).toEqual([taskArn]);
  });

  it('is recap_missing when the container exited 0 but the log has no stats event', async () => {
    const runKey = `automation-ecs-${process.pid}-${++sequence}`;
    const pending = runner.run(input(runKey), { onProgress: () => undefined, signal: new AbortController().signal });
    const taskArn = await waitForTask(runKey);
    await containerPrints(taskArn, [
      ...FIXTURE.filter((line) => !line.includes('"playbook_on_stats"')),
      JSON.stringify({ event: ECS_RUNNER_EXIT_EVENT, rc: 0 }),
    ]);
    await containerExits(taskArn);
    const outcome = await pending;
    expect(outcome).toMatchObject({ status: 'recap_missing', exitCode: 0, recap: null });
    expect(outcome.detail).toMatch(/no final stats event/);
  });
});
