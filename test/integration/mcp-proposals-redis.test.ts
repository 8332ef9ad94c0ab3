import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisProposalLedger } from '../../api/mcp/proposals.js';
import type { ToolCaller } from '../../tools/tool.js';

// The MCP confirmation ledger on the machine's Redis (REDIS_URL in production): two API processes
// (two ledgers on two connections) share pending proposals, and a confirmation is taken once.

const REDIS_URL = process.env.INFRAAI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const alice: ToolCaller = { tenantId: 'tenant-a', userId: 'api-key:alice', role: 'operator' };
const bob: ToolCaller = { ...alice, userId: 'api-key:bob' };
const HASH = 'a'.repeat(64);

let first: Redis;
let second: Redis;
/** A key prefix per run, so runs never see each other's proposals. */
let prefix: string;

beforeAll(async () => {
  first = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  second = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  await Promise.all([first.ping(), second.ping()]);
  prefix = `infraai-test:mcp-proposal:${randomUUID()}:`;
});

afterAll(async () => {
  const keys = await first.keys(`${prefix}*`);
  if (keys.length > 0) await first.del(...keys);
  first?.disconnect();
  second?.disconnect();
});

describe('RedisProposalLedger', () => {
  it('hands a proposal made by one API process to a confirmation that reaches another, once', async () => {
    const proposing = new RedisProposalLedger(first, { prefix, ttlMs: 60_000 });
    const confirming = new RedisProposalLedger(second, { prefix, ttlMs: 60_000 });
    const proposal = await proposing.propose(alice, HASH);
    expect(proposal).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), hash: HASH, expiresAt: expect.any(Number) });
    expect(await confirming.take(bob, HASH)).toBeNull();
    expect(await confirming.take(alice, 'b'.repeat(64))).toBeNull();
    expect(await confirming.take(alice, HASH)).toEqual(proposal);
    expect(await proposing.take(alice, HASH)).toBeNull();
    // Tenant and user ids are not in Redis's key space.
    expect((await first.keys(`${prefix}*`)).join(' ')).not.toMatch(/tenant-a|alice/);
  });

  it('renews a pending proposal under the same id from either process, and a new one after it was taken', async () => {
    const a = new RedisProposalLedger(first, { prefix, ttlMs: 60_000 });
    const b = new RedisProposalLedger(second, { prefix, ttlMs: 60_000 });
    const hash = 'c'.repeat(64);
    const proposed = await a.propose(alice, hash);
    const renewed = await b.propose(alice, hash);
    expect(renewed.id).toBe(proposed.id);
    expect(renewed.expiresAt).toBeGreaterThanOrEqual(proposed.expiresAt);
    expect(await a.take(alice, hash)).toEqual(renewed);
    expect((await b.propose(alice, hash)).id).not.toBe(proposed.id);
  });

  it('gives a confirmation sent to two processes at once to exactly one of them', async () => {
    const a = new RedisProposalLedger(first, { prefix, ttlMs: 60_000 });
    const b = new RedisProposalLedger(second, { prefix, ttlMs: 60_000 });
    for (let round = 0; round < 20; round++) {
      const hash = `${round}`.padStart(64, 'd');
      await a.propose(alice, hash);
      const taken = await Promise.all([a.take(alice, hash), b.take(alice, hash), a.take(alice, hash), b.take(alice, hash)]);
      expect(taken.filter((t) => t !== null)).toHaveLength(1);
    }
  });

  it('refuses a confirmation once the proposal expired (Redis dropped it)', async () => {
    const ledger = new RedisProposalLedger(first, { prefix, ttlMs: 150 });
    const hash = 'e'.repeat(64);
    await ledger.propose(alice, hash);
    const ttls = await Promise.all((await first.keys(`${prefix}*`)).map((key) => first.pttl(key)));
    // Every pending proposal carries Redis's expiry (none is kept for good).
    expect(ttls.every((ttl) => ttl > 0)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await ledger.take(alice, hash)).toBeNull();
  });
});
