import type { AutomationArtifacts, AutomationProgress, HostRecap } from '../../core/automation.js';

// The Ansible runner port: where a playbook executes (a local sandbox, an ECS Fargate task) and what
// its run reports. No vendor SDK and no process spawning here: activities and the API import this
// file; local.ts and ecs.ts hold the implementations, create.ts picks one from config.
//
// Identity: an execution is named by its `runKey` (the workflow id), never by a call. A second
// `run()` with the same key (an activity retried after a worker crash, a duplicate call) finds the
// first execution and waits for it or returns its outcome; it never starts the playbook again.

export interface RunnerInput {
  /** Stable per run (the workflow id): the execution's identity across retries and worker crashes. */
  runKey: string;
  artifacts: AutomationArtifacts;
  /** Private key PEM (unencrypted) by credential name, as the inventory names them (`<credential>.key`). */
  keys: Record<string, string>;
  /** known_hosts lines for every host of the inventory: host keys are checked strictly. */
  knownHosts: string;
  /** `--check --diff`: nothing changes, the diff a real run would make is in the log. */
  checkMode: boolean;
  /** The whole run, measured by the runner from the execution's start (survives a worker crash). */
  timeoutMs: number;
}

export type RunnerStatus =
  /** The playbook ran to its end, every host ok, and Ansible's final stats event is there. */
  | 'successful'
  /** Ansible exited non-zero (a task failed, a host was unreachable, a syntax error) or the runner failed. */
  | 'failed'
  /** The run outlived `timeoutMs` and was stopped. */
  | 'timeout'
  /** Stopped on request (the abort signal). */
  | 'cancelled'
  /** The exit code said success, but no final stats event exists: never taken for a success. */
  | 'recap_missing'
  /** The execution was started (or its start was claimed) but died without a final status: never started again. */
  | 'lost';

/** One Ansible event, as the runner pages them to the store (the human log is the `stdout` fields in order). */
export interface RunnerEvent {
  /** 1, 2, 3 … in the order Ansible emitted them (ansible-runner's `counter`). */
  seq: number;
  /** Ansible's event name: playbook_on_task_start, runner_on_ok, playbook_on_stats, … */
  type: string;
  uuid: string | null;
  created: string | null;
  play: string | null;
  task: string | null;
  host: string | null;
  /** The text this event printed (the default callback's output, diff included). */
  stdout: string;
  changed: boolean | null;
  failed: boolean | null;
}

export interface RunnerEventPage {
  events: RunnerEvent[];
  /** Pass back to read on from after the last event returned; opaque. */
  cursor: string;
  /** True when the execution has finished and no event follows the ones returned. */
  end: boolean;
}

export interface RunnerOutcome {
  runKey: string;
  status: RunnerStatus;
  /** Ansible's exit code; null when it never reported one (killed, lost, a task that never ran). */
  exitCode: number | null;
  /** Per host, from Ansible's `playbook_on_stats` event; null when there is none. */
  recap: Record<string, HostRecap> | null;
  progress: AutomationProgress;
  /** The last part of the human log (bounded); the whole log is paged with `readEvents`. */
  logTail: string;
  /** How many events the run emitted (page them with `readEvents`). */
  eventCount: number;
  /** True when this call found an execution started earlier (a retry) instead of starting one. */
  reattached: boolean;
  /** Why the status, in words, when it is not plain success (what stopped it, what was lost). */
  detail: string | null;
}

export interface RunHooks {
  /** Called as events arrive (throttled by the implementation); the activity heartbeats with it. */
  onProgress(progress: AutomationProgress): void;
  /** Aborting cancels the execution: INT, TERM, then KILL to its processes (or StopTask). */
  signal: AbortSignal;
}

export interface AnsibleRunner {
  readonly kind: 'local' | 'ecs';
  /**
   * The shortest interval at which a caller should call `readEvents` while a run goes on (each
   * call costs API requests with rate limits); absent: as often as it likes.
   */
  readonly eventsReadIntervalMs?: number;
  /** Starts the execution named by `input.runKey`, or finds the one started earlier, and waits for its end. */
  run(input: RunnerInput, hooks: RunHooks): Promise<RunnerOutcome>;
  /**
   * Events from after `cursor` (null: from the first), at most `limit`, in order and without a gap;
   * bounded memory for any run size. Callable while the run goes on: it returns what is there (an
   * event still being written waits for the next call) and `end` only once the execution finished.
   */
  readEvents(runKey: string, cursor: string | null, limit: number): Promise<RunnerEventPage>;
  /** Removes what the execution left (workspace, artifacts); its events cannot be read afterwards. */
  cleanup(runKey: string): Promise<void>;
}

/** How much of the log's end an outcome carries. */
export const RUNNER_LOG_TAIL_BYTES = 64 * 1024;

/** The runner cannot work here (ansible-runner missing, ECS or S3 refusing, a bad configuration). */
export class RunnerUnavailableError extends Error {
  override readonly name = 'RunnerUnavailableError';
}

/** The input cannot run: a command option the runner does not allow, a key for no credential. */
export class RunnerInputError extends Error {
  override readonly name = 'RunnerInputError';
}

/** No execution exists for this run key (readEvents before run, or after cleanup). */
export class RunnerExecutionNotFoundError extends Error {
  override readonly name = 'RunnerExecutionNotFoundError';
}
