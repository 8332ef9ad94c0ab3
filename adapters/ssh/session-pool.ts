import { createHash } from 'node:crypto';
import type { HostKeyRepository } from '../store/port.js';
import { SshChannelOpenError, SshConnectionError, type SshSession, type SshTarget } from './port.js';
import type { SshConnection } from './ssh-executor.js';

// Keeps SSH connections open between the steps of a run, so a run's diagnostics, fixes and
// verification pay for one handshake (ssh2's key exchange is JavaScript, and costly on a busy
// worker) instead of one per step. A connection is lent to one borrower at a time; its key names
// the tenant, the host, the user and a hash of the credential, so a rotated key never rides on a
// connection opened with the old one. Before a connection is lent again, the host key it was
// opened with must still be the tenant's trusted key. Everything here is per process and in
// memory: a worker that dies takes its connections with it, and nothing durable depends on them.

export interface SshSessionPoolOptions {
  /** Opens a fresh connection for a tenant (host-key verification included). */
  dial: (tenantId: string, target: SshTarget) => Promise<SshConnection>;
  hostKeys: Pick<HostKeyRepository, 'get'>;
  /** How long a connection stays open unused; 0: never kept (every step dials). */
  idleMs: number;
  /** Connections kept unused at most, across hosts; the least recently used goes first. */
  maxIdle: number;
}

/** What the pool has done: handshakes, reuses, and why connections were let go. */
export interface SshPoolStats {
  dials: number;
  reuses: number;
  /** Reused connections found dead when a step used them, then dialled again. */
  redials: number;
  /** Idle connections dropped before reuse: closed meanwhile, or their host key no longer trusted. */
  discarded: number;
  idle: number;
  lent: number;
}

interface IdleConnection {
  key: string;
  connection: SshConnection;
  timer: NodeJS.Timeout;
  since: number;
}

/** Which connections may serve a borrower: same tenant, endpoint, user and credential. */
export function poolKey(tenantId: string, target: SshTarget): string {
  const credential = createHash('sha256')
    .update(target.privateKey)
    .update('\0')
    .update(target.passphrase ?? '')
    .digest('hex');
  return JSON.stringify([tenantId, target.host, target.port, target.username, credential]);
}

export class SshSessionPool {
  private readonly idle = new Map<string, IdleConnection[]>();
  private readonly lent = new Set<SshConnection>();
  private closed = false;
  private readonly counts = { dials: 0, reuses: 0, redials: 0, discarded: 0 };

  constructor(private readonly options: SshSessionPoolOptions) {}

  stats(): SshPoolStats {
    let idle = 0;
    for (const list of this.idle.values()) idle += list.length;
    return { ...this.counts, idle, lent: this.lent.size };
  }

  /** A session for one borrower: an idle connection that is still open and trusted, else a fresh one. */
  async borrow(tenantId: string, target: SshTarget): Promise<SshSession> {
    if (this.closed) throw new SshConnectionError('The SSH session pool is closed (the worker is stopping)');
    const key = poolKey(tenantId, target);
    for (let entry = this.takeIdle(key); entry; entry = this.takeIdle(key)) {
      if (entry.connection.open && (await this.stillTrusted(tenantId, target, entry.connection))) {
        this.counts.reuses += 1;
        return this.lend(key, tenantId, target, entry.connection, true);
      }
      this.counts.discarded += 1;
      entry.connection.close();
    }
    return this.lend(key, tenantId, target, await this.dial(tenantId, target), false);
  }

  /** Ends every connection, idle or lent (worker shutdown); later borrowers are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const list of this.idle.values()) for (const entry of list) this.drop(entry);
    this.idle.clear();
    for (const connection of this.lent) connection.close();
    this.lent.clear();
  }

  private async dial(tenantId: string, target: SshTarget): Promise<SshConnection> {
    this.counts.dials += 1;
    const connection = await this.options.dial(tenantId, target);
    // A connection the host or the network closes while idle leaves the pool at once.
    connection.onClose(() => {
      for (const list of this.idle.values()) {
        const entry = list.find((e) => e.connection === connection);
        if (entry) this.expire(entry);
      }
    });
    return connection;
  }

  /**
   * The connection's host key against the tenant's trust now: an operator who forgot the key (or
   * recorded another) must not find the old connection still in use; the fresh dial then checks
   * the key as any first connection does.
   */
  private async stillTrusted(tenantId: string, target: SshTarget, connection: SshConnection): Promise<boolean> {
    const trusted = await this.options.hostKeys.get(tenantId, target.host, target.port);
    return trusted !== null && trusted.fingerprint === connection.hostKeyFingerprint;
  }

  private lend(key: string, tenantId: string, target: SshTarget, first: SshConnection, reused: boolean): SshSession {
    let connection = first;
    let fresh = !reused;
    let returned = false;
    let broken = false;
    this.lent.add(connection);
    return {
      get hostKeyFingerprint() {
        return connection.hostKeyFingerprint;
      },
      run: async (commands, options) => {
        if (returned) throw new SshConnectionError(`The session to ${target.host} was already given back`);
        try {
          return await connection.run(commands, options);
        } catch (err) {
          // Only a reused connection is redialled, once, and only when none of the commands started.
          if (fresh || !(err instanceof SshChannelOpenError)) {
            if (err instanceof SshConnectionError) broken = true;
            throw err;
          }
        }
        this.counts.redials += 1;
        this.lent.delete(connection);
        connection.close();
        // Until the fresh dial succeeds the session holds a closed connection: never given back.
        broken = true;
        connection = await this.dial(tenantId, target);
        broken = false;
        fresh = true;
        this.lent.add(connection);
        try {
          return await connection.run(commands, options);
        } catch (err) {
          if (err instanceof SshConnectionError) broken = true;
          throw err;
        }
      },
      close: () => {
        if (returned) return;
        returned = true;
        this.lent.delete(connection);
        if (broken) connection.close();
        else this.giveBack(key, connection);
      },
    };
  }

  private giveBack(key: string, connection: SshConnection): void {
    if (this.closed || !connection.open || this.options.idleMs <= 0 || this.options.maxIdle <= 0) {
      connection.close();
      return;
    }
    const entry: IdleConnection = {
      key,
      connection,
      since: Date.now(),
      timer: setTimeout(() => this.expire(entry), this.options.idleMs),
    };
    // An idle connection must not keep a stopping process alive.
    entry.timer.unref();
    const list = this.idle.get(key) ?? [];
    list.push(entry);
    this.idle.set(key, list);
    this.enforceBound();
  }

  /** The most recently returned idle connection of this key (the one least likely to have timed out). */
  private takeIdle(key: string): IdleConnection | undefined {
    const list = this.idle.get(key);
    const entry = list?.pop();
    if (list && list.length === 0) this.idle.delete(key);
    if (entry) clearTimeout(entry.timer);
    return entry;
  }

  private expire(entry: IdleConnection): void {
    const list = this.idle.get(entry.key);
    const at = list?.indexOf(entry) ?? -1;
    if (!list || at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) this.idle.delete(entry.key);
    this.drop(entry);
  }

  private drop(entry: IdleConnection): void {
    clearTimeout(entry.timer);
    entry.connection.close();
  }

  private enforceBound(): void {
    const all = [...this.idle.values()].flat();
    if (all.length <= this.options.maxIdle) return;
    all.sort((a, b) => a.since - b.since);
    for (const entry of all.slice(0, all.length - this.options.maxIdle)) this.expire(entry);
  }
}
