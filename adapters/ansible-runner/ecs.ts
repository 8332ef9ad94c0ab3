import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ECSClient, ListTasksCommand, RunTaskCommand, StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { checkKeys, playbookOptions } from './command.js';
import {
  LogTail,
  ProgressTracker,
  STATS_EVENT,
  countPlaybookTasks,
  finalStatus,
  parseEventLine,
  recapFromStats,
  toRunnerEvent,
} from './events.js';
import {
  RUNNER_LOG_TAIL_BYTES,
  RunnerExecutionNotFoundError,
  RunnerInputError,
  RunnerUnavailableError,
  type AnsibleRunner,
  type RunHooks,
  type RunnerEvent,
  type RunnerEventPage,
  type RunnerInput,
  type RunnerOutcome,
  type RunnerStatus,
} from './port.js';

// The ECS runner (production): the artifacts go to S3 under the run key, one Fargate task runs the
// runner image, its log (CloudWatch Logs, awslogs driver) carries Ansible's events, and the run is
// followed with DescribeTasks.
//
// The runner image's contract: it reads `s3://<bucket>/<runKey>/job.json` (INFRAAI_JOB_URI), fetches
// the files it names (playbook, inventory, extra variables, known_hosts, keys/<credential>.key),
// runs `ansible-runner run -j` (or anything printing ansible-runner's JSON events one per line) with
// `infraai_key_dir` set to where it put the keys, and ends with the line
// `{"event":"infraai_runner_exit","rc":<ansible's exit code>}`; the container exits with that code.
// Docker splits log lines past 16 KB: the image sets MAX_EVENT_RES (ansible-runner drops a larger
// module result from its event) so that every event stays one line; the stats event is never cut.
//
// Exactly once: the task's `startedBy` is a hash of the run key, and before starting, ListTasks
// (running and stopped) finds a task started earlier, so a retried start attaches to it; the
// `clientToken` derived from the run key makes ECS itself refuse a second task for a start whose
// answer was lost (AWS honours it; local emulators may not, hence the lookup).

/** `startedBy` is limited to 36 characters: a prefix and 28 hex digits of the run key's hash. */
export function startedByFor(runKey: string): string {
  return `infraai-${createHash('sha256').update(runKey).digest('hex').slice(0, 28)}`;
}

/** ECS's idempotency token for RunTask (at most 64 characters). */
export function clientTokenFor(runKey: string): string {
  return createHash('sha256').update(`ecs-run-task:${runKey}`).digest('hex');
}

const STOP_REASON_PREFIX = 'InfraAI: ';
/** The runner image's last line: `{"event":"infraai_runner_exit","rc":N}`. */
export const ECS_RUNNER_EXIT_EVENT = 'infraai_runner_exit';

function exitCodeOf(line: string): number | null {
  if (!line.includes(ECS_RUNNER_EXIT_EVENT)) return null;
  try {
    const value = JSON.parse(line) as { event?: unknown; rc?: unknown };
    return value.event === ECS_RUNNER_EXIT_EVENT && typeof value.rc === 'number' ? value.rc : null;
  } catch {
    return null;
  }
}

export interface EcsRunnerOptions {
  cluster: string;
  taskDefinition: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  /** The runner container's name in the task definition (overrides and the log stream use it). */
  containerName: string;
  artifactBucket: string;
  logGroup: string;
  /** The awslogs-stream-prefix of the task definition: streams are `<prefix>/<container>/<task id>`. */
  logStreamPrefix: string;
  region?: string | null;
  /** An AWS-compatible endpoint (tests); null: AWS. */
  endpoint?: string | null;
  pollMs?: number;
  /** After the task stopped, how long to wait for its last log lines (CloudWatch delivers late). */
  logDrainMs?: number;
  clients?: { ecs: ECSClient; s3: S3Client; logs: CloudWatchLogsClient };
}

interface LogCursor {
  /** GetLogEvents token; null: from the head. */
  t: string | null;
  /** Lines of that page already consumed. */
  s: number;
  /** The runner image's exit line is among the lines consumed: nothing follows it. */
  x?: true;
}

const encodeCursor = (cursor: LogCursor): string => Buffer.from(JSON.stringify(cursor)).toString('base64url');

function decodeCursor(text: string | null): LogCursor {
  if (text === null) return { t: null, s: 0 };
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as LogCursor;
    if ((value.t === null || typeof value.t === 'string') && Number.isInteger(value.s) && value.s >= 0 && (value.x ?? true) === true)
      return value;
  } catch {
    // below
  }
  throw new RunnerInputError(`Not a cursor of the ECS runner: '${text}'.`);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((done) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        done();
      },
      { once: true },
    );
  });

const taskId = (taskArn: string): string => taskArn.slice(taskArn.lastIndexOf('/') + 1);

export class EcsAnsibleRunner implements AnsibleRunner {
  readonly kind = 'ecs' as const;
  /** Each readEvents costs CloudWatch and ECS requests (rate-limited per account): a follower reads at the poll interval. */
  readonly eventsReadIntervalMs: number;
  private readonly ecs: ECSClient;
  private readonly s3: S3Client;
  private readonly logs: CloudWatchLogsClient;
  private readonly pollMs: number;
  private readonly logDrainMs: number;
  /** Task ARN by run key (a run key's task never changes): readEvents skips ListTasks after the first call. */
  private readonly taskArns = new Map<string, string>();

  constructor(private readonly options: EcsRunnerOptions) {
    const common = {
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    };
    this.ecs = options.clients?.ecs ?? new ECSClient(common);
    this.s3 = options.clients?.s3 ?? new S3Client({ ...common, forcePathStyle: Boolean(options.endpoint) });
    this.logs = options.clients?.logs ?? new CloudWatchLogsClient(common);
    this.pollMs = options.pollMs ?? 5000;
    this.logDrainMs = options.logDrainMs ?? 15_000;
    this.eventsReadIntervalMs = this.pollMs;
  }

  /** The S3 prefix of a run's artifacts. */
  artifactPrefix(runKey: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9._:=@-]{0,200}$/.test(runKey))
      throw new RunnerInputError(`The run key '${runKey}' cannot name an S3 prefix.`);
    return `${runKey}/`;
  }

  private logStreamName(taskArn: string): string {
    return `${this.options.logStreamPrefix}/${this.options.containerName}/${taskId(taskArn)}`;
  }

  /** The task started earlier for this run key (running or stopped), the oldest when there are several. */
  async findTask(runKey: string): Promise<Task | null> {
    const arns: string[] = [];
    for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
      let nextToken: string | undefined;
      do {
        const page = await this.aws('ListTasks', () =>
          this.ecs.send(new ListTasksCommand({ cluster: this.options.cluster, startedBy: startedByFor(runKey), desiredStatus, nextToken })),
        );
        arns.push(...(page.taskArns ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
    }
    if (arns.length === 0) return null;
    const tasks = await this.describe(arns.slice(0, 100));
    tasks.sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
    return tasks[0] ?? null;
  }

  private async describe(taskArns: string[]): Promise<Task[]> {
    const answer = await this.aws('DescribeTasks', () =>
      this.ecs.send(new DescribeTasksCommand({ cluster: this.options.cluster, tasks: taskArns })),
    );
    return answer.tasks ?? [];
  }

  private async aws<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof RunnerInputError || err instanceof RunnerExecutionNotFoundError) throw err;
      throw new RunnerUnavailableError(`${action} failed: ${(err as Error).name}: ${(err as Error).message}`);
    }
  }

  async run(input: RunnerInput, hooks: RunHooks): Promise<RunnerOutcome> {
    const options = playbookOptions(input.artifacts.command, input.checkMode);
    checkKeys(input.artifacts.hosts, input.keys);
    const prefix = this.artifactPrefix(input.runKey);
    let task = await this.findTask(input.runKey);
    const reattached = task !== null;
    if (!task) {
      await this.upload(input, prefix, options);
      const started = await this.aws('RunTask', () =>
        this.ecs.send(
          new RunTaskCommand({
            cluster: this.options.cluster,
            taskDefinition: this.options.taskDefinition,
            launchType: 'FARGATE',
            count: 1,
            startedBy: startedByFor(input.runKey),
            clientToken: clientTokenFor(input.runKey),
            networkConfiguration: {
              awsvpcConfiguration: {
                subnets: this.options.subnets,
                securityGroups: this.options.securityGroups,
                assignPublicIp: this.options.assignPublicIp ? 'ENABLED' : 'DISABLED',
              },
            },
            overrides: {
              containerOverrides: [
                {
                  name: this.options.containerName,
                  environment: [
                    { name: 'INFRAAI_JOB_URI', value: `s3://${this.options.artifactBucket}/${prefix}job.json` },
                    { name: 'INFRAAI_TIMEOUT_SECONDS', value: String(Math.ceil(input.timeoutMs / 1000)) },
                  ],
                },
              ],
            },
          }),
        ),
      );
      task = started.tasks?.[0] ?? null;
      if (!task?.taskArn) {
        const why = (started.failures ?? []).map((f) => `${f.arn ?? ''} ${f.reason ?? ''} ${f.detail ?? ''}`.trim()).join('; ');
        throw new RunnerUnavailableError(`RunTask started no task${why ? `: ${why}` : ''}.`);
      }
    }
    return this.follow(input, task, hooks, reattached);
  }

  private async upload(input: RunnerInput, prefix: string, options: string[]): Promise<void> {
    const put = (name: string, body: string) =>
      this.aws('PutObject', () =>
        this.s3.send(
          new PutObjectCommand({
            Bucket: this.options.artifactBucket,
            Key: `${prefix}${name}`,
            Body: body,
            ServerSideEncryption: 'AES256',
          }),
        ),
      );
    const keys = Object.keys(input.keys);
    for (const name of keys) {
      await put(`keys/${name}.key`, input.keys[name]!.endsWith('\n') ? input.keys[name]! : `${input.keys[name]!}\n`);
    }
    await put('playbook.yml', input.artifacts.playbook);
    await put('inventory.yml', input.artifacts.inventory);
    await put('vars.json', JSON.stringify(input.artifacts.variables));
    await put('known_hosts', input.knownHosts.endsWith('\n') ? input.knownHosts : `${input.knownHosts}\n`);
    // Last: the image starts from job.json, so a half-done upload is never taken for a job.
    await put(
      'job.json',
      JSON.stringify({
        runKey: input.runKey,
        playbook: 'playbook.yml',
        inventory: 'inventory.yml',
        extraVars: 'vars.json',
        knownHosts: 'known_hosts',
        keys: keys.map((name) => `keys/${name}.key`),
        collections: input.artifacts.collections,
        options,
        timeoutSeconds: Math.ceil(input.timeoutMs / 1000),
      }),
    );
  }

  private async stop(taskArn: string, why: 'cancelled' | 'timeout'): Promise<void> {
    await this.aws('StopTask', () =>
      this.ecs.send(new StopTaskCommand({ cluster: this.options.cluster, task: taskArn, reason: `${STOP_REASON_PREFIX}${why}` })),
    );
  }

  private async follow(input: RunnerInput, first: Task, hooks: RunHooks, reattached: boolean): Promise<RunnerOutcome> {
    const taskArn = first.taskArn!;
    const tracker = new ProgressTracker(countPlaybookTasks(input.artifacts.playbook));
    const tail = new LogTail(RUNNER_LOG_TAIL_BYTES);
    let cursor: LogCursor = { t: null, s: 0 };
    let exitFromLog: number | null = null;
    let lastReported = '';
    let stopping: 'cancelled' | 'timeout' | null = null;
    // Reads what the log has beyond the cursor; true when something new came.
    const readLog = async (): Promise<boolean> => {
      let any = false;
      for (;;) {
        const page = await this.logPage(taskArn, cursor, 10_000);
        for (const line of page.lines) {
          any = true;
          const raw = parseEventLine(line);
          if (raw) {
            tracker.observe(raw);
            const stdout = toRunnerEvent(raw).stdout;
            if (stdout) tail.push(`${stdout}\n`);
          } else {
            const rc = exitCodeOf(line);
            if (rc !== null) exitFromLog = rc;
            else tail.push(`${line}\n`);
          }
        }
        cursor = page.next;
        if (!page.more) break;
      }
      const progress = tracker.progress();
      const key = JSON.stringify(progress);
      if (key !== lastReported) {
        lastReported = key;
        hooks.onProgress(progress);
      }
      return any;
    };

    let task: Task = first;
    for (;;) {
      if (hooks.signal.aborted && !stopping) {
        stopping = 'cancelled';
        await this.stop(taskArn, 'cancelled');
      }
      const began = (task.startedAt ?? task.createdAt)?.getTime() ?? Date.now();
      if (!stopping && task.lastStatus !== 'STOPPED' && Date.now() - began > input.timeoutMs) {
        stopping = 'timeout';
        await this.stop(taskArn, 'timeout');
      }
      await readLog();
      const [now] = await this.describe([taskArn]);
      if (!now) throw new RunnerUnavailableError(`DescribeTasks does not know task ${taskArn} any more.`);
      task = now;
      if (task.lastStatus === 'STOPPED') break;
      await sleep(this.pollMs, stopping ? undefined : hooks.signal);
    }

    // The last lines reach CloudWatch after the task stopped: read until the exit line, or a quiet spell.
    const drainUntil = Date.now() + this.logDrainMs;
    while (exitFromLog === null && Date.now() < drainUntil) {
      const gotMore = await readLog();
      // Stopped by us, the run's last lines matter less than a prompt answer.
      if (!gotMore && (tracker.statsData !== null || stopping !== null)) break;
      await sleep(Math.min(1000, this.pollMs));
    }

    const container = task.containers?.find((c) => c.name === this.options.containerName) ?? task.containers?.[0];
    const stoppedReason = task.stoppedReason ?? '';
    const stoppedBy = stoppedReason.startsWith(STOP_REASON_PREFIX) ? stoppedReason.slice(STOP_REASON_PREFIX.length) : null;
    const exitCode = typeof container?.exitCode === 'number' ? container.exitCode : exitFromLog;
    const stats = tracker.statsData;
    let status: RunnerStatus;
    let detail: string | null = null;
    if (stoppedBy === 'cancelled' || stoppedBy === 'timeout') {
      status = finalStatus({ exitCode, cancelled: stoppedBy === 'cancelled', timedOut: stoppedBy === 'timeout' }, stats !== null);
      detail =
        stoppedBy === 'cancelled' ? 'The run was cancelled: the task was stopped.' : 'The run outlived its timeout: the task was stopped.';
    } else if (exitCode === null) {
      status = task.stopCode === 'TaskFailedToStart' ? 'failed' : 'lost';
      detail = `The task stopped without an exit code (${task.stopCode ?? 'no stop code'}: ${stoppedReason || 'no reason given'}).`;
    } else {
      status = finalStatus({ exitCode, cancelled: false, timedOut: false }, stats !== null);
      if (status === 'recap_missing')
        detail = `Ansible exited 0 but emitted no final stats event (${STATS_EVENT}): the run is not taken for a success.`;
    }
    await this.removeArtifacts(input.runKey);
    const progress = tracker.progress();
    return {
      runKey: input.runKey,
      status,
      exitCode: stoppedBy ? null : exitCode,
      recap: stats ? recapFromStats(stats) : null,
      progress,
      logTail: tail.text(),
      eventCount: progress.events,
      reattached,
      detail,
    };
  }

  /** Lines of the task's log after `cursor`, up to `limit`; `more` when the stream had more right away. */
  private async logPage(taskArn: string, cursor: LogCursor, limit: number): Promise<{ lines: string[]; next: LogCursor; more: boolean }> {
    let answer;
    try {
      answer = await this.logs.send(
        new GetLogEventsCommand({
          logGroupName: this.options.logGroup,
          logStreamName: this.logStreamName(taskArn),
          startFromHead: true,
          ...(cursor.t ? { nextToken: cursor.t } : {}),
        }),
      );
    } catch (err) {
      // The stream appears with the container's first line.
      if (err instanceof ResourceNotFoundException || (err as Error).name === 'ResourceNotFoundException')
        return { lines: [], next: cursor, more: false };
      throw new RunnerUnavailableError(`GetLogEvents failed: ${(err as Error).name}: ${(err as Error).message}`);
    }
    const all = (answer.events ?? []).map((e) => e.message ?? '');
    const fresh = all.slice(cursor.s, cursor.s + limit);
    const consumed = cursor.s + fresh.length;
    if (consumed < all.length) return { lines: fresh, next: { t: cursor.t, s: consumed }, more: true };
    const token = answer.nextForwardToken ?? null;
    // The same token back means the end of the stream for now: stay on this page, past what was read.
    if (token === null || token === cursor.t) return { lines: fresh, next: { t: cursor.t, s: consumed }, more: false };
    return { lines: fresh, next: { t: token, s: 0 }, more: all.length > 0 };
  }

  private async taskArnOf(runKey: string): Promise<string> {
    const known = this.taskArns.get(runKey);
    if (known) return known;
    const task = await this.findTask(runKey);
    if (!task?.taskArn) throw new RunnerExecutionNotFoundError(`No ECS task for run key '${runKey}'.`);
    // A bounded memo: the oldest run key goes first.
    if (this.taskArns.size >= 1000) this.taskArns.delete(this.taskArns.keys().next().value!);
    this.taskArns.set(runKey, task.taskArn);
    return task.taskArn;
  }

  /**
   * Works while the task runs: CloudWatch hands out what it has, the cursor stays past the last line
   * read. `end` needs the task STOPPED and its last lines in: the image's exit line read, or the
   * stop older than the drain period (CloudWatch delivers the last lines after the stop).
   */
  async readEvents(runKey: string, cursorText: string | null, limit: number): Promise<RunnerEventPage> {
    const taskArn = await this.taskArnOf(runKey);
    let cursor = decodeCursor(cursorText);
    const events: RunnerEvent[] = [];
    let exhausted = false;
    while (events.length < Math.max(1, limit)) {
      const page = await this.logPage(taskArn, cursor, Math.max(1, limit) - events.length);
      let exitSeen = cursor.x === true;
      for (const line of page.lines) {
        const raw = parseEventLine(line);
        if (raw) events.push(toRunnerEvent(raw));
        else if (exitCodeOf(line) !== null) exitSeen = true;
      }
      cursor = exitSeen ? { ...page.next, x: true } : page.next;
      if (!page.more) {
        exhausted = true;
        break;
      }
    }
    let end = false;
    if (exhausted) {
      const [task] = await this.describe([taskArn]);
      const stoppedAt = task?.stoppedAt?.getTime() ?? null;
      // ECS forgets a stopped task after about an hour: one it does not know stopped long ago.
      end =
        !task || (task.lastStatus === 'STOPPED' && (cursor.x === true || (stoppedAt !== null && Date.now() - stoppedAt > this.logDrainMs)));
    }
    return { events, cursor: encodeCursor(cursor), end };
  }

  private async removeArtifacts(runKey: string): Promise<void> {
    const prefix = this.artifactPrefix(runKey);
    let token: string | undefined;
    do {
      const listed = await this.aws('ListObjectsV2', () =>
        this.s3.send(new ListObjectsV2Command({ Bucket: this.options.artifactBucket, Prefix: prefix, ContinuationToken: token })),
      );
      const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length > 0)
        await this.aws('DeleteObjects', () =>
          this.s3.send(new DeleteObjectsCommand({ Bucket: this.options.artifactBucket, Delete: { Objects: keys, Quiet: true } })),
        );
      token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
    } while (token);
  }

  async cleanup(runKey: string): Promise<void> {
    // The task's log stays in CloudWatch under the log group's retention; the artifacts go.
    await this.removeArtifacts(runKey);
  }
}
