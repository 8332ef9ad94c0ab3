import { describe, expect, it } from 'vitest';
import { MemoryRunEventBus } from '../../adapters/events/memory.js';
import type { RunEventBus, RunEventNotice } from '../../adapters/events/port.js';
import { RunReadCache } from '../../api/run-read-cache.js';

// The read cache in front of GET /incidents/{id}: a hot run is read from the store once per TTL at
// most, any notice of a change to the run drops it at once, and a read that raced a change is
// never kept.

const notice = (runId: string, extra: Partial<RunEventNotice> = {}): RunEventNotice => ({
  tenantId: 't1',
  family: 'incident',
  runId,
  seq: 1,
  tenantSeq: 1,
  ...extra,
});

/** Lets the memory bus deliver what was published (it emits in a microtask, as a network would). */
const delivered = () => new Promise((resolve) => setTimeout(resolve, 0));

function counter(values: string[]) {
  let loads = 0;
  return {
    get loads() {
      return loads;
    },
    load: async () => values[Math.min(loads++, values.length - 1)]!,
  };
}

describe('run read cache', () => {
  it('answers repeated reads from memory until the TTL runs out', async () => {
    let now = 1_000;
    const cache = new RunReadCache<string>(new MemoryRunEventBus(), 1000, 100, () => now);
    const source = counter(['v1', 'v2']);
    expect(await cache.read('t1', 'incident', 'r1', source.load)).toBe('v1');
    expect(await cache.read('t1', 'incident', 'r1', source.load)).toBe('v1');
    now += 999;
    expect(await cache.read('t1', 'incident', 'r1', source.load)).toBe('v1');
    expect(source.loads).toBe(1);
    now += 1;
    expect(await cache.read('t1', 'incident', 'r1', source.load)).toBe('v2');
    expect(source.loads).toBe(2);
  });

  it('drops a run as soon as the bus says it changed, and only that run', async () => {
    const bus = new MemoryRunEventBus();
    const cache = new RunReadCache<string>(bus, 60_000);
    const one = counter(['one v1', 'one v2']);
    const two = counter(['two v1', 'two v2']);
    await cache.read('t1', 'incident', 'r1', one.load);
    await cache.read('t1', 'incident', 'r2', two.load);
    await bus.publish(notice('r1'));
    await delivered();
    expect(await cache.read('t1', 'incident', 'r1', one.load)).toBe('one v2');
    expect(await cache.read('t1', 'incident', 'r2', two.load)).toBe('two v1');
  });

  it('never keeps a read that a change overtook while it loaded', async () => {
    const bus = new MemoryRunEventBus();
    const cache = new RunReadCache<string>(bus, 60_000);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = cache.read('t1', 'incident', 'r1', async () => {
      await gate;
      return 'read before the change';
    });
    await delivered();
    await bus.publish(notice('r1'));
    await delivered();
    release();
    expect(await slow).toBe('read before the change');
    expect(await cache.read('t1', 'incident', 'r1', async () => 'after the change')).toBe('after the change');
  });

  it('drops every run of the tenant on a resync (notices may have been lost), and a local change drops its run', async () => {
    const bus = new MemoryRunEventBus();
    const cache = new RunReadCache<string>(bus, 60_000);
    const one = counter(['v1', 'v2', 'v3']);
    await cache.read('t1', 'incident', 'r1', one.load);
    await bus.publish(notice('', { resync: true }));
    await delivered();
    expect(await cache.read('t1', 'incident', 'r1', one.load)).toBe('v2');
    cache.invalidate('t1', 'incident', 'r1');
    expect(await cache.read('t1', 'incident', 'r1', one.load)).toBe('v3');
  });

  it('keeps nothing without a bus, with a TTL of 0, when the value is not to be kept, or when the bus refuses', async () => {
    const refusing: RunEventBus = {
      kind: 'memory',
      publish: async () => undefined,
      subscribe: async () => {
        throw new Error('bus down');
      },
      close: async () => undefined,
    };
    for (const cache of [
      new RunReadCache<string>(undefined, 60_000),
      new RunReadCache<string>(new MemoryRunEventBus(), 0),
      new RunReadCache<string>(refusing, 60_000),
    ]) {
      const source = counter(['v1', 'v2']);
      await cache.read('t1', 'incident', 'r1', source.load);
      expect(await cache.read('t1', 'incident', 'r1', source.load)).toBe('v2');
    }
    const cache = new RunReadCache<string>(new MemoryRunEventBus(), 60_000);
    const live = counter(['live 1', 'live 2']);
    await cache.read('t1', 'incident', 'r1', live.load, () => false);
    expect(await cache.read('t1', 'incident', 'r1', live.load)).toBe('live 2');
  });

  it('keeps tenants apart: the same run id of another tenant is another entry', async () => {
    const cache = new RunReadCache<string>(new MemoryRunEventBus(), 60_000);
    expect(await cache.read('t1', 'incident', 'r1', async () => 'tenant one')).toBe('tenant one');
    expect(await cache.read('t2', 'incident', 'r1', async () => 'tenant two')).toBe('tenant two');
    expect(await cache.read('t1', 'incident', 'r1', async () => 'reloaded')).toBe('tenant one');
  });
});
