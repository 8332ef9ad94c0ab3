import { TenantFanout } from './fanout.js';
import type { RunEventBus, RunEventNotice } from './port.js';

/** One process (npm start: the worker and the API side by side): notices never leave memory. */
export class MemoryRunEventBus implements RunEventBus {
  readonly kind = 'memory' as const;
  private readonly fanout = new TenantFanout();

  async publish(notice: RunEventNotice): Promise<void> {
    // Asynchronously, as a network bus would: a publisher never runs its subscribers' code inline.
    queueMicrotask(() => this.fanout.emit(notice));
  }

  async subscribe(tenantId: string, listener: (notice: RunEventNotice) => void): Promise<() => Promise<void>> {
    const remove = this.fanout.add(tenantId, listener);
    return async () => void remove();
  }

  async close(): Promise<void> {
    this.fanout.clear();
  }
}
