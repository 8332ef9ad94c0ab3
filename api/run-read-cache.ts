import type { RunEventBus } from '../adapters/events/port.js';
import { LruMap } from './auth-cache.js';

/** How long a cached run read may be served at most (INFRAAI_READ_CACHE_TTL_MS); 0 turns the cache off. */
export const DEFAULT_READ_CACHE_TTL_MS = 1000;
/** Runs one process remembers; the least recently read goes first. */
export const DEFAULT_READ_CACHE_MAX_ENTRIES = 5000;

interface Entry<V> {
  value: V;
  /** Epoch milliseconds on the injected clock. */
  expiresAt: number;
  tenantId: string;
}

/**
 * Recent reads of runs, kept in memory: a polling frontend reads the same runs many times a second
 * across many screens, and each read from the store costs three queries on a store that (embedded)
 * serves one query at a time. An entry goes as soon as its run changes — the write that changes a
 * run publishes a notice on the run-event bus after it commits, and this process's own changes
 * (approve, reject, cancel) drop it directly — and after `ttlMs` at the latest, which bounds how
 * stale a read can be when a notice between processes is lost. Without a bus nothing is cached.
 *
 * A read that started before a notice is never cached after it: the notice marks the loads in
 * flight for its run stale, and a stale load's value is returned but not kept.
 */
export class RunReadCache<V> {
  private readonly entries: LruMap<string, Entry<V>>;
  /** Loads in flight per key; a notice marks them stale. */
  private readonly loading = new Map<string, { stale: boolean }[]>();
  private readonly subscriptions = new Map<string, Promise<(() => Promise<void>) | null>>();
  private closed = false;

  constructor(
    private readonly bus: RunEventBus | undefined,
    readonly ttlMs: number = DEFAULT_READ_CACHE_TTL_MS,
    maxEntries: number = DEFAULT_READ_CACHE_MAX_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = new LruMap(maxEntries);
  }

  get enabled(): boolean {
    return this.ttlMs > 0 && this.bus !== undefined && !this.closed;
  }

  /** The cached value of the run, or `load()`'s (stored for later reads when nothing changed meanwhile). */
  async read(
    tenantId: string,
    family: string,
    runId: string,
    load: () => Promise<V>,
    keep: (value: V) => boolean = () => true,
  ): Promise<V> {
    if (!this.enabled) return load();
    const key = keyOf(tenantId, family, runId);
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > this.now()) return hit.value;
    // Listening first: a change committed after this point drops what the load below returns.
    const listening = await this.listen(tenantId);
    const token = { stale: !listening };
    const tokens = this.loading.get(key) ?? [];
    tokens.push(token);
    this.loading.set(key, tokens);
    try {
      const value = await load();
      if (!token.stale && !this.closed && keep(value)) this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs, tenantId });
      return value;
    } finally {
      tokens.splice(tokens.indexOf(token), 1);
      if (tokens.length === 0 && this.loading.get(key) === tokens) this.loading.delete(key);
    }
  }

  /** Drops a run's entry: its run changed (a notice, or a change made through this process). */
  invalidate(tenantId: string, family: string, runId: string): void {
    const key = keyOf(tenantId, family, runId);
    for (const token of this.loading.get(key) ?? []) token.stale = true;
    this.entries.delete(key);
  }

  /** Drops every entry of a tenant (the bus lost its connection: notices may have been missed). */
  private invalidateTenant(tenantId: string): void {
    for (const [key, tokens] of this.loading) if (key.startsWith(`${tenantId}\u0000`)) for (const token of tokens) token.stale = true;
    this.entries.deleteWhere((entry) => entry.tenantId === tenantId);
  }

  /** One bus subscription per tenant read through the cache; false when the bus refused it. */
  private async listen(tenantId: string): Promise<boolean> {
    let subscription = this.subscriptions.get(tenantId);
    if (!subscription) {
      subscription = this.bus!.subscribe(tenantId, (notice) => {
        if (notice.resync) this.invalidateTenant(tenantId);
        else this.invalidate(notice.tenantId, notice.family, notice.runId);
      }).catch(() => null);
      this.subscriptions.set(tenantId, subscription);
    }
    const unsubscribe = await subscription;
    // A refused subscription is tried again by the next read instead of disabling the tenant for good.
    if (!unsubscribe) this.subscriptions.delete(tenantId);
    return unsubscribe !== null;
  }

  async close(): Promise<void> {
    this.closed = true;
    const subscriptions = [...this.subscriptions.values()];
    this.subscriptions.clear();
    for (const subscription of subscriptions) await (await subscription)?.();
  }
}

// Ids never hold a NUL character: it cannot split a key ambiguously.
const keyOf = (tenantId: string, family: string, runId: string) => `${tenantId}\u0000${family}\u0000${runId}`;
