// The run-event bus port: a wake-up call that a tenant's runs have new events in the store. It
// carries no event data: subscribers read the events from the store after the last one they sent,
// so a lost or repeated notification delays a stream at worst and never makes a gap or a duplicate.
// memory.ts serves one process; postgres.ts (LISTEN/NOTIFY) and redis.ts (pub/sub) span processes.

export interface RunEventNotice {
  tenantId: string;
  family: string;
  runId: string;
  /** The newest run seq and tenant seq now in the store. */
  seq: number;
  tenantSeq: number;
  /**
   * Set on the notice a bus sends every listener after it lost and regained its connection
   * (notices may have been missed meanwhile): the listener re-reads the store.
   */
  resync?: true;
}

export interface RunEventBus {
  readonly kind: 'memory' | 'postgres' | 'redis';
  /** Announces events already committed to the store. */
  publish(notice: RunEventNotice): Promise<void>;
  /** Calls `listener` for every notice of the tenant until the returned function is called. */
  subscribe(tenantId: string, listener: (notice: RunEventNotice) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
