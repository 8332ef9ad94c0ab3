import { labTestProblems } from './prerequisites.js';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmdbItemFor } from '../../lab/cli.js';
import { checkHost, injectFault, resetHost } from '../../lab/faults.js';
import { startLab, type Lab } from '../../lab/lab.js';
import { startTestStack, type TestStack } from '../support/stack.js';

// POST /api/v1/diagnose with a CMDB item: read-only host facts over SSH from a real lab host (its
// credential registered through the API), analysed by the runbook's rules; host keys trusted on
// first use, and a changed key stops collection with a clear note.

const problems = labTestProblems();

type Diagnosis = {
  category: string;
  rootCause: string;
  fixCommands: { command: string | null; risk: string }[];
  findings?: { finding: string; evidence: string }[];
  facts: {
    host?: {
      hostKeyFingerprint: string;
      runbookId: string | null;
      commands: { id: string; command: string; exitCode: number | null; output: string }[];
    } | null;
    notes: string[];
  } | null;
};

describe.skipIf(problems.length > 0)(
  `diagnosis with host facts over SSH${problems.length ? ` (skipped: ${problems.join('; ')})` : ''}`,
  () => {
    let lab: Lab;
    let stack: TestStack;

    beforeAll(async () => {
      lab = await startLab({ hosts: 1 });
      stack = await startTestStack({ withWorker: true });
      const created = await stack.call('POST', '/api/v1/credentials/ssh', {
        body: { name: 'lab', username: 'root', privateKey: await readFile(lab.clientKeyPath, 'utf8') },
      });
      expect(created.status).toBe(201);
      expect((await stack.call('POST', '/api/v1/cmdb', { body: cmdbItemFor(lab.hosts[0]!) })).status).toBe(201);
    });

    afterAll(async () => {
      await stack?.close();
      await lab?.stop();
    });

    const diagnose = async (errorMessage: string) => {
      const res = await stack.call('POST', '/api/v1/diagnose', { body: { errorMessage, tagId: 'lab1' } });
      expect(res.status).toBe(200);
      return (await res.json()) as Diagnosis;
    };

    it('collects read-only facts from the host and lets the runbook rules pick root cause and fix', async () => {
      const host = lab.hosts[0]!;
      await injectFault(host, 'disk-full');
      try {
        const result = await diagnose('labsvc on lab1: write failed, No space left on device');
        expect(result.category).toBe('disk-full');
        expect(result.facts?.host?.runbookId).toBe('disk-full');
        expect(result.facts?.host?.hostKeyFingerprint).toBe(host.hostKeyFingerprint);
        const df = result.facts?.host?.commands.find((c) => c.id === 'filesystem-usage');
        expect(df).toMatchObject({ command: 'df -P /var/lib/labsvc', exitCode: 0 });
        expect(df?.output).toMatch(/\/var\/lib\/labsvc/);
        expect(result.facts?.host?.commands.some((c) => c.id === 'baseline-uptime' && c.exitCode === 0)).toBe(true);
        expect(result.findings?.map((f) => f.finding)).toEqual(['filesystem-full', 'disposable-files']);
        expect(result.rootCause).toMatch(/no free space/);
        expect(result.fixCommands.map((f) => f.command)).toEqual([expect.stringMatching(/^find \/var\/lib\/labsvc -xdev .* -delete$/)]);
        // Only reads ran: the disk is still full.
        expect((await checkHost(host)).healthy).toBe(false);
      } finally {
        await resetHost(host);
      }

      const keys = (await (await stack.call('GET', '/api/v1/credentials/host-keys')).json()) as {
        items: { host: string; fingerprint: string }[];
      };
      expect(keys.items).toEqual([expect.objectContaining({ host: host.address, fingerprint: host.hostKeyFingerprint })]);
    });

    it('stops collecting when the host presents a different key than the one trusted, and says so', async () => {
      const host = lab.hosts[0]!;
      const tenant = (await stack.store.tenants.getBySlug('acme'))!;
      await stack.store.hostKeys.forget(tenant.id, host.address, 22);
      await stack.store.hostKeys.trustOnFirstUse({
        tenantId: tenant.id,
        host: host.address,
        port: 22,
        keyType: 'ssh-ed25519',
        fingerprint: 'SHA256:not-the-lab-key',
      });
      const result = await diagnose('labsvc on lab1 is down: connection refused');
      expect(result.facts?.host ?? null).toBeNull();
      expect(result.facts?.notes.join('\n')).toMatch(
        /Host key of 10\.77\.1\.2:22 changed: expected SHA256:not-the-lab-key, the host presented SHA256:/,
      );
      // Forgetting the key (after checking the change) lets the next diagnosis trust the host again.
      expect((await stack.call('DELETE', `/api/v1/credentials/host-keys/${host.address}?port=22`)).status).toBe(204);
      const again = await diagnose('labsvc on lab1 is down: connection refused');
      expect(again.facts?.host?.hostKeyFingerprint).toBe(host.hostKeyFingerprint);
    });
  },
);
