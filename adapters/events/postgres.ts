import pg from 'pg';
import { parseNotice, TenantFanout } from './fanout.js';
import type { RunEventBus, RunEventNotice } from './port.js';

/** Every InfraAI process on the database listens on one channel; notices are filtered by tenant here. */
export const RUN_EVENTS_CHANNEL = 'infraai_run_events';
const MAX_BACKOFF_MS = 5_000;

export interface PostgresBusOptions {
  connectionString: string;
  channel?: string;
  /** Called with connection trouble (the bus keeps reconnecting on its own). */
  onError?: (err: Error) => void;
}

/**
 * Notices over PostgreSQL LISTEN/NOTIFY: no extra service when the store already is PostgreSQL.
 * One dedicated connection listens (opened on the first subscription, redialled with backoff when
 * it drops, every listener then told to resync); notices are sent through a small pool.
 */
export class PostgresRunEventBus implements RunEventBus {
  readonly kind = 'postgres' as const;
  private readonly fanout = new TenantFanout();
  private readonly channel: string;
  private readonly pool: pg.Pool;
  private listener: pg.Client | null = null;
  private listening: Promise<void> | null = null;
  private closed = false;
  private backoffMs = 100;

  constructor(private readonly options: PostgresBusOptions) {
    this.channel = options.channel ?? RUN_EVENTS_CHANNEL;
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: 2, connectionTimeoutMillis: 5_000 });
    this.pool.on('error', (err) => this.options.onError?.(err));
  }

  async publish(notice: RunEventNotice): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify(notice)]);
  }

  async subscribe(tenantId: string, listener: (notice: RunEventNotice) => void): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('The run-event bus is closed.');
    const remove = this.fanout.add(tenantId, listener);
    try {
      await this.ensureListening();
    } catch (err) {
      remove();
      throw err;
    }
    return async () => void remove();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.fanout.clear();
    const client = this.listener;
    this.listener = null;
    await Promise.allSettled([client?.end(), this.pool.end()]);
  }

  /** Resolves once LISTEN is in effect, so nothing published after subscribe() returns is missed. */
  private ensureListening(): Promise<void> {
    this.listening ??= this.listen().catch((err: unknown) => {
      this.listening = null;
      throw err;
    });
    return this.listening;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString, connectionTimeoutMillis: 5_000 });
    client.on('notification', (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      const notice = parseNotice(message.payload);
      if (notice) this.fanout.emit(notice);
    });
    const lost = (err?: Error) => {
      if (this.listener !== client) return;
      this.listener = null;
      this.listening = null;
      if (err) this.options.onError?.(err);
      client.end().catch(() => undefined);
      this.redial();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    // Identifiers cannot be bound as parameters; the channel is a constant of ours, quoted anyway.
    await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
    this.listener = client;
    this.backoffMs = 100;
  }

  private redial(): void {
    if (this.closed) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    setTimeout(() => {
      if (this.closed || this.fanout.tenants().length === 0) return;
      this.ensureListening().then(
        () => this.fanout.resyncAll(),
        () => this.redial(),
      );
    }, delay).unref();
  }
}
