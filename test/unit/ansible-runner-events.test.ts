import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkKeys, playbookOptions } from '../../adapters/ansible-runner/command.js';
import { clientTokenFor, startedByFor } from '../../adapters/ansible-runner/ecs.js';
import {
  LogTail,
  ProgressTracker,
  countPlaybookTasks,
  finalStatus,
  parseEventLine,
  recapFromStats,
  toRunnerEvent,
  type RawAnsibleEvent,
} from '../../adapters/ansible-runner/events.js';
import { RunnerInputError } from '../../adapters/ansible-runner/port.js';

// Ansible's events as ansible-runner 2.3.1 recorded them (`ansible-runner run -j`, Debian bookworm):
// progress, the recap from the stats event and the final status, over the recorded lines.

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'ansible-runner');
const recorded = (name: string): RawAnsibleEvent[] =>
  readFileSync(join(FIXTURES, name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const event = parseEventLine(line);
      if (!event) throw new Error(`not an event line in ${name}: ${line.slice(0, 80)}`);
      return event;
    });

function replay(events: RawAnsibleEvent[], planned: number) {
  const tracker = new ProgressTracker(planned);
  const reports = events.map((event) => {
    tracker.observe(event);
    return tracker.progress();
  });
  return { tracker, reports };
}

describe('events of a successful run with a diff', () => {
  const events = recorded('successful-with-diff.jsonl');

  it('reports progress task by task, done when the stats event arrives', () => {
    const { tracker, reports } = replay(events, 2);
    const taskStarts = reports.filter((_, i) => events[i]!.event === 'playbook_on_task_start');
    expect(taskStarts.map((p) => [p.currentTask, p.tasksDone])).toEqual([
      ['write file', 0],
      ['say', 1],
    ]);
    expect(tracker.progress()).toEqual({ tasksDone: 2, tasksTotal: 2, currentTask: null, events: 10 });
  });

  it('takes the recap from the stats event', () => {
    const { tracker } = replay(events, 2);
    expect(recapFromStats(tracker.statsData!)).toEqual({
      h1: { ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
    });
    expect(finalStatus({ exitCode: 0, cancelled: false, timedOut: false }, true)).toBe('successful');
  });

  it('pages events with what they printed, the diff included, in plain newlines', () => {
    const pages = events.map(toRunnerEvent);
    expect(pages.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const diff = pages.find((e) => e.type === 'runner_on_file_diff')!;
    expect(diff).toMatchObject({ task: 'write file', host: 'h1', play: 'all' });
    expect(diff.stdout).toContain('+hello');
    expect(diff.stdout).not.toContain('\r');
    expect(pages.find((e) => e.type === 'runner_on_ok' && e.task === 'write file')).toMatchObject({ changed: true });
  });

  it('is recap_missing, never successful, when Ansible exited 0 without a stats event', () => {
    const { tracker } = replay(
      events.filter((e) => e.event !== 'playbook_on_stats'),
      2,
    );
    expect(tracker.statsData).toBeNull();
    expect(finalStatus({ exitCode: 0, cancelled: false, timedOut: false }, tracker.statsData !== null)).toBe('recap_missing');
    // The last task never counts as done without the recap.
    expect(tracker.progress().tasksDone).toBe(1);
  });
});

describe('events of a run with an unreachable host and an ignored failure', () => {
  const events = recorded('unreachable-and-ignored.jsonl');

  it('counts unreachable (Ansible’s dark) and ignored per host from the stats event', () => {
    const { tracker } = replay(events, 2);
    expect(recapFromStats(tracker.statsData!)).toEqual({
      ghost: { ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
      h1: { ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 1 },
    });
    expect(finalStatus({ exitCode: 4, cancelled: false, timedOut: false }, true)).toBe('failed');
  });

  it('marks unreachable and failed events as failed', () => {
    const pages = events.map(toRunnerEvent);
    expect(pages.filter((e) => e.failed === true).map((e) => [e.type, e.host])).toEqual([
      ['runner_on_unreachable', 'ghost'],
      ['runner_on_failed', 'h1'],
    ]);
  });
});

describe('final status', () => {
  it('puts a cancel or a timeout before any exit code', () => {
    expect(finalStatus({ exitCode: 0, cancelled: true, timedOut: false }, true)).toBe('cancelled');
    expect(finalStatus({ exitCode: null, cancelled: false, timedOut: true }, false)).toBe('timeout');
    expect(finalStatus({ exitCode: null, cancelled: false, timedOut: false }, false)).toBe('failed');
  });
});

describe('task count from the playbook text', () => {
  it('counts gather-facts, pre/post tasks, roles and block tasks, not rescue', () => {
    const playbook = `
- hosts: web
  pre_tasks: [{ name: a, ping: }]
  roles: [nginx]
  tasks:
    - name: b
      ping:
    - block:
        - { name: c, ping: }
        - { name: d, ping: }
      rescue:
        - { name: never counted, ping: }
      always:
        - { name: e, ping: }
  post_tasks: [{ name: f, ping: }]
- hosts: db
  gather_facts: false
  tasks: [{ name: g, ping: }]
`;
    // web: facts + a + nginx + b + c + d + e + f = 8; db: g = 1.
    expect(countPlaybookTasks(playbook)).toBe(9);
    expect(countPlaybookTasks('{ not: [yaml')).toBe(0);
  });

  it('raises the total when more tasks start than the text showed (roles, includes)', () => {
    const tracker = new ProgressTracker(1);
    for (let counter = 1; counter <= 3; counter += 1)
      tracker.observe({ counter, event: 'playbook_on_task_start', event_data: { task: `t${counter}` } });
    expect(tracker.progress()).toMatchObject({ tasksTotal: 3, tasksDone: 2, currentTask: 't3' });
  });
});

describe('a 10,000-event run', () => {
  it('keeps progress and the log tail in bounded memory', () => {
    const tracker = new ProgressTracker(5000);
    const tail = new LogTail(1024);
    for (let counter = 1; counter <= 10_000; counter += 1) {
      const event = counter % 2 ? 'playbook_on_task_start' : 'runner_on_ok';
      tracker.observe({ counter, event, event_data: { task: `task ${Math.ceil(counter / 2)}` }, stdout: `line ${counter}` });
      tail.push(`line ${counter}\n`);
    }
    expect(tracker.progress()).toEqual({ tasksDone: 4999, tasksTotal: 5000, currentTask: 'task 5000', events: 10_000 });
    expect(tail.text().length).toBeLessThanOrEqual(1024);
    expect(tail.text().endsWith('line 10000\n')).toBe(true);
  });
});

describe('command options passed to ansible-playbook', () => {
  it('keeps narrowing options, drops what the runner supplies, sets check mode from the run', () => {
    expect(
      playbookOptions(
        ['-i', 'inventory.yml', 'playbook.yml', '--extra-vars', '@vars.json', '--check', '--diff', '--limit', 'web-01'],
        false,
      ),
    ).toEqual(['--diff', '--limit=web-01']);
    expect(playbookOptions(['-i', 'inventory.yml', 'playbook.yml'], true)).toEqual(['--check', '--diff']);
  });

  it('refuses an option that could change what runs', () => {
    expect(() => playbookOptions(['playbook.yml', '--module-path', '/tmp/evil'], false)).toThrow(RunnerInputError);
    expect(() => playbookOptions(['playbook.yml', '--become-password-file', '/etc/shadow'], false)).toThrow(RunnerInputError);
  });
});

describe('keys for the inventory', () => {
  it('needs a key for every credential a host names, under a name that can be a file', () => {
    const hosts = [{ tagId: 'web-01', credential: 'deploy' }];
    expect(() => checkKeys(hosts, { deploy: 'PEM' })).not.toThrow();
    expect(() => checkKeys(hosts, {})).toThrow(/credential 'deploy' of host 'web-01'/);
    expect(() => checkKeys([], { '../etc/passwd': 'PEM' })).toThrow(RunnerInputError);
  });
});

describe('ECS identity of a run', () => {
  it('fits startedBy in 36 characters and the client token in 64, stable per run key', () => {
    const runKey = `automation-${'x'.repeat(200)}`;
    expect(startedByFor(runKey)).toHaveLength(36);
    expect(startedByFor(runKey)).toBe(startedByFor(runKey));
    expect(startedByFor(runKey)).not.toBe(startedByFor(`${runKey}-2`));
    expect(clientTokenFor(runKey)).toMatch(/^[0-9a-f]{64}$/);
  });
});
