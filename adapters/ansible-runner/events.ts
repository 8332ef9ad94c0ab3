import { parse as parseYaml } from 'yaml';
import type { AutomationProgress, HostRecap } from '../../core/automation.js';
import type { RunnerEvent, RunnerStatus } from './port.js';

// Ansible's events as ansible-runner writes them (one JSON object per event: `job_events/<n>-<uuid>.json`
// locally, one line each in the ECS task's log), and what a run reports from them: progress, the
// per-host recap (from the final `playbook_on_stats` event only, never from the recap text), the status.

/** ansible-runner's event object (the fields used here; everything else is ignored). */
export interface RawAnsibleEvent {
  counter: number;
  event: string;
  uuid?: string;
  created?: string;
  stdout?: string;
  event_data?: Record<string, unknown>;
}

export const STATS_EVENT = 'playbook_on_stats';
const TASK_START_EVENTS = new Set(['playbook_on_task_start', 'playbook_on_handler_task_start']);

/** The object when `value` looks like an ansible-runner event, else null. */
export function asAnsibleEvent(value: unknown): RawAnsibleEvent | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  if (typeof record.event !== 'string' || typeof record.counter !== 'number' || !Number.isInteger(record.counter)) return null;
  return record as unknown as RawAnsibleEvent;
}

/** One line of a log: the event when the line is an ansible-runner JSON event, else null. */
export function parseEventLine(line: string): RawAnsibleEvent | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  try {
    return asAnsibleEvent(JSON.parse(trimmed));
  } catch {
    return null;
  }
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** The page form of an event: what it printed and where, without the module's full result. */
export function toRunnerEvent(raw: RawAnsibleEvent): RunnerEvent {
  const data = raw.event_data ?? {};
  const res = typeof data.res === 'object' && data.res !== null ? (data.res as Record<string, unknown>) : null;
  const changed = typeof res?.changed === 'boolean' ? res.changed : null;
  let failed: boolean | null = null;
  if (raw.event === 'runner_on_failed' || raw.event === 'runner_on_unreachable' || raw.event === 'runner_item_on_failed') failed = true;
  else if (typeof res?.failed === 'boolean') failed = res.failed;
  return {
    seq: raw.counter,
    type: raw.event,
    uuid: text(raw.uuid),
    created: text(raw.created),
    play: text(data.play),
    task: text(data.task),
    host: text(data.host),
    // ansible-runner reads Ansible through a terminal: its lines end in CRLF.
    stdout: (raw.stdout ?? '').replace(/\r\n/g, '\n'),
    changed,
    failed,
  };
}

const RECAP_FIELDS: Record<keyof HostRecap, string> = {
  ok: 'ok',
  changed: 'changed',
  unreachable: 'dark',
  failed: 'failures',
  skipped: 'skipped',
  rescued: 'rescued',
  ignored: 'ignored',
};

/** Per-host counts from a `playbook_on_stats` event's data (Ansible's `dark` is unreachable). */
export function recapFromStats(eventData: Record<string, unknown>): Record<string, HostRecap> {
  const table = (name: string): Record<string, number> => {
    const value = eventData[name];
    return typeof value === 'object' && value !== null ? (value as Record<string, number>) : {};
  };
  const hosts = new Set<string>();
  for (const name of ['processed', ...Object.values(RECAP_FIELDS)]) for (const host of Object.keys(table(name))) hosts.add(host);
  const recap: Record<string, HostRecap> = {};
  for (const host of [...hosts].sort()) {
    const counts = {} as HostRecap;
    for (const [field, source] of Object.entries(RECAP_FIELDS) as [keyof HostRecap, string][]) {
      const n = table(source)[host];
      counts[field] = typeof n === 'number' && Number.isFinite(n) ? n : 0;
    }
    recap[host] = counts;
  }
  return recap;
}

/**
 * The final status from how the execution ended. `ended`: what the process (or task) reported;
 * a zero exit without Ansible's stats event is `recap_missing`, never a success.
 */
export function finalStatus(ended: { exitCode: number | null; cancelled: boolean; timedOut: boolean }, hasStats: boolean): RunnerStatus {
  if (ended.cancelled) return 'cancelled';
  if (ended.timedOut) return 'timeout';
  if (ended.exitCode === 0) return hasStats ? 'successful' : 'recap_missing';
  return 'failed';
}

type YamlNode = Record<string, unknown>;
const isNode = (value: unknown): value is YamlNode => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Tasks a list runs at least once: a block counts its `block` and `always` tasks (its `rescue` may not run). */
function countTasks(list: unknown): number {
  if (!Array.isArray(list)) return 0;
  let n = 0;
  for (const item of list) {
    if (!isNode(item)) continue;
    if (Array.isArray(item.block)) n += countTasks(item.block) + countTasks(item.always);
    else n += 1;
  }
  return n;
}

/**
 * How many tasks the playbook starts, counted from its text: each play's gather-facts task (unless
 * switched off), pre_tasks, roles (one each: their tasks are not known here), tasks and post_tasks.
 * A lower bound; progress raises the total when more tasks start. 0 when the text does not parse.
 */
export function countPlaybookTasks(playbook: string): number {
  let plays: unknown;
  try {
    plays = parseYaml(playbook);
  } catch {
    return 0;
  }
  if (!Array.isArray(plays)) return 0;
  let n = 0;
  for (const play of plays) {
    if (!isNode(play)) continue;
    if (typeof play.import_playbook === 'string') continue;
    const gather = play.gather_facts ?? play.gather_subset;
    if (!(gather === false || gather === 'false' || gather === 'no' || gather === 'False')) n += 1;
    n +=
      countTasks(play.pre_tasks) +
      (Array.isArray(play.roles) ? play.roles.length : 0) +
      countTasks(play.tasks) +
      countTasks(play.post_tasks);
  }
  return n;
}

/** Progress of a run from its events, in order; O(1) memory whatever the number of events. */
export class ProgressTracker {
  private started = 0;
  private finished = false;
  private current: string | null = null;
  private count = 0;
  private stats: Record<string, unknown> | null = null;

  constructor(private readonly plannedTasks: number) {}

  observe(raw: RawAnsibleEvent): void {
    this.count = Math.max(this.count, raw.counter);
    if (TASK_START_EVENTS.has(raw.event)) {
      this.started += 1;
      this.current = text(raw.event_data?.task) ?? text(raw.event_data?.name) ?? '(unnamed task)';
    } else if (raw.event === STATS_EVENT) {
      this.finished = true;
      this.current = null;
      this.stats = raw.event_data ?? {};
    }
  }

  /** The stats event's data once it has been seen. */
  get statsData(): Record<string, unknown> | null {
    return this.stats;
  }

  progress(): AutomationProgress {
    const total = Math.max(this.plannedTasks, this.started);
    return {
      // A task is done once the next one starts, or the play recap arrives.
      tasksDone: this.finished ? this.started : Math.max(0, this.started - 1),
      tasksTotal: total,
      currentTask: this.current,
      events: this.count,
    };
  }
}

/** The last `maxBytes` (about: counted in UTF-16 units) of a text fed in pieces. */
export class LogTail {
  private parts: string[] = [];
  private length = 0;

  constructor(private readonly maxLength: number) {}

  push(piece: string): void {
    if (piece === '') return;
    this.parts.push(piece);
    this.length += piece.length;
    while (this.parts.length > 1 && this.length - this.parts[0]!.length >= this.maxLength) this.length -= this.parts.shift()!.length;
  }

  text(): string {
    const joined = this.parts.join('');
    return joined.length > this.maxLength ? joined.slice(joined.length - this.maxLength) : joined;
  }
}
