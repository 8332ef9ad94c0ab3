import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ToolCaller } from '../../tools/tool.js';

// The MCP server's confirmations: a call rated `change` is first proposed (nothing runs) and runs
// only when the same caller calls it again with the proposal's hash. The ledger remembers which
// proposals are pending so that a confirmation is used once: replaying a confirmed call, or
// confirming a call that was never proposed (the hash is computable by anyone), runs nothing.

/** A proposal waiting for its confirmation. */
export interface PendingProposal {
  /** Random, per proposal: the confirmed run's `callKey`, so an external create is idempotent per confirmation. */
  id: string;
  /** toolCallHash(name, args): what the confirmation must carry. */
  hash: string;
  /** Epoch milliseconds after which the confirmation is refused. */
  expiresAt: number;
}

export interface ProposalLedger {
  /** Records a proposal of this call by this caller, or renews the pending one (same id, later expiry). */
  propose(caller: ToolCaller, hash: string): Promise<PendingProposal>;
  /** Takes the pending proposal of this call, once; null when there is none (never proposed, expired, already taken). */
  take(caller: ToolCaller, hash: string): Promise<PendingProposal | null>;
}

export const DEFAULT_PROPOSAL_TTL_MS = 10 * 60_000;
const DEFAULT_MAX_PENDING = 10_000;

/**
 * Pending proposals in this process's memory, bounded in time and number. With several API
 * processes behind a load balancer, a confirmation must reach the process that made the proposal
 * (otherwise it is refused, never run twice): with REDIS_URL set the API uses RedisProposalLedger.
 */
export class InMemoryProposalLedger implements ProposalLedger {
  private readonly pending = new Map<string, PendingProposal>();
  private readonly ttlMs: number;
  private readonly maxPending: number;
  private readonly now: () => number;

  constructor(options: { ttlMs?: number; maxPending?: number; now?: () => number } = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_PROPOSAL_TTL_MS;
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.now = options.now ?? Date.now;
  }

  propose(caller: ToolCaller, hash: string): Promise<PendingProposal> {
    const key = keyOf(caller, hash);
    const at = this.now();
    const existing = this.pending.get(key);
    const proposal: PendingProposal = {
      id: existing && existing.expiresAt > at ? existing.id : randomUUID(),
      hash,
      expiresAt: at + this.ttlMs,
    };
    // Re-inserted so the map's order stays oldest-first for eviction.
    this.pending.delete(key);
    this.pending.set(key, proposal);
    this.evict(at);
    return Promise.resolve(proposal);
  }

  take(caller: ToolCaller, hash: string): Promise<PendingProposal | null> {
    const key = keyOf(caller, hash);
    const proposal = this.pending.get(key);
    // Synchronous get-and-delete: two concurrent confirmations cannot both take it.
    this.pending.delete(key);
    if (!proposal || proposal.expiresAt <= this.now()) return Promise.resolve(null);
    return Promise.resolve(proposal);
  }

  private evict(at: number): void {
    for (const [key, proposal] of this.pending) {
      if (this.pending.size <= this.maxPending && proposal.expiresAt > at) break;
      this.pending.delete(key);
    }
  }
}

// Renews the pending proposal under its id, or records a new one, in one step: two API processes
// proposing the same call at once agree on one id.
const PROPOSE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local id = ARGV[1]
if current then id = cjson.decode(current).id end
local proposal = cjson.encode({ id = id, hash = ARGV[2], expiresAt = tonumber(ARGV[3]) })
redis.call('SET', KEYS[1], proposal, 'PX', ARGV[4])
return proposal
`;

/**
 * Pending proposals in Redis (REDIS_URL), shared by every API process: a confirmation may reach any
 * of them. Redis's own expiry bounds the time and the number; GETDEL takes a proposal once even when
 * two processes receive the same confirmation at once. If Redis does not answer, the call fails (the
 * MCP client sees an error and may retry); nothing runs unconfirmed.
 */
export class RedisProposalLedger implements ProposalLedger {
  private readonly ttlMs: number;
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    options: { ttlMs?: number; prefix?: string } = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_PROPOSAL_TTL_MS;
    this.prefix = options.prefix ?? 'infraai:mcp-proposal:';
  }

  async propose(caller: ToolCaller, hash: string): Promise<PendingProposal> {
    const expiresAt = Date.now() + this.ttlMs;
    const stored = (await this.redis.eval(
      PROPOSE_SCRIPT,
      1,
      this.redisKey(caller, hash),
      randomUUID(),
      hash,
      String(expiresAt),
      String(this.ttlMs),
    )) as string;
    return JSON.parse(stored) as PendingProposal;
  }

  async take(caller: ToolCaller, hash: string): Promise<PendingProposal | null> {
    const stored = await this.redis.getdel(this.redisKey(caller, hash));
    if (!stored) return null;
    const proposal = JSON.parse(stored) as PendingProposal;
    return proposal.expiresAt > Date.now() ? proposal : null;
  }

  private redisKey(caller: ToolCaller, hash: string): string {
    // Hashed: tenant and user ids never appear in Redis's key space.
    return this.prefix + createHash('sha256').update(keyOf(caller, hash)).digest('hex');
  }
}

function keyOf(caller: ToolCaller, hash: string): string {
  return `${caller.tenantId}\n${caller.userId}\n${hash}`;
}
