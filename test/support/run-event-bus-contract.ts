import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEventBus, RunEventNotice } from '../../adapters/events/port.js';

// One contract for the run-event bus port: every adapter (memory, PostgreSQL, Redis) passes it.

export interface BusContractOptions {
  /** Opens another instance on the same backend, as another process would (absent for memory). */
  openPeer?: () => Promise<RunEventBus>;
  /** Cuts the backend connection(s) the bus listens on, as a network failure or a restart would. */
  cutConnection?: () => Promise<void>;
}

const notice = (tenantId: string, seq: number): RunEventNotice => ({
  tenantId,
  family: 'incident',
  runId: randomUUID(),
  seq,
  tenantSeq: seq,
});

/** Collects what a listener hears and lets a test wait for the first notice matching `predicate`. */
function recorder() {
  const heard: RunEventNotice[] = [];
  const waiters: { predicate: (n: RunEventNotice) => boolean; resolve: (n: RunEventNotice) => void }[] = [];
  return {
    heard,
    listener: (n: RunEventNotice) => {
      heard.push(n);
      for (const waiter of waiters.filter((w) => w.predicate(n))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(n);
      }
    },
    next(predicate: (n: RunEventNotice) => boolean, what: string, timeoutMs = 10_000): Promise<RunEventNotice> {
      const found = heard.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no notice: ${what}`)), timeoutMs);
        waiters.push({ predicate, resolve: (n) => (clearTimeout(timer), resolve(n)) });
      });
    },
  };
}

export function describeRunEventBusContract(name: string, open: () => Promise<RunEventBus>, options: BusContractOptions = {}): void {
  describe(`run-event bus contract: ${name}`, () => {
    const opened: RunEventBus[] = [];
    const track = async (bus: Promise<RunEventBus>) => {
      const b = await bus;
      opened.push(b);
      return b;
    };
    afterAll(async () => {
      for (const bus of opened) await bus.close();
    });

    it('delivers a notice to every listener of its tenant and to no other tenant', async () => {
      const bus = await track(open());
      const [tenant, other] = [randomUUID(), randomUUID()];
      const [first, second, elsewhere] = [recorder(), recorder(), recorder()];
      await bus.subscribe(tenant, first.listener);
      await bus.subscribe(tenant, second.listener);
      await bus.subscribe(other, elsewhere.listener);
      const sent = notice(tenant, 1);
      await bus.publish(sent);
      expect(await first.next((n) => n.runId === sent.runId, 'first listener')).toEqual(sent);
      expect(await second.next((n) => n.runId === sent.runId, 'second listener')).toEqual(sent);
      // A notice for the other tenant, sent after: once it arrived, the first one would have too.
      const marker = notice(other, 2);
      await bus.publish(marker);
      await elsewhere.next((n) => n.runId === marker.runId, 'the other tenant’s own notice');
      expect(elsewhere.heard.map((n) => n.runId)).toEqual([marker.runId]);
    });

    it('stops delivering after unsubscribe, and a throwing listener does not silence the others', async () => {
      const bus = await track(open());
      const tenant = randomUUID();
      const [kept, dropped] = [recorder(), recorder()];
      await bus.subscribe(tenant, () => {
        throw new Error('a broken subscriber');
      });
      const unsubscribe = await bus.subscribe(tenant, dropped.listener);
      await bus.subscribe(tenant, kept.listener);
      await unsubscribe();
      const sent = notice(tenant, 1);
      await bus.publish(sent);
      await kept.next((n) => n.runId === sent.runId, 'the listener that stayed');
      const marker = notice(tenant, 2);
      await bus.publish(marker);
      await kept.next((n) => n.runId === marker.runId, 'the marker');
      expect(dropped.heard).toEqual([]);
    });

    it('delivers notices of one publisher in the order they were published', async () => {
      const bus = await track(open());
      const tenant = randomUUID();
      const heard = recorder();
      await bus.subscribe(tenant, heard.listener);
      const runId = randomUUID();
      for (let seq = 1; seq <= 20; seq += 1) await bus.publish({ tenantId: tenant, family: 'incident', runId, seq, tenantSeq: seq });
      await heard.next((n) => n.seq === 20, 'the 20th notice');
      expect(heard.heard.map((n) => n.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    if (options.openPeer) {
      const openPeer = options.openPeer;
      it('carries a notice from one process to another', async () => {
        const [publisher, subscriber] = [await track(open()), await track(openPeer())];
        const tenant = randomUUID();
        const heard = recorder();
        await subscriber.subscribe(tenant, heard.listener);
        const sent = notice(tenant, 7);
        await publisher.publish(sent);
        expect(await heard.next((n) => n.runId === sent.runId, 'the peer’s notice')).toEqual(sent);
      });
    }

    if (options.cutConnection) {
      const cut = options.cutConnection;
      it('after its connection is cut, tells listeners to resync and delivers again', async () => {
        const [publisher, subscriber] = [await track(open()), await track(options.openPeer ? options.openPeer() : open())];
        const tenant = randomUUID();
        const heard = recorder();
        await subscriber.subscribe(tenant, heard.listener);
        await cut();
        const resync = await heard.next((n) => n.resync === true, 'a resync notice after reconnecting', 20_000);
        expect(resync.tenantId).toBe(tenant);
        const sent = notice(tenant, 9);
        await publisher.publish(sent);
        expect(await heard.next((n) => n.runId === sent.runId, 'a notice after the reconnection')).toEqual(sent);
      });
    }
  });
}
