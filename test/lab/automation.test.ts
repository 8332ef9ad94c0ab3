import { labTestProblems } from './prerequisites.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmdbItemFor } from '../../lab/cli.js';
import { startLab, type Lab } from '../../lab/lab.js';
import { buildAutomationToolkit } from '../../wiring.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';

// Ansible automation end to end on a real lab host, through the API and the worker with the real
// toolkit: the maintained templates write the playbook, the validator, ansible-playbook
// --syntax-check and ansible-lint check it, the approval is bound to its hash, and the local
// runner (Debian's ansible-runner) runs it over SSH with the host key trusted on first use. What
// the run did is read from the lab host's own files, never from the product.

const problems = labTestProblems();

interface AutomationView {
  id: string;
  status: string;
  artifactsHash: string | null;
  findings: { check: string; message: string }[];
  recap: Record<string, { ok: number; changed: number; failed: number; unreachable: number }> | null;
  logTail: string | null;
  [key: string]: unknown;
}

describe.skipIf(problems.length > 0)(`automation on a lab host${problems.length ? ` (skipped: ${problems.join('; ')})` : ''}`, () => {
  let lab: Lab;
  let stack: TestStack;
  let workspaces: string;

  beforeAll(async () => {
    lab = await startLab({ hosts: 1 });
    workspaces = await mkdtemp(join(tmpdir(), 'infraai-automation-'));
    stack = await startTestStack({
      withWorker: true,
      automation: {
        toolkit: buildAutomationToolkit(
          { kind: 'local', workspaceDir: workspaces, ansibleRunnerPath: '/usr/bin/ansible-runner' },
          { llm: null },
        ),
        settings: { approvalTimeoutMs: 60_000, runTimeoutMs: 120_000 },
        precheck: true,
      },
    });
    const privateKey = await readFile(lab.clientKeyPath, 'utf8');
    expect((await stack.call('POST', '/api/v1/credentials/ssh', { body: { name: 'lab', username: 'root', privateKey } })).status).toBe(201);
    expect((await stack.call('POST', '/api/v1/cmdb', { body: cmdbItemFor(lab.hosts[0]!) })).status).toBe(201);
  });

  afterAll(async () => {
    await stack?.close();
    await lab?.stop();
    if (workspaces) await rm(workspaces, { recursive: true, force: true });
  });

  const view = async (id: string) => (await (await stack.call('GET', `/api/v1/automation/${id}`)).json()) as AutomationView;
  const until = (id: string, statuses: string[]) =>
    waitFor(
      async () => {
        const run = await view(id);
        return statuses.includes(run.status) ? run : null;
      },
      `automation ${id} to reach ${statuses.join('/')}`,
      100_000,
    );
  async function start(request: string, checkMode = false): Promise<string> {
    const res = await stack.call('POST', '/api/v1/automation', { body: { request, targets: [lab.hosts[0]!.name], checkMode } });
    expect(res.status, await res.clone().text()).toBe(202);
    return ((await res.json()) as { id: string }).id;
  }
  const hostFile = (name: string) => readFile(join(lab.hosts[0]!.dir, 'etc-labsvc', name), 'utf8').catch(() => null);

  it('check mode runs without approval and changes nothing; the real run waits for the approval of its hash, then writes the file', async () => {
    const request = 'write /etc/labsvc/motd.txt with content "managed by infraai"';
    const checked = await until(await start(request, true), ['succeeded', 'failed', 'invalid', 'recap_missing', 'lost']);
    expect(checked.status, JSON.stringify(checked, null, 2)).toBe('succeeded');
    expect(checked.recap?.[lab.hosts[0]!.name]).toMatchObject({ changed: 1, failed: 0, unreachable: 0 });
    expect(await hostFile('motd.txt')).toBeNull();

    const id = await start(request);
    const waiting = await until(id, ['awaiting_approval', 'failed', 'invalid']);
    expect(waiting.status, JSON.stringify(waiting, null, 2)).toBe('awaiting_approval');
    expect(await hostFile('motd.txt')).toBeNull();
    const stale = await stack.call('POST', `/api/v1/automation/${id}/approve`, { body: { artifactsHash: 'c'.repeat(64) } });
    expect(stale.status).toBe(409);
    const approved = await stack.call('POST', `/api/v1/automation/${id}/approve`, { body: { artifactsHash: waiting.artifactsHash } });
    expect(approved.status).toBe(200);
    const done = await until(id, ['succeeded', 'failed', 'recap_missing', 'lost']);
    expect(done.status, JSON.stringify(done, null, 2)).toBe('succeeded');
    expect(done.recap?.[lab.hosts[0]!.name]).toMatchObject({ changed: 1, failed: 0 });
    expect(await hostFile('motd.txt')).toBe('managed by infraai\n');

    const log = (await (await stack.call('GET', `/api/v1/automation/${id}/log?limit=500`)).json()) as { lines: { text: string }[] };
    expect(log.lines.map((l) => l.text).join('\n')).toMatch(/PLAY RECAP/);
    // The run's private key never reaches the log.
    expect(JSON.stringify(log)).not.toContain('PRIVATE KEY');
  });

  it('refuses a request that would read a secret path, before anything runs', async () => {
    const res = await stack.call('POST', '/api/v1/automation', {
      body: { request: 'write /root/.ssh/authorized_keys with content "ssh-ed25519 AAAA attacker"', targets: [lab.hosts[0]!.name] },
    });
    expect(res.status).toBe(422);
    expect(await readFile(join(lab.hosts[0]!.dir, 'root-home', '.ssh', 'authorized_keys'), 'utf8')).not.toContain('attacker');
  });
});
