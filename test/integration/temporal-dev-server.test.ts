import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { DevServerStartError, startTemporalDevServer } from '../../launcher/temporal-dev-server.js';

// The launcher against the real Temporal CLI: a second dev server beside the test run's own.

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('Temporal dev server launcher', () => {
  it('starts from temporal-dev.yaml, registers the search attributes, stops cleanly and keeps runs across restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'infraai-launcher-'));
    dirs.push(dataDir);
    const [port, uiPort] = [await freePort(), await freePort()];
    const options = { configFile: 'temporal-dev.yaml', dataDir, port, uiPort, log: () => undefined };

    const first = await startTemporalDevServer(options);
    expect(first.address).toBe(`127.0.0.1:${port}`);
    expect(first.namespace).toBe('infraai');
    expect(first.uiUrl).toBe(`http://127.0.0.1:${uiPort}`);
    const ui = await fetch(first.uiUrl!);
    expect(ui.status).toBe(200);

    let connection = await Connection.connect({ address: first.address });
    const attributes = await connection.operatorService.listSearchAttributes({ namespace: 'infraai' });
    expect(Object.keys(attributes.customAttributes ?? {})).toEqual(expect.arrayContaining(['Tenant', 'IncidentStatus', 'TargetHost', 'Severity']));
    const namespace = await connection.workflowService.describeNamespace({ namespace: 'infraai' });
    expect(Number(namespace.config?.workflowExecutionRetentionTtl?.seconds)).toBe(7 * 24 * 3600);
    // No worker polls this queue, so the run stays open across the restart.
    const client = new Client({ connection, namespace: 'infraai' });
    await client.workflow.start('remediateIncident', { workflowId: 'launcher-persistence', taskQueue: 'nobody-polls', args: [] });
    await connection.close();

    await first.stop();
    expect(isAlive(first.pid)).toBe(false);
    await first.stop(); // idempotent

    const second = await startTemporalDevServer(options);
    try {
      connection = await Connection.connect({ address: second.address });
      const again = new Client({ connection, namespace: 'infraai' });
      const description = await again.workflow.getHandle('launcher-persistence').describe();
      expect(description.status.name).toBe('RUNNING');
      await again.workflow.getHandle('launcher-persistence').terminate('test done');
      await connection.close();
    } finally {
      await second.stop();
    }
    expect(isAlive(second.pid)).toBe(false);
  });

  it('refuses to start on a port that is already taken, naming the variable to change', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'infraai-launcher-'));
    dirs.push(dataDir);
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    try {
      const error = await startTemporalDevServer({ configFile: 'temporal-dev.yaml', dataDir, port, headless: true, log: () => undefined }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(DevServerStartError);
      expect((error as Error).message).toContain(`127.0.0.1:${port} is already in use`);
      expect((error as Error).message).toContain('TEMPORAL_DEV_PORT');
    } finally {
      blocker.close();
    }
  });
});
