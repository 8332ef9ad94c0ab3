import { hash } from 'node:crypto';
import type { Principal } from './principal.js';

/** How long a verified credential is trusted without asking the store again (INFRAAI_AUTH_CACHE_TTL_MS). */
export const DEFAULT_AUTH_CACHE_TTL_MS = 5000;
/** Distinct credentials one process remembers; the least recently used goes first. */
export const DEFAULT_AUTH_CACHE_MAX_ENTRIES = 10_000;

/** A Map keeps insertion order, so re-inserting on every hit makes its first key the least recently used. */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, value] of this.entries) if (matches(value)) this.entries.delete(key);
  }
}

interface CachedPrincipal {
  principal: Readonly<Principal>;
  /** Epoch milliseconds on the injected clock. */
  expiresAt: number;
  /** The API key behind it, so that revoking the key can drop it; null for a JWT. */
  apiKeyId: string | null;
}

/**
 * Principals of credentials that were verified a moment ago, keyed by a SHA-256 of the credential
 * and how it may be verified: the token never sits in memory longer than the
 * request that carried it, and a heap dump shows no usable secret.
 *
 * Only successful verifications are remembered. A negative cache would not relieve the store from
 * what actually loads it with bad keys (every guess is a different token, so every guess misses), it
 * would let a flood of junk tokens evict the good entries, and it would refuse for its lifetime a key
 * that another process had just minted or registered. So an unknown or revoked key always costs a
 * store lookup, and the store stays the authority for "no".
 */
export class VerifiedCredentialCache {
  private readonly entries: LruMap<string, CachedPrincipal>;
  /**
   * Counts revocations seen by this process. A verification that started before a revocation
   * must not cache what it read: the store may have answered just before the key was revoked.
   */
  private revocations = 0;

  constructor(
    readonly ttlMs: number,
    maxEntries: number,
    private readonly now: () => number,
  ) {
    this.entries = new LruMap(maxEntries);
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cache key of a credential: the token hashed with how it may be verified (the header it came in decides that). */
  static keyOf(verifiedAs: 'key-only' | 'key-or-jwt', token: string): string {
    return hash('sha256', `${verifiedAs}\0${token}`, 'base64url');
  }

  get(key: string): Readonly<Principal> | null {
    if (!this.enabled) return null;
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    return entry.principal;
  }

  /** A ticket taken before verifying; `remember` ignores it once a revocation has happened since. */
  ticket(): number {
    return this.revocations;
  }

  /**
   * Remembers a verified principal until the TTL runs out, or earlier at `notAfter` (a JWT's
   * expiry, epoch milliseconds). Returns the principal, frozen: it is shared by every request that hits.
   */
  remember(
    key: string,
    ticket: number,
    principal: Principal,
    options: { apiKeyId: string | null; notAfter?: number },
  ): Readonly<Principal> {
    const frozen = Object.freeze(principal);
    if (!this.enabled || ticket !== this.revocations) return frozen;
    const expiresAt = Math.min(this.now() + this.ttlMs, options.notAfter ?? Number.POSITIVE_INFINITY);
    if (expiresAt > this.now()) this.entries.set(key, { principal: frozen, expiresAt, apiKeyId: options.apiKeyId });
    return frozen;
  }

  /** Drops every entry of a revoked key at once (this process); other processes drop theirs within the TTL. */
  forgetApiKey(apiKeyId: string): void {
    this.revocations += 1;
    this.entries.deleteWhere((entry) => entry.apiKeyId === apiKeyId);
  }
}
