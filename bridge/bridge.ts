import {
  DELETE_BATCH_MAX,
  QueueMessageNotFoundError,
  QueueMessageRejectedError,
  type EventQueue,
  type ReceivedMessage,
  type SendOptions,
} from '../adapters/queue/port.js';
import type { BridgeDeadLetterReason, BridgeTelemetry } from '../adapters/telemetry/port.js';
import { incidentIdOf } from '../core/ingress/pagerduty.js';
import { parsePagerDutyEnvelope, type EnvelopeParse } from '../ingress/pagerduty-envelope.js';
import { RelayUnavailableError, type PagerDutyRelayer, type RelayOutcome } from '../ingress/pagerduty-relay.js';
import { errorText, type BridgeLog, type LogFields } from './log.js';
import type { TenantResolver } from './tenants.js';

// The SQS bridge: long-polls the event queue and relays each PagerDuty event into Temporal through
// the relayer the webhook uses too. What it promises, and how (README.md, "The SQS bridge", says it for users):
//
// - A message is deleted only after the relay returned: Temporal accepted the start or the signal,
//   or the event was one InfraAI ignores or had no run to signal. A crash before that leaves the
//   message on the queue; its redelivery is relayed again, and the relay is idempotent (a start
//   joins the run of the same id, a signal carries the event's own request id).
// - FIFO: the messages of one group (a PagerDuty incident) are handled one after the other, the next
//   only once the previous one is deleted; groups run side by side. A standard queue has no order:
//   messages run side by side, those of one incident received together still one after the other.
// - Deletes are batched: a relayed message's handle waits at most DELETE_LINGER_MS for others and goes
//   with up to 9 of them in one DeleteMessageBatch; its lane (FIFO group) moves on only once that
//   batch returned. Pending deletes are flushed at once when the bridge stops.
// - Every message held is kept invisible (its visibility extended every third of the timeout).
// - Temporal down is nobody's fault: the messages held stay held (retried with a growing backoff,
//   their visibility extended, so their receive count does not grow) and no new ones are received
//   until Temporal answers again. Nothing is lost, and nothing reaches the dead-letter queue for it.
// - A message that cannot be parsed, or names an unknown tenant, moves to the dead-letter queue at
//   once with the reason attached; one whose relay keeps failing otherwise is left for redelivery
//   (growing visibility backoff) and moved after maxAttempts receives. The queue's own redrive
//   policy stays the backstop (a bridge that crashes on a message cannot move it).

export interface BridgeOptions {
  queue: EventQueue;
  /** Where a message the bridge gives up on goes, with its reason; null: left to the queue's redrive policy. */
  deadLetter: EventQueue | null;
  relayer: PagerDutyRelayer;
  tenants: TenantResolver;
  telemetry: BridgeTelemetry;
  log: BridgeLog;
  concurrency: number;
  /**
   * Receives kept open at once (default 1). On a FIFO queue SQS itself holds back a group's later
   * messages while earlier ones are in flight, so order per incident survives several pollers.
   */
  pollers?: number;
  waitSeconds: number;
  visibilitySeconds: number;
  maxAttempts: number;
  shutdownGraceMs: number;
  /**
   * Answers when Temporal does (a cheap call, such as describing the namespace). A message whose relay
   * keeps saying "unavailable" while this answers is failing on its own account, not waiting for an outage.
   */
  temporalProbe?: (() => Promise<void>) | null;
  /** While Temporal (or the store) does not answer: the first and the largest wait between tries. */
  holdBackoffMs?: { initial: number; max: number };
  /** A message left for redelivery stays invisible this long after its first receive, doubled each receive, capped. */
  leaveBackoffSeconds?: { initial: number; max: number };
  /** How long a relayed message's delete waits for others to share its batch (DELETE_LINGER_MS); tests lengthen it. */
  deleteLingerMs?: number;
  now?: () => number;
  /** How long a second of the queue's time lasts for the bridge's own timers (heartbeat, stall); tests shrink it. */
  msPerSecond?: number;
}

export type PollerState = 'starting' | 'receiving' | 'busy' | 'paused' | 'backing-off' | 'stopped';

export interface BridgeHealth {
  /** False when no receive completed for stallMs while the poller was meant to be receiving. */
  live: boolean;
  state: PollerState;
  lastPollAt: string | null;
  /** How long ago the poller last showed progress (a completed receive, or a deliberate wait). */
  sinceProgressMs: number;
  stallMs: number;
  inFlight: number;
  temporalAvailable: boolean;
}

/** How a message's handling ended. */
type Result = 'done' | 'left' | 'lost' | 'abandoned';

interface Held {
  message: ReceivedMessage;
  parse: EnvelopeParse;
  lane: string;
  /** The delivery is no longer ours (its visibility could not be extended): nothing more is done with it. */
  lost: boolean;
  /** Its visibility is being set by the handling itself (leave, release): the heartbeat leaves it alone. */
  settling: boolean;
}

/** A message whose relay said "Temporal unavailable" this often while Temporal answered others is not waiting for an outage. */
const UNAVAILABLE_WHILE_OTHERS_SUCCEED = 5;
/** Standard queues only: a signal with no run is tried again this many receives (its trigger may be behind it). */
const NO_RUN_RECEIVES = 3;
/** Attributes a dead-lettered message keeps of its own (SQS allows 10; the bridge adds 4). */
const KEPT_ATTRIBUTES = 6;
export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'infraai.dlq.reason',
  sourceMessageId: 'infraai.dlq.sourceMessageId',
  receiveCount: 'infraai.dlq.receiveCount',
  at: 'infraai.dlq.at',
} as const;

/**
 * How long a relayed message's delete waits for others to share its DeleteMessageBatch. Each SQS call
 * costs a round trip (tens of ms on AWS, ~150 ms on a slow endpoint), so one call for up to ten
 * deletes is most of the gain; 20 ms is short against a relay (which talks to Temporal) and against
 * the visibility timeout, and long enough for the messages of one receive, relayed side by side, to
 * finish together. A full batch (DELETE_BATCH_MAX) goes at once without waiting.
 */
export const DELETE_LINGER_MS = 20;

/** How one handle's delete ended in its batch: deleted, refused on its own (no retry helps), or the call failed. */
type DeleteOutcome = { ok: true } | { ok: false; entry: true; reason: string } | { ok: false; entry: false; error: unknown };

/**
 * Collects receipt handles and deletes them DELETE_BATCH_MAX at a time, or whatever is waiting after
 * DELETE_LINGER_MS. Each caller's promise resolves once its own batch returned.
 */
export class DeleteBatcher {
  private pending: { handle: string; resolve: (outcome: DeleteOutcome) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly flights = new Set<Promise<void>>();
  /** Once set (shutdown), nothing lingers: every handle goes out at once. */
  private immediate = false;

  constructor(
    private readonly queue: EventQueue,
    private readonly lingerMs = DELETE_LINGER_MS,
  ) {}

  delete(handle: string): Promise<DeleteOutcome> {
    return new Promise((resolve) => {
      this.pending.push({ handle, resolve });
      if (this.immediate || this.pending.length >= DELETE_BATCH_MAX) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  /** Sends everything waiting now, in batches of at most DELETE_BATCH_MAX. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, DELETE_BATCH_MAX);
      const flight = this.send(batch);
      this.flights.add(flight);
      void flight.finally(() => this.flights.delete(flight));
    }
  }

  /** From now on nothing waits: flushes what is pending and resolves once every batch under way returned. */
  async drain(): Promise<void> {
    this.immediate = true;
    this.flush();
    await Promise.allSettled([...this.flights]);
  }

  private async send(batch: { handle: string; resolve: (outcome: DeleteOutcome) => void }[]): Promise<void> {
    try {
      const { failed } = await this.queue.deleteBatch(batch.map((b) => b.handle));
      const reasons = new Map(failed.map((f) => [f.receiptHandle, f.reason]));
      for (const { handle, resolve } of batch) {
        const reason = reasons.get(handle);
        resolve(reason === undefined ? { ok: true } : { ok: false, entry: true, reason });
      }
    } catch (error) {
      for (const { resolve } of batch) resolve({ ok: false, entry: false, error });
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A parse failure's reason fit for the log: JSON.parse quotes the start of the text it refused
 * ("Unexpected token 's', "secret…" is not valid JSON"), which is the message body: only its size and
 * where it broke are kept. Schema reasons name fields, never values.
 */
export function withoutBody(reason: string, body: string): string {
  if (!reason.startsWith('not JSON')) return reason;
  const position = /position (\d+)/.exec(reason)?.[1];
  return `not JSON (${Buffer.byteLength(body)} bytes${position ? `, broken at position ${position}` : ''})`;
}

export class SqsBridge {
  private readonly o: Required<Omit<BridgeOptions, 'deadLetter'>> & { deadLetter: EventQueue | null };
  private readonly held = new Map<string, Held>();
  private readonly lanes = new Map<string, Held[]>();
  private readonly laneRuns = new Set<Promise<void>>();
  private active = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private changeWaiters: (() => void)[] = [];
  /** Receives after which the bridge moves a failing message itself: maxAttempts, or the redrive policy's count if lower. */
  private attemptsLimit: number;
  /** The queue's redrive maxReceiveCount, when it has one: a message is never left past it. */
  private redriveMax: number | null = null;

  private state: PollerState = 'starting';
  private lastPollAt: number | null = null;
  private lastProgressAt: number;
  private temporalDownSince: number | null = null;
  private lastRelaySuccessAt = 0;
  private stopping = false;
  /** Set once the shutdown grace has run out: whatever is still held is released, nothing more is started. */
  private abandoned = false;
  private readonly pollAbort = new AbortController();
  private readonly graceAbort = new AbortController();
  /** Aborted (and renewed) when Temporal answers again: the messages waiting for it try at once. */
  private retryNow = new AbortController();
  private pollLoop: Promise<void> | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatRunning = false;
  private stopped: Promise<{ released: number }> | null = null;
  private readonly deletes: DeleteBatcher;

  constructor(options: BridgeOptions) {
    this.o = {
      holdBackoffMs: { initial: 1000, max: 30_000 },
      leaveBackoffSeconds: { initial: 5, max: 300 },
      now: Date.now,
      msPerSecond: 1000,
      temporalProbe: null,
      deleteLingerMs: DELETE_LINGER_MS,
      pollers: 1,
      ...options,
    };
    this.attemptsLimit = options.maxAttempts;
    this.lastProgressAt = this.o.now();
    this.deletes = new DeleteBatcher(this.o.queue, this.o.deleteLingerMs);
  }

  /** Three long-poll waits without a completed receive (at least 5 s) is a stalled poller. */
  get stallMs(): number {
    return Math.max(3 * this.o.waitSeconds, 5) * this.o.msPerSecond;
  }

  /** Reads the queue's redrive policy (the backstop), then starts polling and the visibility heartbeat. */
  async start(): Promise<void> {
    const { queue, log } = this.o;
    try {
      const described = await queue.describe();
      if (described.redrive) {
        this.redriveMax = described.redrive.maxReceiveCount;
        if (described.redrive.maxReceiveCount < this.attemptsLimit) this.attemptsLimit = described.redrive.maxReceiveCount;
      }
      log('info', 'queue redrive policy', {
        queue: queue.url,
        redrive_target: described.redrive?.deadLetterTargetArn ?? null,
        max_receive_count: described.redrive?.maxReceiveCount ?? null,
        bridge_max_attempts: this.attemptsLimit,
      });
      if (!described.redrive && !this.o.deadLetter) {
        log('warn', 'no dead-letter queue: a message the bridge gives up on stays on the queue until its retention ends', {
          queue: queue.url,
        });
      }
    } catch (err) {
      log('warn', 'could not read the queue attributes; going on with the configured limits', { error: errorText(err) });
    }
    const beatMs = Math.max(this.o.msPerSecond, Math.floor((this.o.visibilitySeconds * this.o.msPerSecond) / 3));
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), beatMs);
    const pollers = Array.from({ length: Math.max(1, this.o.pollers) }, () => this.poll());
    this.pollLoop = Promise.all(pollers).then(() => undefined);
  }

  health(): BridgeHealth {
    const now = this.o.now();
    const sinceProgressMs = now - this.lastProgressAt;
    return {
      live: this.stopping || sinceProgressMs <= this.stallMs,
      state: this.state,
      lastPollAt: this.lastPollAt === null ? null : new Date(this.lastPollAt).toISOString(),
      sinceProgressMs,
      stallMs: this.stallMs,
      inFlight: this.held.size,
      temporalAvailable: this.temporalDownSince === null,
    };
  }

  /**
   * Stops polling (the long poll is aborted), lets the messages held finish for up to the shutdown
   * grace, then releases whatever is left (visible again at once, for the next bridge).
   */
  stop(): Promise<{ released: number }> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<{ released: number }> {
    const { log, now } = this.o;
    this.stopping = true;
    this.pollAbort.abort();
    this.wake();
    await this.pollLoop;
    // No more receives: a delete waiting for others to share its batch would wait for nothing.
    void this.deletes.drain();
    log('info', 'polling stopped; finishing the messages in flight', { in_flight: this.held.size });
    const deadline = now() + this.o.shutdownGraceMs;
    while (this.held.size > 0 && now() < deadline) await this.changed(Math.min(250, deadline - now()));
    let released = 0;
    if (this.held.size > 0) {
      this.abandoned = true;
      this.graceAbort.abort();
      const left = [...this.held.values()];
      released = await this.release(left, 'shutdown');
      log('warn', 'shutdown grace ran out: released the messages still in flight', { released, grace_ms: this.o.shutdownGraceMs });
      // Their handlers notice the abandonment at their next step; a relay call already under way has its own deadline.
      await Promise.race([Promise.allSettled([...this.laneRuns]), sleep(2000)]);
    }
    // Whatever was relayed meanwhile is deleted before the bridge says it stopped.
    await Promise.race([this.deletes.drain(), sleep(2000)]);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.state = 'stopped';
    return { released };
  }

  // ---- polling -------------------------------------------------------------------------------

  private async poll(): Promise<void> {
    const { queue, telemetry, log, now } = this.o;
    let failures = 0;
    while (!this.stopping) {
      const waitingForTemporal = this.temporalDownSince !== null && this.held.size > 0;
      if (this.held.size >= this.o.concurrency || waitingForTemporal) {
        // A deliberate wait is progress: the poller is alive, just not asking for more.
        this.state = waitingForTemporal ? 'paused' : 'busy';
        this.lastProgressAt = now();
        await this.changed(1000);
        continue;
      }
      this.state = 'receiving';
      let batch: ReceivedMessage[];
      try {
        batch = await queue.receive({
          max: 10,
          waitSeconds: this.o.waitSeconds,
          visibilitySeconds: this.o.visibilitySeconds,
          signal: this.pollAbort.signal,
        });
      } catch (err) {
        if (this.stopping) break;
        failures += 1;
        telemetry.pollFailed();
        if (failures === 1 || failures % 10 === 0) log('warn', 'receive failed', { failures, error: errorText(err) });
        this.state = 'backing-off';
        await sleep(Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5)), this.pollAbort.signal);
        continue;
      }
      if (failures > 0) log('info', 'the queue answers again', { failures });
      failures = 0;
      this.lastPollAt = now();
      this.lastProgressAt = this.lastPollAt;
      telemetry.polled(this.lastPollAt / 1000);
      if (batch.length > 0) {
        telemetry.received(batch.length);
        for (const message of batch) this.admit(message);
      }
    }
    this.state = 'stopped';
  }

  /** A received message joins its lane: its FIFO group, or on a standard queue its incident (or itself). */
  private admit(message: ReceivedMessage): void {
    const parse = parsePagerDutyEnvelope(message.body);
    let lane: string;
    if (this.o.queue.fifo && message.groupId) lane = `group:${message.groupId}`;
    else {
      const incident = parse.ok ? incidentIdOf(parse.envelope) : null;
      lane = incident ? `incident:${incident}` : `message:${message.messageId}`;
    }
    const held: Held = { message, parse, lane, lost: false, settling: false };
    this.held.set(message.receiptHandle, held);
    this.o.telemetry.inFlight(this.held.size);
    const queued = this.lanes.get(lane);
    if (queued) {
      queued.push(held);
      return;
    }
    const fresh = [held];
    this.lanes.set(lane, fresh);
    const run = this.runLane(lane, fresh).catch((err: unknown) => {
      this.o.log('error', 'lane failed', { lane, error: errorText(err) });
    });
    this.laneRuns.add(run);
    void run.finally(() => this.laneRuns.delete(run));
  }

  /** One lane's messages strictly one after the other; a FIFO message left for later holds back the rest of its group. */
  private async runLane(key: string, lane: Held[]): Promise<void> {
    while (lane.length > 0) {
      const held = lane[0]!;
      let result: Result;
      await this.acquire();
      try {
        result = await this.handle(held);
      } catch (err) {
        this.o.log('error', 'unexpected failure handling a message', { ...this.fields(held), error: errorText(err) });
        result = 'left';
      } finally {
        this.releaseSlot();
      }
      lane.shift();
      this.finish(held);
      if (result !== 'done' && this.o.queue.fifo && lane.length > 0) {
        // Its group must not move past it: the rest goes back to the queue and comes again after it.
        const rest = lane.splice(0);
        const released = await this.release(rest, 'group_waits');
        if (!this.abandoned) {
          this.o.log('info', 'released the rest of the group behind a message left for later', { group: held.message.groupId, released });
        }
        for (const other of rest) this.finish(other);
      }
    }
    this.lanes.delete(key);
  }

  private finish(held: Held): void {
    if (this.held.get(held.message.receiptHandle) === held) this.held.delete(held.message.receiptHandle);
    this.o.telemetry.inFlight(this.held.size);
    this.wake();
  }

  private async acquire(): Promise<void> {
    if (this.active < this.o.concurrency) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    if (next) next();
    else this.active -= 1;
  }

  // ---- one message ---------------------------------------------------------------------------

  private fields(held: Held, extra: LogFields = {}): LogFields {
    const { message, parse } = held;
    return {
      message_id: message.messageId,
      receive_count: message.receiveCount,
      ...(message.groupId ? { group: message.groupId } : {}),
      ...(parse.ok ? { event_id: parse.envelope.event.id, event_type: parse.envelope.event.event_type } : {}),
      ...extra,
    };
  }

  private async handle(held: Held): Promise<Result> {
    const { message, parse } = held;
    if (!parse.ok) return this.deadLetter(held, 'unparseable', withoutBody(parse.reason, message.body));

    const tenant = await this.holding(held, 'store', () => this.o.tenants.resolve(message.attributes));
    if (tenant === 'lost' || tenant === 'abandoned') return tenant;
    if (!tenant.ok) return this.deadLetter(held, 'unknown_tenant', tenant.reason);

    let outcome: RelayOutcome;
    let started = 0;
    try {
      const relayed = await this.holding(held, 'temporal', () => {
        started = performance.now();
        return this.o.relayer.relay(parse.envelope, { tenantId: tenant.tenantId, tenantSlug: tenant.tenantSlug, via: 'sqs' });
      });
      if (relayed === 'lost' || relayed === 'abandoned') return relayed;
      outcome = relayed;
    } catch (err) {
      this.o.telemetry.relayFailed('error');
      const reason = `relay failed: ${errorText(err)}`;
      if (message.receiveCount >= this.attemptsLimit) {
        return this.deadLetter(held, 'relay_failed', `${reason} (receive ${message.receiveCount} of ${this.attemptsLimit})`);
      }
      return this.leave(held, 'relay_error', reason);
    }
    const seconds = (performance.now() - started) / 1000;

    if (outcome.kind === 'no_run' && !this.o.queue.fifo && this.mayLeave(held, NO_RUN_RECEIVES)) {
      // An unordered queue may hand over an update before its trigger: give the trigger time to come.
      return this.leave(held, 'no_run_unordered', outcome.reason);
    }
    this.o.telemetry.relayed(outcome.kind, seconds);
    const details: LogFields = {
      outcome: outcome.kind,
      tenant: tenant.tenantSlug,
      ms: Math.round(seconds * 1000),
      ...('workflowId' in outcome ? { workflow_id: outcome.workflowId } : {}),
      ...('reason' in outcome ? { reason: outcome.reason } : {}),
    };
    this.o.log('info', outcome.kind === 'ignored' || outcome.kind === 'no_run' ? 'acknowledged without a run' : 'relayed', {
      ...this.fields(held),
      ...details,
    });
    return this.remove(held);
  }

  /**
   * Runs a call the bridge cannot do without (the store for the tenant, Temporal for the relay) until
   * it answers, holding the message meanwhile: its visibility keeps being extended, so waiting for a
   * dependency costs it no receive. Errors other than "not now" are the caller's.
   */
  private async holding<T>(held: Held, what: 'store' | 'temporal', call: () => Promise<T>): Promise<T | 'lost' | 'abandoned'> {
    const { holdBackoffMs, telemetry, log, now } = this.o;
    let failures = 0;
    let failingSince = 0;
    for (;;) {
      if (held.lost) return 'lost';
      if (this.abandoned) return 'abandoned';
      try {
        const value = await call();
        if (what === 'temporal') this.temporalUp();
        return value;
      } catch (err) {
        const notNow = what === 'store' || err instanceof RelayUnavailableError;
        if (!notNow) throw err;
        failures += 1;
        if (failures === 1) failingSince = now();
        if (what === 'temporal') {
          telemetry.relayFailed('unavailable');
          // Others get through, or Temporal answers, while this one fails again and again: not an outage, its own failure.
          if (failures >= UNAVAILABLE_WHILE_OTHERS_SUCCEED && (this.lastRelaySuccessAt > failingSince || (await this.temporalAnswers()))) {
            throw err;
          }
          this.temporalDown(err);
        } else if (failures === 1 || failures % 10 === 0) {
          log('warn', 'the store does not answer; holding the message', { ...this.fields(held), failures, error: errorText(err) });
        }
        const wait = Math.min(holdBackoffMs.max, holdBackoffMs.initial * 2 ** Math.min(failures - 1, 10));
        // Cut short when another relay gets through (Temporal is back) or the shutdown grace runs out.
        await sleep(wait * (0.8 + Math.random() * 0.4), AbortSignal.any([this.graceAbort.signal, this.retryNow.signal]));
      }
    }
  }

  private async temporalAnswers(): Promise<boolean> {
    if (!this.o.temporalProbe) return false;
    try {
      await this.o.temporalProbe();
      return true;
    } catch {
      return false;
    }
  }

  private temporalDown(err: unknown): void {
    if (this.temporalDownSince !== null) return;
    this.temporalDownSince = this.o.now();
    this.o.telemetry.temporalAvailable(false);
    this.o.log('warn', 'Temporal does not accept relays: holding the messages in flight, no new receives until it answers', {
      in_flight: this.held.size,
      error: errorText(err),
    });
  }

  private temporalUp(): void {
    this.lastRelaySuccessAt = this.o.now();
    if (this.temporalDownSince === null) return;
    const downMs = this.o.now() - this.temporalDownSince;
    this.temporalDownSince = null;
    this.retryNow.abort();
    this.retryNow = new AbortController();
    this.o.telemetry.temporalAvailable(true);
    this.o.log('info', 'Temporal accepts relays again', { down_ms: downMs, in_flight: this.held.size });
    this.wake();
  }

  /** Whether the message may be left for one more delivery without the redrive policy moving it (and within `receives`). */
  private mayLeave(held: Held, receives: number): boolean {
    const count = held.message.receiveCount;
    return count < receives && count < this.attemptsLimit && (this.redriveMax === null || count < this.redriveMax);
  }

  /**
   * Deletes a handled message through the delete batcher (its lane waits for the batch to return, which
   * keeps a FIFO group's order); a delivery already gone is redelivered and relayed again (idempotently).
   */
  private async remove(held: Held, count = true): Promise<Result> {
    const { telemetry, log } = this.o;
    held.settling = true;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.deletes.delete(held.message.receiptHandle);
      if (outcome.ok) {
        if (count) telemetry.deleted();
        return 'done';
      }
      // An entry refused on its own (an unknown or expired handle) is as today's not-found: no retry helps.
      if (outcome.entry || outcome.error instanceof QueueMessageNotFoundError || attempt >= 3) {
        log('warn', 'could not delete a relayed message; its redelivery will be relayed again, to the same effect', {
          ...this.fields(held),
          error: outcome.entry ? outcome.reason : errorText(outcome.error),
        });
        return 'lost';
      }
      await sleep(500 * attempt);
    }
  }

  /** Leaves the message on the queue for a later receive, invisible for a backoff that grows with its receives. */
  private async leave(held: Held, reason: string, detail: string, seconds?: number): Promise<Result> {
    const { queue, telemetry, log, leaveBackoffSeconds } = this.o;
    const backoff =
      seconds ?? Math.min(leaveBackoffSeconds.max, leaveBackoffSeconds.initial * 2 ** Math.min(held.message.receiveCount - 1, 16));
    held.settling = true;
    try {
      await queue.extendVisibility(held.message.receiptHandle, backoff);
    } catch (err) {
      // Not set: it comes back when its current visibility runs out instead; late, not lost.
      log('warn', 'could not set the backoff of a message left for later', { ...this.fields(held), error: errorText(err) });
    }
    telemetry.left(reason);
    log('warn', 'left on the queue for a later delivery', {
      ...this.fields(held),
      reason,
      detail,
      backoff_s: backoff,
      attempts_limit: this.attemptsLimit,
    });
    return 'left';
  }

  /** Makes messages visible again at once (shutdown, or the rest of a FIFO group behind one left for later). */
  private async release(helds: Held[], reason: string): Promise<number> {
    const live = helds.filter((h) => !h.lost && !h.settling);
    for (const h of live) h.settling = true;
    const results = await Promise.allSettled(live.map((h) => this.o.queue.extendVisibility(h.message.receiptHandle, 0)));
    for (const _ of live) this.o.telemetry.left(reason);
    return results.filter((r) => r.status === 'fulfilled').length;
  }

  /**
   * Moves a message to the dead-letter queue with the reason attached (sent there, then deleted here).
   * A FIFO dead-letter queue gets the message's group, and its id as the deduplication id, so a crash
   * between the send and the delete puts it there once.
   */
  private async deadLetter(held: Held, reason: BridgeDeadLetterReason, detail: string): Promise<Result> {
    const { deadLetter, telemetry, log } = this.o;
    const { message } = held;
    if (!deadLetter) {
      log('error', 'cannot be relayed, and no dead-letter queue is configured (INFRAAI_SQS_DLQ_URL): left for the redrive policy', {
        ...this.fields(held),
        reason,
        detail,
      });
      return this.leave(held, `${reason}_no_dlq`, detail, this.o.leaveBackoffSeconds.max);
    }
    const kept = Object.entries(message.attributes)
      .filter(([name]) => !name.startsWith('infraai.dlq.'))
      .slice(0, KEPT_ATTRIBUTES);
    const options: SendOptions = {
      ...(message.groupId ? { groupId: message.groupId } : {}),
      deduplicationId: message.messageId,
      attributes: {
        ...Object.fromEntries(kept),
        [DEAD_LETTER_ATTRIBUTES.reason]: `${reason}: ${detail}`.slice(0, 1000),
        [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: message.messageId,
        [DEAD_LETTER_ATTRIBUTES.receiveCount]: String(message.receiveCount),
        [DEAD_LETTER_ATTRIBUTES.at]: new Date(this.o.now()).toISOString(),
      },
    };
    if (deadLetter.fifo && !options.groupId) options.groupId = 'infraai-dead-letter';
    try {
      try {
        await deadLetter.send(message.body, options);
      } catch (err) {
        // The body at SQS's limit leaves no room for the reason: the message goes without it (the log has it).
        if (!(err instanceof QueueMessageRejectedError)) throw err;
        await deadLetter.send(message.body, { ...options, attributes: { [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: message.messageId } });
      }
    } catch (err) {
      log('error', 'could not move a message to the dead-letter queue; left for later', {
        ...this.fields(held),
        reason,
        error: errorText(err),
      });
      return this.leave(held, 'dead_letter_failed', errorText(err));
    }
    telemetry.deadLettered(reason);
    log('error', 'moved to the dead-letter queue', { ...this.fields(held), reason, detail: detail.slice(0, 1000) });
    const removed = await this.remove(held, false);
    return removed === 'done' ? 'done' : removed;
  }

  // ---- visibility ----------------------------------------------------------------------------

  /** Every held message stays invisible for another visibility timeout; one that cannot is no longer ours. */
  private async heartbeat(): Promise<void> {
    if (this.heartbeatRunning) return;
    this.heartbeatRunning = true;
    try {
      const targets = [...this.held.values()].filter((h) => !h.lost && !h.settling);
      await Promise.all(
        targets.map(async (held) => {
          try {
            await this.o.queue.extendVisibility(held.message.receiptHandle, this.o.visibilitySeconds);
          } catch (err) {
            if (held.settling || !this.held.has(held.message.receiptHandle)) return; // finished meanwhile
            if (err instanceof QueueMessageNotFoundError || err instanceof QueueMessageRejectedError) {
              // Deleted elsewhere, or past SQS's 12 hours in flight: it will be (or was) delivered again.
              held.lost = true;
              this.o.log('warn', 'lost hold of a message (its visibility could not be extended)', {
                ...this.fields(held),
                error: errorText(err),
              });
            } else {
              this.o.log('warn', 'could not extend a message’s visibility; trying again at the next beat', {
                ...this.fields(held),
                error: errorText(err),
              });
            }
          }
        }),
      );
    } finally {
      this.heartbeatRunning = false;
    }
  }

  // ---- waking --------------------------------------------------------------------------------

  private wake(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves at the next change (a message finished, Temporal back, stopping) or after `ms`. */
  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(
        () => {
          this.changeWaiters = this.changeWaiters.filter((w) => w !== waiter);
          resolve();
        },
        Math.max(0, ms),
      );
      this.changeWaiters.push(waiter);
    });
  }
}
