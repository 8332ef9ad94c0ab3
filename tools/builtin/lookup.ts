import type { Store } from '../../adapters/store/port.js';
import type { CmdbItem } from '../../core/incident.js';
import { ToolRefusedError } from '../tool.js';

// Arguments several built-in tools share: a host as people name it, and a point in time.

/**
 * The CMDB item a host names: its tagId, else its hostname, else its address or a unique
 * substring match. Null when nothing or several items match (the caller says so).
 */
export async function resolveHost(store: Pick<Store, 'cmdb'>, tenantId: string, host: string): Promise<CmdbItem | null> {
  const exact = await store.cmdb.get(tenantId, host);
  if (exact) return exact;
  const byHostname = await store.cmdb.list(tenantId, { hostname: host }, { limit: 2 });
  if (byHostname.items.length === 1) return byHostname.items[0]!;
  const matches = await store.cmdb.list(tenantId, { q: host }, { limit: 50 });
  const lower = host.toLowerCase();
  const same = matches.items.filter(
    (i) => i.address === host || i.hostname.toLowerCase() === lower || i.hostname.toLowerCase().startsWith(`${lower}.`),
  );
  if (same.length === 1) return same[0]!;
  return matches.items.length === 1 ? matches.items[0]! : null;
}

/** An ISO date-time, or a duration back from now: `30m`, `24h`, `7d`, `2w`. */
export const SINCE_PATTERN = /^(?:\d+[mhdw]|\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?)$/;

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** The instant (ISO) a `since` argument names, relative to `now`. */
export function sinceInstant(since: string, now: Date): string {
  const relative = /^(\d+)([mhdw])$/.exec(since);
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS]).toISOString();
  const at = new Date(since);
  if (Number.isNaN(at.getTime())) throw new ToolRefusedError(`'${since}' is not a date`, 'invalid_arguments');
  return at.toISOString();
}
