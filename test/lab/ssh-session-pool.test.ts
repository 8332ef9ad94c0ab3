import { labTestProblems } from './prerequisites.js';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EncryptedCredentialVault } from '../../adapters/secrets/encrypted-vault.js';
import { createHostAccess } from '../../adapters/ssh/create.js';
import { HostKeyMismatchError, type SshSession, type SshTarget } from '../../adapters/ssh/port.js';
import { SshSessionPool } from '../../adapters/ssh/session-pool.js';
import { openSshSession, trustOnFirstUse } from '../../adapters/ssh/ssh-executor.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import type { CmdbItem } from '../../core/incident.js';
import { cmdbItemFor } from '../../lab/cli.js';
import { execInHost, startLab, type Lab, type LabHost } from '../../lab/lab.js';

// The SSH session pool against a real OpenSSH sshd (a lab host). Which connection a step got is
// read on the host itself: a command's parent process is the sshd serving its connection, so the
// same `$PPID` on two borrowings means one connection (one handshake), a new one means a new dial.

const problems = labTestProblems();
if (problems.length > 0) console.warn(`lab tests skipped: ${problems.join('; ')}`);

const RUN = { timeoutMs: 10_000, maxOutputBytes: 4096 };

let lab: Lab;
let host: LabHost;
let store: Store;
let dataDir: string;
let tenantId: string;
const pools: { close(): Promise<void> }[] = [];

const target = (privateKey = lab.clientPrivateKey): SshTarget => ({ host: host.address, port: host.port, username: 'root', privateKey });

function newPool(idleMs = 60_000): SshSessionPool {
  const pool = new SshSessionPool({
    hostKeys: store.hostKeys,
    idleMs,
    maxIdle: 8,
    dial: (tenant, to) => openSshSession(to, trustOnFirstUse(store.hostKeys, tenant), { connectTimeoutMs: 5000 }),
  });
  pools.push(pool);
  return pool;
}

/** The pid of the sshd process serving the session's connection. */
async function sshdPid(session: SshSession): Promise<string> {
  const [outcome] = await session.run(['echo $PPID'], RUN);
  expect(outcome!.exitCode).toBe(0);
  return outcome!.stdout.trim();
}

async function borrowPid(pool: SshSessionPool, to = target()): Promise<string> {
  const session = await pool.borrow(tenantId, to);
  try {
    return await sshdPid(session);
  } finally {
    session.close();
  }
}

const processAlive = async (pid: string) => (await execInHost(host, `kill -0 ${pid}`)).code === 0;

describe.skipIf(problems.length > 0)('SSH session pool on a real OpenSSH host', () => {
  beforeAll(async () => {
    lab = await startLab({ hosts: 1 });
    host = lab.hosts[0]!;
    dataDir = await mkdtemp(join(tmpdir(), 'infraai-ssh-pool-'));
    store = await createStore({ kind: 'pglite', dataDir });
    tenantId = (await store.tenants.ensure('ssh-pool')).id;
  });
  afterEach(async () => {
    for (const pool of pools.splice(0)) await pool.close();
    await store.hostKeys.forget(tenantId, host.address, host.port);
  });
  afterAll(async () => {
    await store?.close();
    await lab?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('lends one connection to successive borrowers: the second borrowing needs no handshake', async () => {
    const pool = newPool();
    const first = await borrowPid(pool);
    const second = await borrowPid(pool);
    expect(second).toBe(first);
    expect(pool.stats()).toMatchObject({ dials: 1, reuses: 1, idle: 1, lent: 0 });
  });

  it('gives two borrowers at once two connections', async () => {
    const pool = newPool();
    const [a, b] = [await pool.borrow(tenantId, target()), await pool.borrow(tenantId, target())];
    const pids = [await sshdPid(a), await sshdPid(b)];
    a.close();
    b.close();
    expect(pids[0]).not.toBe(pids[1]);
    expect(pool.stats()).toMatchObject({ dials: 2, idle: 2 });
  });

  it('closes a connection left unused for the idle time: sshd ends it on the host', async () => {
    const pool = newPool(300);
    const pid = await borrowPid(pool);
    await vi.waitFor(() => expect(pool.stats().idle).toBe(0), { timeout: 10_000 });
    await vi.waitFor(async () => expect(await processAlive(pid)).toBe(false), { timeout: 10_000 });
    expect(await borrowPid(pool)).not.toBe(pid);
    expect(pool.stats()).toMatchObject({ dials: 2, reuses: 0 });
  });

  it('drops a connection the host killed and dials once more for the next step', async () => {
    const pool = newPool();
    const session = await pool.borrow(tenantId, target());
    const pid = await sshdPid(session);
    // The command kills the sshd serving its own connection, as a host-side restart of sshd would.
    await session.run(['kill -KILL $PPID'], RUN);
    session.close();
    const next = await borrowPid(pool);
    expect(next).not.toBe(pid);
    // Noticed when given back, while idle, or when the next step opened its channel: one new dial in every case.
    expect(pool.stats().dials).toBe(2);
  });

  it('refuses to reuse a connection whose host key the tenant no longer trusts', async () => {
    const pool = newPool();
    const pid = await borrowPid(pool);
    // An operator forgot the key and another one is on record now: the old connection must not serve.
    await store.hostKeys.forget(tenantId, host.address, host.port);
    await store.hostKeys.trustOnFirstUse({
      tenantId,
      host: host.address,
      port: host.port,
      keyType: 'ssh-ed25519',
      fingerprint: 'SHA256:someOtherKeyEntirely0000000000000000000000',
    });
    await expect(pool.borrow(tenantId, target())).rejects.toBeInstanceOf(HostKeyMismatchError);
    expect(pool.stats()).toMatchObject({ dials: 2, reuses: 0, discarded: 1, idle: 0 });
    await vi.waitFor(async () => expect(await processAlive(pid)).toBe(false), { timeout: 10_000 });

    // Trust removed altogether: a fresh connection records the host's key again, as a first one does.
    await store.hostKeys.forget(tenantId, host.address, host.port);
    expect(await borrowPid(pool)).not.toBe(pid);
    expect((await store.hostKeys.get(tenantId, host.address, host.port))?.fingerprint).toBe(host.hostKeyFingerprint);
  });

  it('opens a new connection once the credential changes, never reusing one made with the old key', async () => {
    const vault = new EncryptedCredentialVault(store, randomBytes(32));
    const access = createHostAccess({ vault, hostKeys: store.hostKeys, connectTimeoutMs: 5000 });
    pools.push({ close: () => access.close() });
    await vault.put(tenantId, { name: 'lab', username: 'root', privateKey: lab.clientPrivateKey });
    const item: CmdbItem = {
      ...cmdbItemFor(host),
      tenantId,
      instanceId: null,
      owner: null,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    const pidOf = async () => {
      const session = await access.connect(tenantId, item);
      try {
        return await sshdPid(session);
      } finally {
        session.close();
      }
    };

    const keyDir = await mkdtemp(join(tmpdir(), 'infraai-ssh-pool-key-'));
    const marker = `infraai-pool-test-${randomBytes(4).toString('hex')}`;
    try {
      await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', marker, '-f', join(keyDir, 'key')]);
      const rotatedKey = await readFile(join(keyDir, 'key'), 'utf8');
      const publicKey = (await readFile(join(keyDir, 'key.pub'), 'utf8')).trim();
      const before = await pidOf();
      expect(await pidOf()).toBe(before);
      await execInHost(host, `echo '${publicKey}' >> /root/.ssh/authorized_keys`);

      // The credential is rotated under the same name: the next step uses the new key on a new connection.
      await vault.delete(tenantId, 'lab');
      await vault.put(tenantId, { name: 'lab', username: 'root', privateKey: rotatedKey });
      const after = await pidOf();
      expect(after).not.toBe(before);
      expect(access.stats()).toMatchObject({ dials: 2, reuses: 1 });
    } finally {
      await execInHost(host, `sed -i '/${marker}/d' /root/.ssh/authorized_keys`);
      await rm(keyDir, { recursive: true, force: true });
    }
  });
});
