import { labTestProblems } from './prerequisites.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmdbItemFor } from '../../lab/cli.js';
import { FAULT_SPECS, injectFault } from '../../lab/faults.js';
import { startLab, type Lab } from '../../lab/lab.js';
import { freePort } from '../../launcher/ports.js';
import { startTemporalDevServer, type DevServerHandle, type StartDevServerOptions } from '../../launcher/temporal-dev-server.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';

// The Temporal dev server (SQLite file in the data directory) is stopped and started again while a
// remediation waits for approval on its durable timer: the run is still there, takes the approval,
// and fixes the host.

const problems = labTestProblems();

describe.skipIf(problems.length > 0)(
  `Temporal server restart mid-run${problems.length ? ` (skipped: ${problems.join('; ')})` : ''}`,
  () => {
    let lab: Lab;
    let dataDir: string;
    let options: StartDevServerOptions;
    let server: DevServerHandle;
    let stack: TestStack;

    beforeAll(async () => {
      lab = await startLab({ hosts: 1 });
      dataDir = await mkdtemp(join(tmpdir(), 'infraai-restart-'));
      options = { configFile: 'temporal-dev.yaml', dataDir, port: await freePort(), headless: true, installCli: false };
      server = await startTemporalDevServer(options);
      stack = await startTestStack({
        withWorker: true,
        temporal: { address: server.address, namespace: server.namespace },
        remediation: { approvalTimeoutMs: 300_000, autoApproveLowRisk: true },
      });
      expect(
        (
          await stack.call('POST', '/api/v1/credentials/ssh', {
            body: { name: 'lab', username: 'root', privateKey: await readFile(lab.clientKeyPath, 'utf8') },
          })
        ).status,
      ).toBe(201);
      expect((await stack.call('POST', '/api/v1/cmdb', { body: cmdbItemFor(lab.hosts[0]!) })).status).toBe(201);
    });

    afterAll(async () => {
      await stack?.close();
      await server?.stop();
      await lab?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('keeps the waiting run across a server restart and completes it after approval', async () => {
      const host = lab.hosts[0]!;
      await injectFault(host, 'bad-config');
      const created = await stack.call('POST', '/api/v1/incidents', {
        body: {
          title: 'labsvc fails after config change on lab1',
          description: 'parse error in labsvc.conf',
          severity: 'high',
          tagId: 'lab1',
        },
      });
      const { id } = (await created.json()) as { id: string };
      const waiting = await waitFor(
        async () => {
          const incident = (await (await stack.call('GET', `/api/v1/incidents/${id}`)).json()) as {
            status: string;
            approval: { planHash: string } | null;
          };
          return incident.status === 'awaiting_approval' ? incident : null;
        },
        'the approval request',
        60_000,
      );

      const firstPid = server.pid;
      await server.stop();
      // While the server is down the API still answers in full, from the run's projection in the store...
      const during = (await (await stack.call('GET', `/api/v1/incidents/${id}`)).json()) as {
        status: string;
        source: string;
        workflowError: string | null;
      };
      expect(during).toMatchObject({ status: 'awaiting_approval', readFrom: 'projection', workflowError: null });
      // ...and the live read says why Temporal's part is missing.
      const live = (await (await stack.call('GET', `/api/v1/incidents/${id}?consistency=live`)).json()) as { workflowError: string | null };
      expect(live.workflowError).not.toBeNull();
      server = await startTemporalDevServer(options);
      expect(server.pid).not.toBe(firstPid);

      // Clients and the worker reconnect on their own; the approval lands once they have.
      const approved = await waitFor(
        async () => {
          const res = await stack.call('POST', `/api/v1/incidents/${id}/approve`, { body: { planHash: waiting.approval!.planHash } });
          return res.status === 200 ? res : null;
        },
        'the approval to reach the restarted server',
        60_000,
        500,
      );
      expect(approved.status).toBe(200);
      const done = await waitFor(
        async () => {
          const incident = (await (await stack.call('GET', `/api/v1/incidents/${id}`)).json()) as { status: string };
          return ['resolved', 'escalated', 'failed'].includes(incident.status) ? incident : null;
        },
        'the run to finish',
        120_000,
      );
      expect(done.status).toBe('resolved');
      expect((await FAULT_SPECS['bad-config'].check(host)).healthy).toBe(true);
    });
  },
);
