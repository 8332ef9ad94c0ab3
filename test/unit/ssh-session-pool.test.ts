import { describe, expect, it } from 'vitest';
import { SshChannelOpenError, SshConnectionError, type CommandOutcome, type RunOptions } from '../../adapters/ssh/port.js';
import { poolKey, SshSessionPool } from '../../adapters/ssh/session-pool.js';
import type { SshConnection } from '../../adapters/ssh/ssh-executor.js';

// The pool's decisions that a real sshd cannot be made to trigger on cue: a reused connection that
// fails to open a channel (it died while idle, unnoticed) is redialled once, a connection that
// failed after its command started is never used again, and keys separate credentials.
// (Reuse, idle close, killed connections and host-key checks run against OpenSSH in test/lab.)

const RUN: RunOptions = { timeoutMs: 1000, maxOutputBytes: 1024 };
const target = { host: '10.0.0.1', port: 22, username: 'root', privateKey: 'key-a' };

class ScriptedConnection implements SshConnection {
  readonly hostKeyFingerprint = 'SHA256:host';
  open = true;
  ran: string[] = [];
  constructor(private readonly failWith: Error | null = null) {}
  onClose(): void {}
  async run(commands: readonly string[]): Promise<CommandOutcome[]> {
    if (this.failWith) throw this.failWith;
    this.ran.push(...commands);
    return commands.map((command) => ({
      command,
      exitCode: 0,
      signal: null,
      stdout: '',
      stderr: '',
      truncated: false,
      timedOut: false,
      durationMs: 1,
    }));
  }
  close(): void {
    this.open = false;
  }
}

function poolOver(connections: ScriptedConnection[]) {
  const dialled: ScriptedConnection[] = [];
  const pool = new SshSessionPool({
    idleMs: 60_000,
    maxIdle: 4,
    hostKeys: {
      get: async () => ({
        tenantId: 't',
        host: target.host,
        port: 22,
        keyType: 'ssh-ed25519',
        fingerprint: 'SHA256:host',
        firstSeenAt: '',
      }),
    },
    dial: async () => {
      const next = connections.shift()!;
      dialled.push(next);
      return next;
    },
  });
  return { pool, dialled };
}

describe('SSH session pool', () => {
  it('redials once when a reused connection cannot open a channel, and runs the batch there', async () => {
    const stale = new ScriptedConnection();
    const fresh = new ScriptedConnection();
    const { pool } = poolOver([stale, fresh]);
    const first = await pool.borrow('t', target);
    await first.run(['uptime'], RUN);
    first.close();
    // The host went away while the connection sat idle; nothing told the client yet.
    Object.assign(stale, { failWith: new SshChannelOpenError('No response from server') });
    const second = await pool.borrow('t', target);
    const outcomes = await second.run(['df -h'], RUN);
    second.close();
    expect(outcomes.map((o) => o.exitCode)).toEqual([0]);
    expect(fresh.ran).toEqual(['df -h']);
    expect(stale.open).toBe(false);
    expect(pool.stats()).toMatchObject({ dials: 2, reuses: 1, redials: 1, idle: 1 });
    await pool.close();
  });

  it('does not redial a fresh connection, nor one whose command had started, and never lends it again', async () => {
    const broken = new ScriptedConnection(new SshConnectionError('connection reset while the command ran'));
    const { pool } = poolOver([broken, new ScriptedConnection()]);
    const session = await pool.borrow('t', target);
    await expect(session.run(['supervisorctl restart labsvc'], RUN)).rejects.toBeInstanceOf(SshConnectionError);
    session.close();
    expect(broken.open).toBe(false);
    expect(pool.stats()).toMatchObject({ dials: 1, redials: 0, idle: 0 });
    await pool.close();
  });

  it('keys connections by tenant, endpoint, user and credential', () => {
    const key = poolKey('t', target);
    expect(poolKey('t', { ...target })).toBe(key);
    expect(poolKey('other', target)).not.toBe(key);
    expect(poolKey('t', { ...target, privateKey: 'key-b' })).not.toBe(key);
    expect(poolKey('t', { ...target, passphrase: 'p' })).not.toBe(key);
    expect(poolKey('t', { ...target, username: 'ops' })).not.toBe(key);
    expect(poolKey('t', { ...target, port: 2222 })).not.toBe(key);
    expect(key).not.toContain('key-a');
  });

  it('refuses borrowers once closed (worker shutdown) and ends the connections it kept', async () => {
    const kept = new ScriptedConnection();
    const { pool } = poolOver([kept]);
    (await pool.borrow('t', target)).close();
    await pool.close();
    expect(kept.open).toBe(false);
    await expect(pool.borrow('t', target)).rejects.toBeInstanceOf(SshConnectionError);
  });
});
