import type { RunEventNotice } from './port.js';

type Listener = (notice: RunEventNotice) => void;

/**
 * The in-process half of every bus: listeners by tenant. A listener that throws is the
 * subscriber's bug, not the bus's: it is isolated so the other listeners still hear the notice.
 */
export class TenantFanout {
  private readonly byTenant = new Map<string, Set<Listener>>();

  add(tenantId: string, listener: Listener): () => boolean {
    let listeners = this.byTenant.get(tenantId);
    if (!listeners) this.byTenant.set(tenantId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.byTenant.delete(tenantId);
      return this.byTenant.has(tenantId);
    };
  }

  has(tenantId: string): boolean {
    return this.byTenant.has(tenantId);
  }

  tenants(): string[] {
    return [...this.byTenant.keys()];
  }

  emit(notice: RunEventNotice): void {
    for (const listener of [...(this.byTenant.get(notice.tenantId) ?? [])]) {
      try {
        listener(notice);
      } catch {
        // See the class comment.
      }
    }
  }

  /** Tells every listener to re-read the store (after a reconnection). */
  resyncAll(): void {
    for (const tenantId of this.tenants()) this.emit({ tenantId, family: '', runId: '', seq: 0, tenantSeq: 0, resync: true });
  }

  clear(): void {
    this.byTenant.clear();
  }
}

/** Parses a notice off the wire; anything else (another program on the channel) is ignored. */
export function parseNotice(text: string): RunEventNotice | null {
  try {
    const value = JSON.parse(text) as Partial<RunEventNotice>;
    if (
      typeof value.tenantId === 'string' &&
      typeof value.family === 'string' &&
      typeof value.runId === 'string' &&
      Number.isInteger(value.seq) &&
      Number.isInteger(value.tenantSeq)
    ) {
      return { tenantId: value.tenantId, family: value.family, runId: value.runId, seq: value.seq!, tenantSeq: value.tenantSeq! };
    }
  } catch {
    // Not JSON: not ours.
  }
  return null;
}
