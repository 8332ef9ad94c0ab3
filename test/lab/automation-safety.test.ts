import { labTestProblems } from './prerequisites.js';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cmdbItemFor } from '../../lab/cli.js';
import { FAULT_SPECS, injectFault, resetHost } from '../../lab/faults.js';
import { execInHost, startCount, startLab, type Lab } from '../../lab/lab.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { buildAutomationToolkit } from '../../wiring.js';
import { listenLocal, localUrl } from '../support/local-server.js';
import { createTestDatabase } from '../support/postgres.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';
import { testTemporal, testWorkflowBundlePath } from '../support/temporal.js';
import { startWorkerProcess } from '../support/worker-process.js';

// Automation runs on a real lab host through the API, with workers as processes of their own (so
// one can be SIGKILLed) running the real toolkit: validation, ansible-playbook --syntax-check,
// ansible-lint, and the local runner (Debian's ansible-runner over SSH). The maintained template
// writes a config file and restarts labsvc, a supervisor program (the CMDB item says so); the
// other playbooks come from a scripted model behind the OpenAI protocol, as automation-llm.test.ts
// does, because no template waits or counts. What a run did is read on the host: the marker lines
// its tasks append (stamped with the host's clock), labsvc's own start log, supervisor's pid, and
// this machine's /proc for the runner's processes; never from the product.

const problems = labTestProblems();
const secretsKey = randomBytes(32);
/** Where the scripted playbooks write their marker lines (the host's log filesystem, readable here). */
const MARKERS = '/var/log/labsvc/automation-markers.log';

interface AutomationView {
  id: string;
  status: string;
  workflowId: string;
  artifactsHash: string | null;
  findings: { check: string; message: string }[];
  recap: Record<string, { ok: number; changed: number; failed: number; unreachable: number }> | null;
  summary: string | null;
  steps: { name: string; status: string; startedAt: string | null; finishedAt: string | null }[];
  artifacts: { playbook: string } | null;
}

/**
 * The tasks of a scripted playbook: stamp and record `<tag> start <ns>` on the host, wait, stamp
 * and record `<tag> end <ns>`. Each line carries the host clock's nanoseconds, so every run adds
 * lines of its own (lineinfile adds a line that is not there yet): the lines count the runs.
 */
function markerTasks(tag: string, waitSeconds: number): string {
  const stamp = (when: 'start' | 'end') => [
    `- name: Read the host clock at the ${when}`,
    '  ansible.builtin.command: date +%s%N',
    `  register: stamp_${when}`,
    '  changed_when: false',
    `- name: Record the ${when} on the host`,
    '  ansible.builtin.lineinfile:',
    `    path: ${MARKERS}`,
    `    line: "${tag} ${when} {{ stamp_${when}.stdout }}"`,
    '    create: true',
    '    mode: "0644"',
  ];
  return [
    ...stamp('start'),
    `- name: Wait ${waitSeconds} seconds as a long task would`,
    '  ansible.builtin.wait_for:',
    `    timeout: ${waitSeconds}`,
    ...stamp('end'),
  ].join('\n');
}

/** Reads `[script:<tag>:<seconds>]` from the request inside <data> and answers with its marker tasks. */
function scriptedAnswer(body: string): string | null {
  const m = /\[script:([a-z0-9-]+):(\d+)\]/.exec(body);
  if (!m) return null;
  return JSON.stringify({
    summary: `Record start and end markers for ${m[1]} around a ${m[2]} second wait`,
    become: false,
    tasks: markerTasks(m[1]!, Number(m[2])),
    handlers: '',
    collections: [],
  });
}

describe.skipIf(problems.length > 0)(
  `automation safety on a lab host${problems.length ? ` (skipped: ${problems.join('; ')})` : ''}`,
  () => {
    let lab: Lab;
    let database: { url: string; drop(): Promise<void> };
    let store: Store;
    let stack: TestStack;
    let workspaces: string;
    let model: Server;
    let tenantId: string;
    const workers: ChildProcess[] = [];

    /** A worker process; with `llm`, the scripted model writes the playbooks, otherwise the templates do. */
    async function startWorker({ llm }: { llm: boolean }): Promise<ChildProcess> {
      const child = await startWorkerProcess({
        DATABASE_URL: database.url,
        TEMPORAL_ADDRESS: testTemporal().address,
        TEMPORAL_NAMESPACE: testTemporal().namespace,
        TEMPORAL_TASK_QUEUE: stack.taskQueue,
        INFRAAI_WORKFLOW_BUNDLE: testWorkflowBundlePath(),
        INFRAAI_SECRETS_KEY: secretsKey.toString('base64'),
        INFRAAI_ANSIBLE_RUNNER: 'local',
        INFRAAI_ANSIBLE_WORKSPACE_DIR: workspaces,
        ...(llm
          ? {
              INFRAAI_LLM_PROVIDER: 'openai-compatible',
              INFRAAI_LLM_BASE_URL: `${localUrl(model)}/v1`,
              INFRAAI_LLM_MODEL: 'test/automation',
              INFRAAI_LLM_API_KEY: 'sk-test-000000000000000000000000',
            }
          : { INFRAAI_LLM_PROVIDER: 'none' }),
      });
      workers.push(child);
      return child;
    }

    async function stopWorker(child: ChildProcess): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }

    beforeAll(async () => {
      model = createServer((req, res) => {
        let raw = '';
        req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
        req.on('end', () => {
          const content = scriptedAnswer(raw);
          if (!content) {
            // Only automation requests are scripted; anything else learns there is no model.
            res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not scripted' } }));
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              id: 'chatcmpl-1',
              object: 'chat.completion',
              created: 1,
              model: 'test/automation',
              choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
            }),
          );
        });
      });
      await listenLocal(model);
      lab = await startLab({ hosts: 1 });
      database = await createTestDatabase();
      store = await createStore({ kind: 'postgres', url: database.url });
      // Deep enough that ssh control sockets under a workspace would not fit a Unix socket path: the
      // runner must put them elsewhere (an installation's data directory is often deeper still).
      workspaces = await mkdtemp(join(tmpdir(), 'infraai-automation-safety-'));
      stack = await startTestStack({
        store,
        secretsKey,
        remediation: { approvalTimeoutMs: 60_000, autoApproveLowRisk: true },
        automation: {
          // The API's settings; the workers build their own toolkit from their environment.
          toolkit: buildAutomationToolkit(
            { kind: 'local', workspaceDir: workspaces, ansibleRunnerPath: '/usr/bin/ansible-runner' },
            { llm: null },
          ),
          settings: { approvalTimeoutMs: 60_000, runTimeoutMs: 120_000 },
        },
      });
      tenantId = (await store.tenants.ensure('acme')).id;
      const privateKey = await readFile(lab.clientKeyPath, 'utf8');
      expect((await stack.call('POST', '/api/v1/credentials/ssh', { body: { name: 'lab', username: 'root', privateKey } })).status).toBe(
        201,
      );
      expect((await stack.call('POST', '/api/v1/cmdb', { body: cmdbItemFor(lab.hosts[0]!) })).status).toBe(201);
    });

    afterAll(async () => {
      for (const child of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await stack?.close();
      await store?.close();
      await database?.drop();
      await lab?.stop();
      model?.close();
      if (workspaces) await rm(workspaces, { recursive: true, force: true });
    });

    afterEach(async () => {
      if (lab) await resetHost(lab.hosts[0]!);
    });

    const host = () => lab.hosts[0]!;
    const view = async (id: string) => (await (await stack.call('GET', `/api/v1/automation/${id}`)).json()) as AutomationView;
    const until = (id: string, statuses: string[], timeoutMs = 100_000) =>
      waitFor(
        async () => {
          const run = await view(id);
          return statuses.includes(run.status) ? run : null;
        },
        `automation ${id} to reach ${statuses.join('/')}`,
        timeoutMs,
      );

    async function start(request: string): Promise<{ id: string; workflowId: string }> {
      const res = await stack.call('POST', '/api/v1/automation', { body: { request, targets: [host().name] } });
      expect(res.status, await res.clone().text()).toBe(202);
      return (await res.json()) as { id: string; workflowId: string };
    }

    /** Starts a run and approves the hash it waits for. */
    async function startApproved(request: string): Promise<{ id: string; workflowId: string }> {
      const started = await start(request);
      const waiting = await until(started.id, ['awaiting_approval', 'failed', 'invalid', 'not_understood']);
      expect(waiting.status, JSON.stringify(waiting, null, 2)).toBe('awaiting_approval');
      const approved = await stack.call('POST', `/api/v1/automation/${started.id}/approve`, {
        body: { artifactsHash: waiting.artifactsHash },
      });
      expect(approved.status).toBe(200);
      return started;
    }

    /** The marker lines on the host: tag → start and end stamps (ns of the host clock), in file order. */
    async function markers(): Promise<Map<string, { start: bigint[]; end: bigint[] }>> {
      const text = await readFile(join(host().dir, 'log', 'automation-markers.log'), 'utf8').catch(() => '');
      const byTag = new Map<string, { start: bigint[]; end: bigint[] }>();
      for (const line of text.split('\n')) {
        const m = /^(\S+) (start|end) (\d+)$/.exec(line);
        if (!m) continue;
        const entry = byTag.get(m[1]!) ?? { start: [], end: [] };
        entry[m[2] as 'start' | 'end'].push(BigInt(m[3]!));
        byTag.set(m[1]!, entry);
      }
      return byTag;
    }
    const markerOf = async (tag: string) => (await markers()).get(tag) ?? { start: [], end: [] };
    const ms = (ns: bigint) => Number(ns / 1_000_000n);

    it('the maintained template writes labsvc.conf and restarts labsvc through supervisorctl (the CMDB item says supervisor)', async () => {
      const worker = await startWorker({ llm: false });
      try {
        const pidBefore = (await execInHost(host(), 'supervisorctl pid labsvc')).stdout.trim();
        expect(pidBefore).toMatch(/^[1-9]\d*$/);
        const starts = await startCount(host());
        const content = '# managed by infraai\\nport=8080\\nlog_level=debug';
        const { id } = await startApproved(`write /etc/labsvc/labsvc.conf with content "${content}" and restart labsvc`);
        const done = await until(id, ['succeeded', 'failed', 'recap_missing', 'lost']);
        expect(done.status, JSON.stringify(done, null, 2)).toBe('succeeded');
        expect(done.recap?.[host().name]).toMatchObject({ changed: 2, failed: 0, unreachable: 0 });
        expect(done.artifacts?.playbook).toContain('community.general.supervisorctl');

        // On the host: the new file, a new labsvc process (supervisor's pid), one more start, and that
        // start read the new file (labsvc logs its log level when it starts).
        expect(await readFile(join(host().dir, 'etc-labsvc', 'labsvc.conf'), 'utf8')).toBe(
          '# managed by infraai\nport=8080\nlog_level=debug\n',
        );
        const status = (await execInHost(host(), 'supervisorctl status labsvc')).stdout;
        expect(status).toMatch(/^labsvc\s+RUNNING/);
        const pidAfter = (await execInHost(host(), 'supervisorctl pid labsvc')).stdout.trim();
        expect(pidAfter).toMatch(/^[1-9]\d*$/);
        expect(pidAfter).not.toBe(pidBefore);
        expect(await startCount(host())).toBe(starts + 1);
        const appLog = await readFile(join(host().dir, 'log', 'app.log'), 'utf8');
        expect(appLog).toContain(`starting labsvc pid=${pidAfter} config=/etc/labsvc/labsvc.conf port=8080 log_level=debug`);
      } finally {
        await stopWorker(worker);
      }
    });

    describe('with the scripted model', () => {
      let worker: ChildProcess;

      beforeAll(async () => {
        worker = await startWorker({ llm: true });
      });

      /** Processes of one run's execution on this machine, found as the local runner marks them. */
      function executionProcesses(runKey: string): { pid: number; pgid: number; cmdline: string }[] {
        const markerValue = createHash('sha256').update(`execution:${runKey}`).digest('hex').slice(0, 32);
        const marker = `INFRAAI_ANSIBLE_EXECUTION=${markerValue}`;
        // The workspace, and the short directory its ssh control sockets move to when cp/ is too deep.
        const places = [
          join(workspaces, createHash('sha256').update(runKey).digest('hex').slice(0, 40)),
          join(tmpdir(), 'infraai-ssh', markerValue.slice(0, 24)),
        ];
        const found: { pid: number; pgid: number; cmdline: string }[] = [];
        for (const entry of readdirSync('/proc')) {
          if (!/^\d+$/.test(entry)) continue;
          try {
            const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1').replace(/\0/g, ' ');
            const environ = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
            if (!environ.includes(marker) && !places.some((place) => cmdline.includes(`${place}/`))) continue;
            const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
            found.push({ pid: Number(entry), pgid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]), cmdline });
          } catch {
            // gone meanwhile
          }
        }
        return found;
      }

      /**
       * Live processes in the given process groups. A zombie has exited (no code of it runs): it
       * waits only for its parent, PID 1 once orphaned, to collect its exit status, which this
       * machine's PID 1 does late.
       */
      function processesInGroups(groups: Set<number>): number[] {
        const found: number[] = [];
        for (const entry of readdirSync('/proc')) {
          if (!/^\d+$/.test(entry)) continue;
          try {
            const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
            const [state, , , pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
            if (state !== 'Z' && groups.has(Number(pgid))) found.push(Number(entry));
          } catch {
            // gone meanwhile
          }
        }
        return found;
      }

      it('cancel mid-run: the run ends cancelled, every runner process is gone, the lease is released, the rest never ran', async () => {
        const tag = `cancel-${Date.now()}`;
        const { id, workflowId } = await startApproved(`record markers on the host [script:${tag}:30]`);
        // Mid-run: the start is recorded on the host and the playbook waits.
        await waitFor(async () => (await markerOf(tag)).start.length === 1, 'the start marker on the host', 90_000);
        expect((await view(id)).status).toBe('running');
        expect(await store.leases.list(tenantId)).toEqual([expect.objectContaining({ host: host().address, holder: workflowId })]);
        const running = executionProcesses(workflowId);
        expect(running.map((p) => p.cmdline).join('\n')).toMatch(/ansible-playbook/);
        expect(running.map((p) => p.cmdline).join('\n')).toMatch(/\bssh\b/);
        const groups = new Set(running.map((p) => p.pgid));

        const cancelled = await stack.call('POST', `/api/v1/automation/${id}/cancel`);
        expect(cancelled.status).toBe(202);
        const done = await until(id, ['cancelled', 'succeeded', 'failed', 'lost'], 60_000);
        expect(done.status, JSON.stringify(done, null, 2)).toBe('cancelled');
        expect(done.summary).toMatch(/running playbook was stopped/);

        expect(executionProcesses(workflowId)).toEqual([]);
        const left = processesInGroups(groups).map((pid) => {
          try {
            return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ')} | ${readFileSync(`/proc/${pid}/stat`, 'utf8')}`;
          } catch {
            return `${pid}: gone`;
          }
        });
        expect(left, JSON.stringify({ running, left }, null, 2)).toEqual([]);
        expect(await store.leases.list(tenantId)).toEqual([]);
        // Nothing left on this machine could run the remaining tasks; give a straggler time to show.
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        expect(await markerOf(tag)).toEqual({ start: [expect.any(BigInt)], end: [] });
      });

      it('worker SIGKILLed mid-run: a new worker completes the run with its recap, and the playbook ran once', async () => {
        const tag = `crash-${Date.now()}`;
        const { id, workflowId } = await startApproved(`record markers on the host [script:${tag}:10]`);
        await waitFor(async () => (await markerOf(tag)).start.length === 1, 'the start marker on the host', 90_000);
        await stopWorker(worker);
        worker = await startWorker({ llm: true });

        const done = await until(id, ['succeeded', 'failed', 'recap_missing', 'lost', 'cancelled'], 110_000);
        expect(done.status, JSON.stringify(done, null, 2)).toBe('succeeded');
        expect(done.recap?.[host().name]).toMatchObject({ failed: 0, unreachable: 0, changed: 2 });
        const handle = stack.client.workflow.getHandle(workflowId);
        const state = await handle.query<{ outcome: { runnerStatus: string; reattached: boolean } | null }>('automationState');
        expect(state.outcome).toMatchObject({ runnerStatus: 'successful', reattached: true });
        const run = await markerOf(tag);
        expect(run.start).toHaveLength(1);
        expect(run.end).toHaveLength(1);
        const log = (await (await stack.call('GET', `/api/v1/automation/${id}/log?limit=500`)).json()) as { lines: { text: string }[] };
        expect(log.lines.map((l) => l.text).join('\n')).toMatch(/PLAY RECAP[\s\S]*lab1\s+: ok=\d+\s+changed=2\s+unreachable=0\s+failed=0/);

        // The history shows the run step's first attempt lost with the worker and a later one re-attaching.
        const events = (await handle.fetchHistory()).events ?? [];
        const retried = events.flatMap((e) => {
          const attempt = e.activityTaskStartedEventAttributes?.attempt ?? 1;
          if (attempt <= 1) return [];
          const scheduled = events.find((s) => String(s.eventId) === String(e.activityTaskStartedEventAttributes!.scheduledEventId));
          return [scheduled?.activityTaskScheduledEventAttributes?.activityType?.name];
        });
        expect(retried).toContain('runPlaybook');
      });

      it('two approved runs on one host never overlap on it', async () => {
        const tags = [`first-${Date.now()}`, `second-${Date.now()}`];
        const runs = await Promise.all(tags.map((tag) => startApproved(`record markers on the host [script:${tag}:6]`)));
        const done = await Promise.all(runs.map((r) => until(r.id, ['succeeded', 'failed', 'recap_missing', 'lost'])));
        for (const run of done) expect(run.status, JSON.stringify(run, null, 2)).toBe('succeeded');
        const intervals = await Promise.all(tags.map(markerOf));
        for (const interval of intervals) {
          expect(interval.start).toHaveLength(1);
          expect(interval.end).toHaveLength(1);
        }
        const [a, b] = [...intervals].sort((x, y) => (x.start[0]! < y.start[0]! ? -1 : 1));
        // The later run started on the host only after the earlier one ended there.
        expect(
          b!.start[0]! > a!.end[0]!,
          `${tags.join(', ')}: ${JSON.stringify(intervals, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
        ).toBe(true);
      });

      it('an incident remediation on a host an automation run holds waits: the fix lands after the run released the lease', async () => {
        await injectFault(host(), 'service-crashed');
        const starts = await startCount(host());
        const tag = `hold-${Date.now()}`;
        const automation = await startApproved(`record markers on the host [script:${tag}:12]`);
        await waitFor(async () => (await markerOf(tag)).start.length === 1, 'the start marker on the host', 90_000);

        const raised = await stack.call('POST', '/api/v1/incidents', {
          body: {
            title: 'labsvc is down on lab1',
            description: 'health check failing: connection refused on :8080',
            severity: 'high',
            tagId: 'lab1',
          },
        });
        expect(raised.status).toBe(201);
        const incidentId = ((await raised.json()) as { id: string }).id;
        const raisedAt = Date.now();

        const run = await until(automation.id, ['succeeded', 'failed', 'recap_missing', 'lost']);
        expect(run.status, JSON.stringify(run, null, 2)).toBe('succeeded');
        const incident = await waitFor(
          async () => {
            const view = (await (await stack.call('GET', `/api/v1/incidents/${incidentId}`)).json()) as { status: string };
            return ['resolved', 'escalated', 'failed'].includes(view.status) ? view : null;
          },
          'the incident to finish',
          110_000,
        );
        expect(incident.status, JSON.stringify(incident, null, 2)).toBe('resolved');
        expect((await FAULT_SPECS['service-crashed'].check(host())).healthy).toBe(true);
        expect(await startCount(host())).toBe(starts + 1);

        // The incident was raised while the run held the host, and labsvc's start (the fix) came after
        // the run's last task on the host and after its lease release began.
        const held = await markerOf(tag);
        expect(raisedAt).toBeLessThan(ms(held.end[0]!));
        const startLines = (await readFile(join(host().dir, 'log', 'starts.log'), 'utf8')).trim().split('\n');
        const fixedAt = Date.parse(startLines.at(-1)!.split(' ')[0]!);
        // The run's result is written before its hosts are released: wait for the release step.
        const release = await waitFor(
          async () => (await view(automation.id)).steps.find((s) => s.name === 'releaseAutomationLeases' && s.finishedAt),
          'the lease release step',
          30_000,
        );
        expect(fixedAt).toBeGreaterThan(ms(held.end[0]!));
        expect(fixedAt).toBeGreaterThanOrEqual(Date.parse(release.startedAt!));
      });
    });
  },
);
