import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  QueueMessageNotFoundError,
  type DeleteBatchResult,
  type EventQueue,
  type QueueDescription,
  type QueueStats,
  type ReceivedMessage,
  type ReceiveOptions,
  type SendOptions,
  type SentMessage,
} from '../../adapters/queue/port.js';
import type { BridgeTelemetry } from '../../adapters/telemetry/port.js';
import { SqsBridge, type BridgeOptions } from '../../bridge/bridge.js';
import type { BridgeLog } from '../../bridge/log.js';
import type { TenantResolver } from '../../bridge/tenants.js';
import type { PagerDutyEventEnvelope } from '../../core/ingress/pagerduty.js';
import { RelayUnavailableError, type PagerDutyRelayer, type RelayOutcome } from '../../ingress/pagerduty-relay.js';

// The bridge's decisions against an in-memory queue that keeps SQS's rules that matter here
// (visibility, receive counts, receipt handles that change with each receive, FIFO groups locked
// while one of their messages is in flight), on a clock where a queue second lasts 20 ms. The same
// promises against moto and a real Temporal, with real processes: test/integration/sqs-bridge.test.ts.

const SECOND = 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Stored {
  id: string;
  body: string;
  groupId: string | null;
  attributes: Record<string, string>;
  visibleAt: number;
  receiveCount: number;
  receipt: string | null;
  deleted: boolean;
}

class MemoryQueue implements EventQueue {
  readonly url: string;
  readonly messages: Stored[] = [];
  receives = 0;
  /** Single deletes and batch deletes called, and the size of each batch. */
  deletes = 0;
  batchSizes: number[] = [];
  /** A batch entry for a message whose body contains this text fails once (as an expired handle would). */
  failEntryOnce: string | null = null;
  constructor(
    readonly fifo: boolean,
    private readonly redrive: QueueDescription['redrive'] = null,
  ) {
    this.url = `memory://${randomUUID()}${fifo ? '.fifo' : ''}`;
  }

  send(body: string, options: SendOptions = {}): Promise<SentMessage> {
    const id = randomUUID();
    this.messages.push({
      id,
      body,
      groupId: this.fifo ? (options.groupId ?? null) : null,
      attributes: { ...options.attributes },
      visibleAt: 0,
      receiveCount: 0,
      receipt: null,
      deleted: false,
    });
    return Promise.resolve({ messageId: id, sequenceNumber: null });
  }

  /** Receives open at this moment, and the most seen at once. */
  openReceives = 0;
  mostOpenReceives = 0;

  async receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    this.openReceives += 1;
    this.mostOpenReceives = Math.max(this.mostOpenReceives, this.openReceives);
    try {
      return await this.receiveNow(options);
    } finally {
      this.openReceives -= 1;
    }
  }

  private async receiveNow({ max, waitSeconds, visibilitySeconds, signal }: ReceiveOptions): Promise<ReceivedMessage[]> {
    this.receives += 1;
    const until = Date.now() + waitSeconds * SECOND;
    for (;;) {
      if (signal?.aborted) return [];
      const now = Date.now();
      const live = this.messages.filter((m) => !m.deleted);
      const locked = new Set(live.filter((m) => m.visibleAt > now && m.receipt).map((m) => m.groupId));
      const out: ReceivedMessage[] = [];
      for (const m of live) {
        if (out.length >= max) break;
        if (m.visibleAt > now || (this.fifo && locked.has(m.groupId))) continue;
        m.receiveCount += 1;
        m.receipt = randomUUID();
        m.visibleAt = now + visibilitySeconds * SECOND;
        out.push({
          messageId: m.id,
          receiptHandle: m.receipt,
          body: m.body,
          receiveCount: m.receiveCount,
          groupId: m.groupId,
          deduplicationId: null,
          sentAt: null,
          attributes: { ...m.attributes },
        });
      }
      if (out.length > 0 || now >= until) return out;
      await sleep(5);
    }
  }

  private byReceipt(receipt: string): Stored {
    const m = this.messages.find((x) => x.receipt === receipt && !x.deleted);
    if (!m) throw new QueueMessageNotFoundError(`no delivery ${receipt}`);
    return m;
  }

  delete(receipt: string): Promise<void> {
    this.deletes += 1;
    try {
      this.byReceipt(receipt).deleted = true;
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  deleteBatch(receipts: string[]): Promise<DeleteBatchResult> {
    if (receipts.length < 1 || receipts.length > 10) return Promise.reject(new Error(`batch of ${receipts.length}`));
    this.batchSizes.push(receipts.length);
    const failed: DeleteBatchResult['failed'] = [];
    for (const receipt of receipts) {
      const m = this.messages.find((x) => x.receipt === receipt && !x.deleted);
      if (!m) failed.push({ receiptHandle: receipt, reason: 'ReceiptHandleIsInvalid' });
      else if (this.failEntryOnce !== null && m.body.includes(this.failEntryOnce)) {
        this.failEntryOnce = null;
        // The delivery is not deleted: its visibility runs out and it comes again.
        failed.push({ receiptHandle: receipt, reason: 'ReceiptHandleIsInvalid: expired' });
      } else m.deleted = true;
    }
    return Promise.resolve({ failed });
  }

  extendVisibility(receipt: string, seconds: number): Promise<void> {
    try {
      const m = this.byReceipt(receipt);
      // As SQS: a delivery whose visibility ran out is no longer in flight with its consumer.
      if (m.visibleAt <= Date.now()) throw new QueueMessageNotFoundError('message not in flight');
      m.visibleAt = Date.now() + seconds * SECOND;
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  removeById(): Promise<boolean> {
    return Promise.resolve(false);
  }

  stats(): Promise<QueueStats> {
    const live = this.messages.filter((m) => !m.deleted);
    const now = Date.now();
    return Promise.resolve({
      visible: live.filter((m) => m.visibleAt <= now).length,
      inFlight: live.filter((m) => m.visibleAt > now).length,
      delayed: 0,
      deadLetter: null,
    });
  }

  describe(): Promise<QueueDescription> {
    return Promise.resolve({ visibilitySeconds: 30, redrive: this.redrive });
  }

  close(): void {}

  live(): Stored[] {
    return this.messages.filter((m) => !m.deleted);
  }
}

const quietTelemetry: BridgeTelemetry = {
  received() {},
  polled() {},
  pollFailed() {},
  relayed() {},
  relayFailed() {},
  deleted() {},
  deadLettered() {},
  left() {},
  inFlight() {},
  temporalAvailable() {},
  render: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
};

const tenants: TenantResolver = { resolve: () => Promise.resolve({ ok: true, tenantId: 't-1', tenantSlug: 'default' }) };

function event(incident: string, type: string, id = randomUUID().slice(0, 12)): PagerDutyEventEnvelope {
  return {
    event: {
      id,
      event_type: type,
      resource_type: 'incident',
      occurred_at: '2026-12-06T10:00:00Z',
      data: type === 'incident.annotated' ? { type: 'incident_note', incident: { id: incident } } : { id: incident, type: 'incident' },
    },
  };
}

const send = (q: MemoryQueue, e: PagerDutyEventEnvelope) =>
  q.send(JSON.stringify(e), { groupId: (e.event.data.id as string | undefined) ?? (e.event.data.incident as { id: string }).id });

/** A relayer that records every call and answers through `answer` (default: accepted). */
function scriptedRelayer(
  answer: (e: PagerDutyEventEnvelope, call: number) => Promise<RelayOutcome> | RelayOutcome = () => ({
    kind: 'signalled',
    workflowId: 'pd-x',
  }),
) {
  const calls: string[] = [];
  const relayer: PagerDutyRelayer = {
    relay: async (envelope) => {
      calls.push(envelope.event.id);
      return answer(envelope, calls.length);
    },
  };
  return { relayer, calls };
}

const bridges: SqsBridge[] = [];
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
});

function startBridge(options: Partial<BridgeOptions> & Pick<BridgeOptions, 'queue' | 'relayer'>): {
  bridge: SqsBridge;
  logs: { level: string; msg: string; fields: Record<string, unknown> }[];
} {
  const logs: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const log: BridgeLog = (level, msg, fields = {}) => logs.push({ level, msg, fields });
  const bridge = new SqsBridge({
    deadLetter: null,
    tenants,
    telemetry: quietTelemetry,
    log,
    concurrency: 4,
    waitSeconds: 1,
    visibilitySeconds: 10,
    maxAttempts: 5,
    shutdownGraceMs: 2000,
    holdBackoffMs: { initial: 5, max: 20 },
    leaveBackoffSeconds: { initial: 2, max: 20 },
    msPerSecond: SECOND,
    ...options,
  });
  bridges.push(bridge);
  void bridge.start();
  return { bridge, logs };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('the SQS bridge', () => {
  it('keeps a message invisible while its relay outlasts the visibility timeout: received once, relayed once', async () => {
    const q = new MemoryQueue(false);
    const e = event('PA', 'incident.triggered');
    await send(q, e);
    // Three visibility timeouts of work.
    const { relayer, calls } = scriptedRelayer(async () => {
      await sleep(30 * SECOND);
      return { kind: 'started', workflowId: 'pd-PA', runId: 'r' };
    });
    startBridge({ queue: q, relayer, visibilitySeconds: 10 });
    await until(() => q.live().length === 0, 'the message deleted');
    expect(calls).toEqual([e.event.id]);
    expect(q.messages[0]!.receiveCount).toBe(1);
  });

  it('FIFO: a message left for later holds back the rest of its group, which follows it in order', async () => {
    const q = new MemoryQueue(true);
    const first = event('PB', 'incident.acknowledged');
    const second = event('PB', 'incident.annotated');
    const other = event('PC', 'incident.resolved');
    for (const e of [first, second, other]) await send(q, e);
    const { relayer, calls } = scriptedRelayer((e, call) => {
      if (e.event.id === first.event.id && call === 1) throw new Error('INVALID_ARGUMENT: refused once');
      return { kind: 'signalled', workflowId: 'pd-x' };
    });
    const { logs } = startBridge({ queue: q, relayer });
    await until(() => q.live().length === 0, 'every message deleted');
    // The group's second message never went before its first; the other group did not wait.
    const group = calls.filter((id) => id !== other.event.id);
    expect(group).toEqual([first.event.id, first.event.id, second.event.id]);
    expect(calls.indexOf(other.event.id)).toBeLessThan(calls.lastIndexOf(first.event.id));
    expect(logs.find((l) => l.msg === 'left on the queue for a later delivery')?.fields).toMatchObject({
      reason: 'relay_error',
      backoff_s: 2,
    });
    expect(logs.some((l) => l.msg === 'released the rest of the group behind a message left for later')).toBe(true);
  });

  it('holds its messages while Temporal is down (no receive count spent, no new receive), and relays them when it is back', async () => {
    const q = new MemoryQueue(false);
    const held = event('PD', 'incident.triggered');
    await send(q, held);
    let down = true;
    const { relayer, calls } = scriptedRelayer(() => {
      if (down) throw new RelayUnavailableError('Temporal did not accept the event: 14 UNAVAILABLE');
      return { kind: 'started', workflowId: 'pd-PD', runId: 'r' };
    });
    const { bridge } = startBridge({ queue: q, relayer });
    await until(() => calls.length >= 3 && bridge.health().state === 'paused', 'a few failed relays, and polling paused');
    expect(bridge.health()).toMatchObject({ live: true, temporalAvailable: false });
    const later = event('PE', 'incident.triggered');
    await send(q, later);
    const receives = q.receives;
    await sleep(30 * SECOND); // longer than three visibility timeouts
    expect(q.receives).toBe(receives); // paused: nothing new received while it cannot be relayed
    expect(calls.every((id) => id === held.event.id)).toBe(true);
    down = false;
    await until(() => q.live().length === 0, 'both relayed');
    expect(q.messages.map((m) => m.receiveCount)).toEqual([1, 1]);
    expect(bridge.health().temporalAvailable).toBe(true);
  });

  it('stops treating "unavailable" as an outage for a message that keeps failing while others get through', async () => {
    const q = new MemoryQueue(false);
    const poison = event('PF', 'incident.triggered');
    const fine = event('PG', 'incident.triggered');
    await send(q, poison);
    await send(q, fine);
    const dead: string[] = [];
    const deadLetter = new MemoryQueue(false);
    const { relayer } = scriptedRelayer((e) => {
      if (e.event.id === poison.event.id) throw new RelayUnavailableError('13 INTERNAL: payload this server cannot take');
      return { kind: 'started', workflowId: 'pd-PG', runId: 'r' };
    });
    // Temporal answers its probe: the poison's "unavailable" is its own, not an outage.
    startBridge({ queue: q, relayer, deadLetter, maxAttempts: 2, temporalProbe: () => Promise.resolve() });
    await until(() => q.live().length === 0, 'the queue drained', 8000);
    dead.push(...deadLetter.live().map((m) => m.attributes['infraai.dlq.reason']!));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatch(/^relay_failed: relay failed: Temporal did not accept|^relay_failed: relay failed: 13 INTERNAL/);
  });

  it('on a standard queue, gives a signal that found no run another delivery or two (its trigger may be behind it)', async () => {
    const q = new MemoryQueue(false);
    const update = event('PH', 'incident.acknowledged');
    await send(q, update);
    const { relayer, calls } = scriptedRelayer((_, call) =>
      call === 1 ? { kind: 'no_run', workflowId: 'pd-PH', reason: 'no open run' } : { kind: 'signalled', workflowId: 'pd-PH' },
    );
    const { logs } = startBridge({ queue: q, relayer });
    await until(() => q.live().length === 0, 'the message deleted');
    expect(calls).toHaveLength(2);
    expect(logs.find((l) => l.msg === 'left on the queue for a later delivery')?.fields).toMatchObject({ reason: 'no_run_unordered' });
  });

  it('acknowledges a signal with no run at once on a FIFO queue (order is the queue’s), and logs it', async () => {
    const q = new MemoryQueue(true);
    const update = event('PI', 'incident.resolved');
    await send(q, update);
    const { relayer, calls } = scriptedRelayer(() => ({
      kind: 'no_run',
      workflowId: 'pd-PI',
      reason: 'incident.resolved: no open run pd-PI',
    }));
    const { logs } = startBridge({ queue: q, relayer });
    await until(() => q.live().length === 0, 'the message deleted');
    expect(calls).toHaveLength(1);
    expect(logs.find((l) => l.msg === 'acknowledged without a run')?.fields).toMatchObject({
      event_id: update.event.id,
      outcome: 'no_run',
      reason: 'incident.resolved: no open run pd-PI',
    });
  });

  it('dead-letters text that is not JSON with a reason that quotes none of it', async () => {
    const q = new MemoryQueue(false);
    const deadLetter = new MemoryQueue(false);
    await q.send('secret-token-4711 is not an event', { attributes: { 'infraai.tenant': 't-1' } });
    const { relayer, calls } = scriptedRelayer();
    const { logs } = startBridge({ queue: q, relayer, deadLetter });
    await until(() => q.live().length === 0, 'the message moved');
    expect(calls).toEqual([]);
    const [dead] = deadLetter.live();
    expect(dead!.body).toBe('secret-token-4711 is not an event');
    expect(dead!.attributes).toMatchObject({ 'infraai.tenant': 't-1', 'infraai.dlq.reason': 'unparseable: not JSON (33 bytes)' });
    expect(JSON.stringify(logs)).not.toContain('secret-token');
  });

  it('without a dead-letter queue, leaves a poison message on the queue (for the redrive policy) instead of deleting it', async () => {
    const q = new MemoryQueue(false);
    await q.send('not json');
    const { relayer } = scriptedRelayer();
    const { logs } = startBridge({ queue: q, relayer, deadLetter: null });
    await until(() => logs.some((l) => l.msg === 'left on the queue for a later delivery'), 'the message left');
    expect(q.live()).toHaveLength(1);
    expect(logs.find((l) => l.level === 'error')?.msg).toMatch(/no dead-letter queue is configured/);
  });

  it('never leaves a message past the redrive policy’s maxReceiveCount: moves it itself, with its reason, before the queue does', async () => {
    const q = new MemoryQueue(false, { deadLetterTargetArn: 'arn:aws:sqs:us-east-1:1:dlq', maxReceiveCount: 2 });
    const deadLetter = new MemoryQueue(false);
    await send(q, event('PJ', 'incident.triggered'));
    const { relayer, calls } = scriptedRelayer(() => {
      throw new Error('INVALID_ARGUMENT: refused');
    });
    startBridge({ queue: q, relayer, deadLetter, maxAttempts: 5 });
    await until(() => q.live().length === 0, 'the message moved', 8000);
    expect(calls).toHaveLength(2);
    expect(deadLetter.live()[0]!.attributes['infraai.dlq.reason']).toMatch(/\(receive 2 of 2\)$/);
  });

  it('at shutdown finishes what it holds, and releases at once what outlasts the grace', async () => {
    const q = new MemoryQueue(false);
    const quick = event('PK', 'incident.triggered');
    const stuck = event('PL', 'incident.triggered');
    await send(q, quick);
    await send(q, stuck);
    let unblock: () => void = () => {};
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    const { relayer, calls } = scriptedRelayer(async (e) => {
      if (e.event.id === stuck.event.id) await blocked;
      else await sleep(3 * SECOND);
      return { kind: 'started', workflowId: 'pd-x', runId: 'r' };
    });
    const { bridge } = startBridge({ queue: q, relayer, shutdownGraceMs: 300 });
    await until(() => calls.length === 2, 'both relays under way');
    const { released } = await bridge.stop();
    expect(released).toBe(1);
    const left = q.live();
    expect(left.map((m) => JSON.parse(m.body).event.id)).toEqual([stuck.event.id]);
    expect(left[0]!.visibleAt).toBeLessThanOrEqual(Date.now()); // visible again now, for the next bridge
    unblock();
  });

  it('keeps several receives open with several pollers, and each message is still relayed once', async () => {
    const q = new MemoryQueue(false);
    const { relayer, calls } = scriptedRelayer();
    startBridge({ queue: q, relayer, pollers: 3, concurrency: 8 });
    await until(() => q.openReceives === 3, 'three long polls open');
    const events = Array.from({ length: 30 }, (_, i) => event(`PP${i}`, 'incident.triggered'));
    for (const e of events) await send(q, e);
    await until(() => q.live().length === 0, 'every message deleted');
    expect(q.mostOpenReceives).toBe(3);
    expect([...calls].sort()).toEqual(events.map((e) => e.event.id).sort());
  });

  it('deletes the relayed messages in batches: ten messages, one DeleteMessageBatch, no single delete', async () => {
    const q = new MemoryQueue(false);
    const events = Array.from({ length: 10 }, (_, i) => event(`PM${i}`, 'incident.triggered'));
    for (const e of events) await send(q, e);
    const { relayer, calls } = scriptedRelayer();
    startBridge({ queue: q, relayer, concurrency: 10 });
    await until(() => q.live().length === 0, 'every message deleted');
    expect(calls).toHaveLength(10);
    expect(q.batchSizes).toEqual([10]);
    expect(q.deletes).toBe(0);
  });

  it('logs a batch entry that failed, and relays its redelivery again', async () => {
    const q = new MemoryQueue(false);
    const unlucky = event('PN', 'incident.triggered');
    const fine = event('PO', 'incident.triggered');
    await send(q, unlucky);
    await send(q, fine);
    q.failEntryOnce = unlucky.event.id;
    const { relayer, calls } = scriptedRelayer();
    const { logs } = startBridge({ queue: q, relayer, visibilitySeconds: 2 });
    await until(() => q.live().length === 0, 'both deleted in the end', 8000);
    expect(calls.filter((id) => id === unlucky.event.id)).toHaveLength(2);
    expect(calls.filter((id) => id === fine.event.id)).toHaveLength(1);
    const warning = logs.find((l) => l.msg.startsWith('could not delete a relayed message'));
    expect(warning?.fields).toMatchObject({ event_id: unlucky.event.id, error: 'ReceiptHandleIsInvalid: expired' });
  });

  it('FIFO: with batched deletes, a group’s next message is relayed only after the previous one was deleted', async () => {
    const q = new MemoryQueue(true);
    const group = Array.from({ length: 5 }, (_, i) => event('PQ', i === 0 ? 'incident.triggered' : 'incident.annotated'));
    const others = Array.from({ length: 5 }, (_, i) => event(`PR${i}`, 'incident.triggered'));
    for (const e of [...group, ...others]) await send(q, e);
    const order: string[] = [];
    const deletedAtRelay: boolean[] = [];
    const { relayer } = scriptedRelayer((e) => {
      if (group.some((g) => g.event.id === e.event.id)) {
        const at = group.findIndex((g) => g.event.id === e.event.id);
        // Every earlier message of the group is gone from the queue by the time this one is relayed.
        deletedAtRelay.push(q.messages.slice(0, at).every((m) => m.deleted));
        order.push(e.event.id);
      }
      return { kind: 'signalled', workflowId: 'pd-PQ' };
    });
    startBridge({ queue: q, relayer, concurrency: 10 });
    await until(() => q.live().length === 0, 'every message deleted');
    expect(order).toEqual(group.map((g) => g.event.id));
    expect(deletedAtRelay).toEqual([true, true, true, true, true]);
    expect(q.deletes).toBe(0);
  });

  it('at shutdown, deletes at once what was relayed and is waiting for its batch', async () => {
    const q = new MemoryQueue(false);
    const e = event('PS', 'incident.triggered');
    await send(q, e);
    const { relayer, calls } = scriptedRelayer();
    // A linger far past the test: only the shutdown can send the delete.
    const { bridge } = startBridge({ queue: q, relayer, deleteLingerMs: 60_000 });
    await until(() => calls.length === 1, 'the relay done');
    await sleep(2 * SECOND);
    expect(q.batchSizes).toEqual([]); // relayed, its delete still waiting for company
    const { released } = await bridge.stop();
    expect(released).toBe(0);
    expect(q.live()).toHaveLength(0);
    expect(q.batchSizes).toEqual([1]);
  });
});
