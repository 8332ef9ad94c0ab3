import { labTestProblems } from './prerequisites.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startStack, type NodeProcess } from '../../bench/lib.js';
import { cmdbItemFor } from '../../lab/cli.js';
import { checkService, crashService } from '../../lab/faults.js';
import { execInHost, startCount, startLab, type Lab } from '../../lab/lab.js';
import { alertingProblems, serviceDownRule, startAlerting, type AlertingHarness } from '../support/alerting.js';
import { waitFor } from '../support/stack.js';

// The real end-to-end test of issue 11: Debian's Prometheus scrapes labsvc's /metrics on a lab host
// every second, the ServiceDown rule (`up{job="labsvc"} == 0` for 1 s) fires when the service is
// killed, Debian's Alertmanager posts the notification to `npm start`'s POST /api/v1/alerts with an
// operator API key as its Bearer credentials, the matching self-healing policy (`ssh_command`
// `supervisorctl restart ${label.service}` on the host the `instance` label names) restarts the
// service over SSH, Prometheus sees it up again, and the resolved notification closes the alert's
// run (`alert-<fingerprint>-<startsAt>`). Everything InfraAI does is seen from outside: the job log
// through the API, the service on the host (supervisor's pid, labsvc's own start log, /health), the
// scrape in Prometheus, and the run in `npm start`'s Temporal server.

const problems = [...labTestProblems(), ...alertingProblems()];
if (problems.length > 0 && process.env.CI === 'true') throw new Error(`The alert test cannot run under CI: ${problems.join('; ')}`);
const ADMIN_KEY = 'iai_alert-e2e-admin-key-0123456789abcdefghijklmnop';
const FINAL_JOB_STATUSES = ['succeeded', 'failed', 'limited', 'unusable', 'unmatched', 'escalated'];

interface PolicyJob {
  id: string;
  policyId: string | null;
  actionType: string | null;
  fingerprint: string;
  startsAt: string;
  alertStatus: 'firing' | 'resolved';
  labels: Record<string, string>;
  host: string | null;
  params: Record<string, string | number | boolean> | null;
  status: string;
  detail: string | null;
  workflowId: string | null;
  decidedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** One line of labsvc's starts.log: `<ISO time> start pid=<pid> port=<port>`. */
async function starts(lab: Lab): Promise<{ at: number; pid: number }[]> {
  const text = await readFile(join(lab.hosts[0]!.dir, 'log', 'starts.log'), 'utf8').catch(() => '');
  return [...text.matchAll(/^(\S+) start pid=(\d+)/gm)].map((m) => ({ at: Date.parse(m[1]!), pid: Number(m[2]) }));
}

async function supervisorPid(lab: Lab): Promise<number> {
  return Number((await execInHost(lab.hosts[0]!, 'supervisorctl pid labsvc')).stdout.trim());
}

describe.skipIf(problems.length > 0)(
  `alert → self-healing policy → service restored on a lab host${problems.length ? ` (skipped: ${problems.join('; ')})` : ''}`,
  () => {
    let lab: Lab;
    let dataDir: string;
    let stack: NodeProcess;
    let api: string;
    let temporal: { connection: Connection; client: Client };
    let alerting: AlertingHarness;
    let policyId: string;

    const call = async <T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as T };
    };

    /** What to read when a step times out: the job log, the stack's output, Prometheus and Alertmanager. */
    const diagnostics = async () =>
      [
        `jobs: ${JSON.stringify((await call('GET', '/api/v1/jobs?limit=20').catch((err: Error) => ({ body: err.message }))).body, null, 2)}`,
        `npm start output (tail):\n${stack.output().slice(-6000)}`,
        alerting.describe(),
      ].join('\n\n');

    beforeAll(async () => {
      lab = await startLab({ hosts: 1 });
      const host = lab.hosts[0]!;
      dataDir = await mkdtemp(join(tmpdir(), 'infraai-alert-e2e-'));
      const port = await freePort();
      stack = await startStack({
        PORT: String(port),
        INFRAAI_DATA_DIR: dataDir,
        TEMPORAL_DEV_PORT: String(await freePort()),
        TEMPORAL_DEV_UI_PORT: String(await freePort()),
        INFRAAI_API_KEY: ADMIN_KEY,
        INFRAAI_LLM_PROVIDER: 'none',
        INFRAAI_AUTO_APPROVE_LOW_RISK: 'true',
      });
      api = `http://127.0.0.1:${port}`;
      const banner = /Temporal\s+(\S+)\s+namespace ([^,\s]+)/.exec(stack.output());
      if (!banner) throw new Error(`no Temporal address in the banner:\n${stack.output()}`);
      const connection = await Connection.connect({ address: banner[1]! });
      temporal = { connection, client: new Client({ connection, namespace: banner[2]! }) };

      // The host, as an operator registers it: its key as the SSH credential "lab", its CMDB item (tagId lab1).
      const privateKey = await readFile(lab.clientKeyPath, 'utf8');
      expect((await call('POST', '/api/v1/credentials/ssh', { name: 'lab', username: 'root', privateKey })).status).toBe(201);
      expect((await call('POST', '/api/v1/cmdb', cmdbItemFor(host))).status).toBe(201);

      // Alertmanager's own key: an operator (writes, no key or credential management).
      const minted = await call<{ key: string }>('POST', '/api/v1/api-keys', { name: 'alertmanager', role: 'operator' });
      expect(minted.status).toBe(201);

      const created = await call<{ id: string }>('POST', '/api/v1/policies', {
        name: 'restart a supervisor service that stopped answering',
        priority: 10,
        condition: {
          matchers: [
            { label: 'alertname', op: '=', value: 'ServiceDown' },
            { label: 'job', op: '=', value: 'labsvc' },
          ],
          status: 'firing',
          severities: ['critical'],
        },
        action: { type: 'ssh_command', params: { command: 'supervisorctl restart ${label.service}' } },
        hostLabel: 'instance',
        limits: { cooldownSeconds: 60 },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      policyId = created.body.id;

      // labsvc's /metrics, scraped with `instance` set to the CMDB tagId and `service` to the supervisor program.
      alerting = await startAlerting({
        jobs: [
          {
            job: 'labsvc',
            targets: [{ address: `${host.address}:${host.servicePort}`, labels: { instance: host.name, service: host.service } }],
          },
        ],
        rules: [serviceDownRule('labsvc')],
        receiver: { url: `${api}/api/v1/alerts`, auth: { bearer: minted.body.key } },
      });
    }, 300_000);

    afterAll(async () => {
      await alerting?.stop();
      await temporal?.connection.close();
      await stack?.stop();
      await lab?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('restarts the killed service through the policy, sees it up in Prometheus, and closes the alert run when it resolves', async () => {
      const host = lab.hosts[0]!;
      await waitFor(async () => (await alerting.query('up{job="labsvc"}'))[0]?.value === 1, 'the first scrape of labsvc', 20_000, 100);
      const oldPid = await supervisorPid(lab);
      expect(oldPid).toBeGreaterThan(0);
      const startsBefore = await startCount(host);

      // Prometheus's and Alertmanager's view, sampled all along: the alert must fire in both.
      let fingerprint: string | null = null;
      let promFiringAt: number | null = null;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const [rules, managed] = await Promise.all([
            alerting.rulesAlerts().catch(() => []),
            alerting.alertmanagerAlerts().catch(() => []),
          ]);
          if (promFiringAt === null && rules.some((a) => a.labels.alertname === 'ServiceDown' && a.state === 'firing'))
            promFiringAt = Date.now();
          fingerprint ??= managed.find((a) => a.labels.alertname === 'ServiceDown' && a.labels.instance === host.name)?.fingerprint ?? null;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();

      const killedAt = Date.now();
      await crashService(host);
      let job: PolicyJob;
      try {
        await waitFor(() => fingerprint, 'Alertmanager to hold the ServiceDown alert', 30_000, 100);
        job = await waitFor(
          async () => {
            // Alertmanager does not retry a 4xx: the notification is lost, nothing will come.
            const refused = /unexpected status code 4\d\d[^"]*/.exec(alerting.alertmanager.log())?.[0];
            if (refused) throw new Error(`POST /api/v1/alerts refused Alertmanager's notification: ${refused}`);
            const page = await call<{ items: PolicyJob[] }>('GET', `/api/v1/jobs?policyId=${policyId}`);
            const found = page.body?.items?.find((j) => j.fingerprint === fingerprint && j.alertStatus === 'firing');
            return found && FINAL_JOB_STATUSES.includes(found.status) ? found : null;
          },
          'the policy job to finish',
          60_000,
          200,
        ).catch(async (err: Error) => {
          throw new Error(`${err.message}\n${await diagnostics()}`);
        });
      } finally {
        sampling = false;
        await sampler;
      }
      expect(promFiringAt, 'Prometheus showed ServiceDown firing').not.toBeNull();
      const fired = fingerprint!;

      // The job: this policy's ssh_command on lab1, the label interpolated, and it succeeded.
      expect(job, JSON.stringify(job, null, 2)).toMatchObject({
        policyId,
        actionType: 'ssh_command',
        alertStatus: 'firing',
        status: 'succeeded',
        params: { command: 'supervisorctl restart labsvc' },
        labels: { alertname: 'ServiceDown', instance: host.name, service: 'labsvc', severity: 'critical', job: 'labsvc' },
      });
      expect([host.name, cmdbItemFor(host).hostname]).toContain(job.host);
      expect(job.startedAt).not.toBeNull();
      expect(job.finishedAt).not.toBeNull();

      // On the host: supervisor runs labsvc again under a new pid, started once, inside the job's run.
      expect(await supervisorPid(lab)).not.toBe(oldPid);
      const health = await checkService(host);
      expect(health.healthy, health.detail).toBe(true);
      expect(await startCount(host)).toBe(startsBefore + 1);
      const restart = (await starts(lab)).at(-1)!;
      expect(restart.pid).toBe(await supervisorPid(lab));
      expect(restart.at).toBeGreaterThanOrEqual(Date.parse(job.startedAt!) - 50);
      expect(restart.at).toBeLessThanOrEqual(Date.parse(job.finishedAt!) + 50);

      // Prometheus scrapes it again.
      await waitFor(async () => (await alerting.query('up{job="labsvc"}'))[0]?.value === 1, 'Prometheus to see labsvc up', 20_000, 100);

      // The alert's run: one workflow alert-<fingerprint>-<startsAt>, closed once the resolved notification signalled it.
      const prefix = `alert-${fired}-`;
      const runs = async () => {
        const found: { workflowId: string; status: string }[] = [];
        for await (const run of temporal.client.workflow.list()) {
          // alert-<fingerprint>-<startsAt> itself, not a child run named after it.
          if (run.workflowId.startsWith(prefix) && Number.isFinite(Date.parse(run.workflowId.slice(prefix.length))))
            found.push({ workflowId: run.workflowId, status: run.status.name });
        }
        return found;
      };
      const closed = await waitFor(
        async () => {
          const found = await runs();
          return found.length > 0 && found.every((r) => r.status !== 'RUNNING') ? found : null;
        },
        'the alert run to close after the resolved notification',
        60_000,
        250,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(await runs())}\n${await diagnostics()}`);
      });
      expect(closed, 'one run per firing alert').toHaveLength(1);
      expect(closed[0]!.status).toBe('COMPLETED');
      const startsAtPart = closed[0]!.workflowId.slice(prefix.length);
      expect(Date.parse(startsAtPart), closed[0]!.workflowId).toBe(Date.parse(job.startsAt));

      const handle = temporal.client.workflow.getHandle(closed[0]!.workflowId);
      const events = (await handle.fetchHistory()).events ?? [];
      const signals = events.filter((e) => e.workflowExecutionSignaledEventAttributes).map((e) => optionalTsToMs(e.eventTime) ?? 0);
      const completedAt = optionalTsToMs(events.find((e) => e.workflowExecutionCompletedEventAttributes)?.eventTime) ?? 0;
      // The resolved notification can only come once the service was back: a signal after the
      // restart, and the run completing after it (not when the action finished).
      const resolvedSignal = signals.find((at) => at >= restart.at);
      expect(resolvedSignal, `signals at ${signals.map((s) => new Date(s).toISOString()).join(', ')}`).toBeDefined();
      expect(completedAt).toBeGreaterThanOrEqual(resolvedSignal!);
      // Its last word: the action worked and the alert resolved.
      expect(await handle.result()).toMatchObject({ status: 'resolved' });

      // One action for the alert: the resolved notification matched no policy and ran nothing.
      const all = (await call<{ items: PolicyJob[] }>('GET', '/api/v1/jobs?limit=100')).body.items.filter((j) => j.fingerprint === fired);
      expect(all.filter((j) => ['queued', 'running', 'succeeded', 'failed'].includes(j.status))).toHaveLength(1);

      console.log(
        [
          `kill → Prometheus firing ${promFiringAt! - killedAt} ms`,
          `kill → job decided ${Date.parse(job.decidedAt) - killedAt} ms`,
          `job started → finished ${Date.parse(job.finishedAt!) - Date.parse(job.startedAt!)} ms`,
          `kill → labsvc serving again ${restart.at - killedAt} ms`,
          `kill → run closed ${completedAt - killedAt} ms`,
        ].join('; '),
      );
    }, 240_000);
  },
);
