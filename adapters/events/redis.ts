import { Redis } from 'ioredis';
import { parseNotice, TenantFanout } from './fanout.js';
import type { RunEventBus, RunEventNotice } from './port.js';

const CHANNEL_PREFIX = 'infraai:run-events:';

/**
 * Notices over Redis pub/sub, one channel per tenant (a process subscribes only to the tenants
 * it streams). ioredis reconnects and resubscribes by itself; after a reconnection every listener
 * is told to resync, since notices sent meanwhile are gone.
 */
export class RedisRunEventBus implements RunEventBus {
  readonly kind = 'redis' as const;
  private readonly fanout = new TenantFanout();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private wasReady = false;
  /** Tenants' SUBSCRIBE in flight or done: a second listener waits for the same reply. */
  private readonly subscriptions = new Map<string, Promise<unknown>>();

  constructor(url: string, onError?: (err: Error) => void) {
    const options = { lazyConnect: true, maxRetriesPerRequest: 3, enableOfflineQueue: true } as const;
    this.publisher = new Redis(url, options);
    this.subscriber = new Redis(url, options);
    for (const connection of [this.publisher, this.subscriber]) connection.on('error', (err: Error) => onError?.(err));
    this.subscriber.on('message', (channel: string, message: string) => {
      if (!channel.startsWith(CHANNEL_PREFIX)) return;
      const notice = parseNotice(message);
      if (notice && channel === CHANNEL_PREFIX + notice.tenantId) this.fanout.emit(notice);
    });
    this.subscriber.on('ready', () => {
      if (this.wasReady) this.fanout.resyncAll();
      this.wasReady = true;
    });
  }

  async publish(notice: RunEventNotice): Promise<void> {
    await this.publisher.publish(CHANNEL_PREFIX + notice.tenantId, JSON.stringify(notice));
  }

  async subscribe(tenantId: string, listener: (notice: RunEventNotice) => void): Promise<() => Promise<void>> {
    const remove = this.fanout.add(tenantId, listener);
    const unsubscribeIfLast = async () => {
      if (remove()) return;
      this.subscriptions.delete(tenantId);
      await this.subscriber.unsubscribe(CHANNEL_PREFIX + tenantId).catch(() => undefined);
    };
    // SUBSCRIBE's reply means the subscription is in effect; a second listener of a tenant shares it.
    let subscribed = this.subscriptions.get(tenantId);
    if (!subscribed) this.subscriptions.set(tenantId, (subscribed = this.subscriber.subscribe(CHANNEL_PREFIX + tenantId)));
    try {
      await subscribed;
    } catch (err) {
      this.subscriptions.delete(tenantId);
      await unsubscribeIfLast();
      throw err;
    }
    return unsubscribeIfLast;
  }

  async close(): Promise<void> {
    this.fanout.clear();
    this.subscriptions.clear();
    await Promise.allSettled([this.publisher.quit(), this.subscriber.quit()]);
  }
}
