import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { RunEventBus, RunEventNotice } from '../adapters/events/port.js';
import type { Store } from '../adapters/store/port.js';
import type { RunEvent, RunFamily } from '../core/contracts/run-events.js';

/** The largest seq a run's event can have (the column is a 32-bit integer). */
const MAX_RUN_EVENT_SEQ = 2_147_483_647;

// Server-Sent Events of run events, read from the store (the projection's event log) after the
// last id the client has: the bus only says "look again", so a lost or repeated notice can delay
// an event but never drop or repeat one, and a reconnect with Last-Event-ID resumes exactly.

export interface RunEventStreamOptions<E extends { type: string } = RunEvent> {
  tenantId: string;
  /** Absent: no wake-ups, the stream polls the store every `pollMs`. */
  bus: RunEventBus | undefined;
  /** The last id the client has (0: from the beginning). */
  after: number;
  /** The stream's id of an event: a run's seq, or the tenant's sequence number. */
  idOf(event: E): number;
  read(after: number, limit: number): Promise<E[]>;
  /** What a client receives for one event (default: a run event without its tenant). */
  wire?(event: E): unknown;
  /** Which notices concern this stream. */
  concerns(notice: RunEventNotice): boolean;
  /** True when nothing more will come (checked when a read found nothing new). */
  finished?(after: number): Promise<boolean>;
  maxStreamMs: number;
  /** The safety net under the bus: how often the store is read without a notice. */
  pollMs?: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs?: number;
}

const BATCH = 200;

/** What a client receives for one event: the store's row without the tenant. */
export function toWireEvent({ tenantId: _tenantId, ...event }: RunEvent) {
  return event;
}

export function streamRunEvents<E extends { type: string } = RunEvent>(c: Context, options: RunEventStreamOptions<E>): Response {
  const { pollMs = 2000, heartbeatMs = 15_000 } = options;
  const wire = options.wire ?? ((event: E) => toWireEvent(event as unknown as RunEvent));
  c.header('x-accel-buffering', 'no');
  return streamSSE(c, async (stream) => {
    let wake: (() => void) | null = null;
    let notified = false;
    let aborted = false;
    stream.onAbort(() => {
      aborted = true;
      wake?.();
    });
    // Subscribe before the first read: a notice between the read and the wait is not missed.
    const unsubscribe = options.bus
      ? await options.bus.subscribe(options.tenantId, (notice) => {
          if (!notice.resync && !options.concerns(notice)) return;
          notified = true;
          wake?.();
        })
      : async () => undefined;
    const deadline = Date.now() + options.maxStreamMs;
    let last = options.after;
    let lastWrite = Date.now();
    try {
      await stream.writeSSE({ event: 'ready', data: JSON.stringify({ after: last }), retry: 2000 });
      while (!aborted && Date.now() < deadline) {
        notified = false;
        const events = await options.read(last, BATCH);
        for (const event of events) {
          await stream.writeSSE({ id: String(options.idOf(event)), event: event.type, data: JSON.stringify(wire(event)) });
          last = options.idOf(event);
          lastWrite = Date.now();
        }
        if (events.length === BATCH) continue;
        if (options.finished && (await options.finished(last))) return;
        if (notified || aborted) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, Math.min(pollMs, deadline - Date.now())));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
        if (!aborted && Date.now() - lastWrite >= heartbeatMs) {
          await stream.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
      }
    } finally {
      await unsubscribe();
    }
  });
}

/**
 * One run's events (ids: the run's seq), ending once the client has the run's final event. A run
 * that has no projection (it ended before projections existed, or never started) is finished when
 * `endedWithoutProjection` says so.
 */
export function streamOneRun(
  c: Context,
  options: {
    store: Store;
    bus: RunEventBus | undefined;
    tenantId: string;
    family: RunFamily;
    runId: string;
    after: number;
    maxStreamMs: number;
    endedWithoutProjection(): Promise<boolean>;
  },
): Response {
  const { store, tenantId, family, runId } = options;
  return streamRunEvents(c, {
    tenantId,
    bus: options.bus,
    after: options.after,
    idOf: (event) => event.seq,
    // A run's events are numbered with 32-bit integers: an id past the largest one has nothing after it.
    read: (after, limit) => store.runs.eventsOfRun(tenantId, family, runId, Math.min(after, MAX_RUN_EVENT_SEQ), limit),
    concerns: (notice) => notice.family === family && notice.runId === runId,
    finished: async (after) => {
      const projection = await store.runs.get(tenantId, family, runId);
      return projection ? projection.ended && after >= projection.version : options.endedWithoutProjection();
    },
    maxStreamMs: options.maxStreamMs,
  });
}
