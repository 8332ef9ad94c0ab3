import { labTestProblems } from './prerequisites.js';
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cmdbItemFor } from '../../lab/cli.js';
import { checkService, injectFault, resetHost } from '../../lab/faults.js';
import { startCount, startLab, type Lab, type LabHost } from '../../lab/lab.js';
import type { PolicyJob } from '../../adapters/store/port.js';
import { alertStateQuery, type AlertRunState } from '../../core/contracts/alerts.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';

// A self-healing policy end to end on a real lab host: labsvc is killed (the lab's service-crashed
// fault), an Alertmanager notification is posted to the API with a bearer API key, the matching
// policy's ssh_command restarts labsvc over SSH under the host's lease and its verify checks /health
// on the host, and the resolved notification closes the run. The lab's own checks (supervisor's
// status and GET /health over the veth, labsvc's start log), not the product, say what happened.
// Run the lab tier under `flock /tmp/infraai-lab.lock` when other sessions share the machine.

const problems = labTestProblems();

interface Delivery {
  started: number;
  joined: number;
  resolved: number;
  alerts: { workflowId: string; outcome: string }[];
}

describe.skipIf(problems.length > 0)(`self-healing on a lab host${problems.length ? ` (skipped: ${problems.join('; ')})` : ''}`, () => {
  let lab: Lab;
  let stack: TestStack;
  let key: string;

  beforeAll(async () => {
    lab = await startLab({ hosts: 1 });
    stack = await startTestStack({ withWorker: true, alerts: { settings: { resolveWaitMs: 120_000, verifyTimeoutMs: 20_000 } } });
    const privateKey = await readFile(lab.clientKeyPath, 'utf8');
    expect((await stack.call('POST', '/api/v1/credentials/ssh', { body: { name: 'lab', username: 'root', privateKey } })).status).toBe(201);
    expect((await stack.call('POST', '/api/v1/cmdb', { body: cmdbItemFor(lab.hosts[0]!) })).status).toBe(201);
    key = await stack.keyFor('acme', 'operator');
    const policy = await stack.call('POST', '/api/v1/policies', {
      key,
      body: {
        name: 'start labsvc when it is down',
        condition: { matchers: [{ label: 'alertname', op: '=', value: 'LabsvcDown' }], severities: ['critical'] },
        action: {
          type: 'ssh_command',
          params: {
            command: 'supervisorctl restart ${label.service}',
            verify: 'curl -sf http://127.0.0.1:8080/health',
          },
        },
        limits: { cooldownSeconds: 60 },
      },
    });
    expect(policy.status, await policy.clone().text()).toBe(201);
  });

  afterAll(async () => {
    await stack?.close();
    await lab?.stop();
  });

  afterEach(async () => {
    for (const host of lab?.hosts ?? []) await resetHost(host);
  });

  function notification(host: LabHost, status: 'firing' | 'resolved', alert: { fingerprint: string; startsAt: string }) {
    return {
      version: '4',
      groupKey: '{}:{alertname="LabsvcDown"}',
      truncatedAlerts: 0,
      status,
      receiver: 'infraai',
      groupLabels: { alertname: 'LabsvcDown' },
      commonLabels: { alertname: 'LabsvcDown' },
      commonAnnotations: {},
      externalURL: 'http://alertmanager.lab:9093',
      alerts: [
        {
          status,
          labels: {
            alertname: 'LabsvcDown',
            instance: `${host.address}:${host.servicePort}`,
            job: 'labsvc',
            service: 'labsvc',
            severity: 'critical',
          },
          annotations: { summary: `labsvc on ${host.name} is down` },
          startsAt: alert.startsAt,
          endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
          generatorURL: 'http://prometheus.lab:9090/graph',
          fingerprint: alert.fingerprint,
        },
      ],
    };
  }

  it('restarts the crashed service over SSH after an alert, verifies it, and closes the run on the resolved notification', async () => {
    const host = lab.hosts[0]!;
    await injectFault(host, 'service-crashed');
    expect((await checkService(host)).healthy).toBe(false);
    const startsBefore = await startCount(host);
    const alert = { fingerprint: randomUUID().replace(/-/g, '').slice(0, 16), startsAt: new Date().toISOString() };

    const posted = Date.now();
    const res = await stack.call('POST', '/api/v1/alerts', { key, body: notification(host, 'firing', alert) });
    expect(res.status, await res.clone().text()).toBe(200);
    const delivery = (await res.json()) as Delivery;
    expect(delivery).toMatchObject({ started: 1, joined: 0 });
    const workflowId = delivery.alerts[0]!.workflowId;
    const handle = stack.client.workflow.getHandle(workflowId);

    const acted = await waitFor(
      async () => {
        const state = await handle.query(alertStateQuery).catch(() => null);
        return state && ['awaiting_resolution', 'failed', 'limited', 'unusable', 'unmatched'].includes(state.status) ? state : null;
      },
      'the run to act',
      60_000,
    );
    const restoredMs = Date.now() - posted;
    expect(acted.status, JSON.stringify(acted, null, 2)).toBe('awaiting_resolution');
    // The lab's own view: supervisor runs labsvc again, /health answers over the veth, one more start.
    expect(await checkService(host)).toMatchObject({ healthy: true });
    expect(await startCount(host)).toBe(startsBefore + 1);
    expect(acted.commands.map((c) => [c.phase, c.command, c.exitCode])).toEqual(
      expect.arrayContaining([
        ['fix', 'supervisorctl restart labsvc', 0],
        ['verification', 'curl -sf http://127.0.0.1:8080/health', 0],
      ]),
    );
    const jobs = (await (await stack.call('GET', '/api/v1/jobs', { key })).json()) as { items: PolicyJob[] };
    expect(jobs.items[0]).toMatchObject({ status: 'succeeded', workflowId, host: `${host.address}:${host.servicePort}` });
    const steps = acted.steps.map((step) => `${step.name} +${Date.parse(step.finishedAt!) - posted}`).join(', ');
    console.log(`[lab] alert posted → labsvc restored and verified: ${restoredMs} ms (${steps})`);

    // The same alert again (Alertmanager's repeat) joins the run; a new firing within the cooldown is limited.
    expect(
      ((await (await stack.call('POST', '/api/v1/alerts', { key, body: notification(host, 'firing', alert) })).json()) as Delivery).joined,
    ).toBe(1);
    const again = { fingerprint: alert.fingerprint, startsAt: new Date().toISOString() };
    const second = (await (
      await stack.call('POST', '/api/v1/alerts', { key, body: notification(host, 'firing', again) })
    ).json()) as Delivery;
    expect(second.started).toBe(1);
    const limited = (await stack.client.workflow.getHandle(second.alerts[0]!.workflowId).result()) as AlertRunState;
    expect(limited.status).toBe('limited');
    expect(await startCount(host)).toBe(startsBefore + 1);

    const resolved = await stack.call('POST', '/api/v1/alerts', { key, body: notification(host, 'resolved', alert) });
    expect(((await resolved.json()) as Delivery).resolved).toBe(1);
    const state = (await handle.result()) as AlertRunState;
    expect(state.status).toBe('resolved');
    expect(state.resolvedAt).not.toBeNull();
  });
});
