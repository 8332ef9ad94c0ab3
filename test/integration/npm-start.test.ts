import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startStack } from '../../bench/lib.js';

// `npm start` as a user runs it (scripts/start.ts in its own process): banner, key printed once,
// the API answering, Ctrl-C stopping every process, data surviving a restart.

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function pidsOf(output: string): number[] {
  return [...output.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('brings the stack up, prints a key once, stops everything on SIGINT and keeps data across restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'infraai-start-'));
    dirs.push(dataDir);
    const env = {
      PORT: String(await freePort()),
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
      INFRAAI_DATA_DIR: dataDir,
    };
    const api = `http://127.0.0.1:${env.PORT}`;

    const first = await startStack(env);
    const banner = first.output();
    expect(banner).toContain(`API          ${api}`);
    expect(banner).toContain(`Web UI       http://127.0.0.1:${env.TEMPORAL_DEV_UI_PORT}/namespaces/infraai/workflows`);
    const key = /(iai_[A-Za-z0-9_-]{40,})/.exec(banner)?.[1];
    expect(key).toBeDefined();
    expect(await (await fetch(`${api}/health`)).json()).toMatchObject({ status: 'healthy' });
    const created = await fetch(`${api}/api/v1/cmdb`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tagId: 'kept-01', hostname: 'kept-01.example.internal', address: '10.1.1.1' }),
    });
    expect(created.status).toBe(201);
    const temporalPid = pidsOf(banner)[0];
    expect(temporalPid).toBeGreaterThan(0);

    first.child.kill('SIGINT');
    await new Promise((resolve) => (first.child.exitCode !== null ? resolve(null) : first.child.once('exit', resolve)));
    expect(first.child.exitCode).toBe(0);
    expect(alive(temporalPid!)).toBe(false);

    const second = await startStack(env);
    try {
      expect(second.output()).not.toMatch(/iai_[A-Za-z0-9_-]{40,}/);
      expect(second.output()).toContain('printed at the first start');
      const kept = await fetch(`${api}/api/v1/cmdb/kept-01`, { headers: { authorization: `Bearer ${key}` } });
      expect(kept.status).toBe(200);
    } finally {
      await second.stop();
    }
  }, 180_000); // two full cold starts (dev server, workflow bundle, migrations) on a busy 2-core machine
});
