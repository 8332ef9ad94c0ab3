import type { TenantRepository } from '../adapters/store/port.js';
import { QUEUED_EVENT_ATTRIBUTES } from '../core/ingress/pagerduty.js';

// Whose event a queued message is: the tenant id InfraAI itself attached (POST /api/v1/queueAdd puts
// it in the `infraai.tenant` attribute), else the configured PagerDuty tenant (an event from
// PagerDuty's own relay or EventBridge carries no attribute of ours).

export interface ResolvedTenant {
  tenantId: string;
  tenantSlug: string;
}

export type TenantResolution = ({ ok: true } & ResolvedTenant) | { ok: false; reason: string };

export interface TenantResolver {
  /** The tenant of a message by its attributes; throws when the store does not answer (try again later). */
  resolve(attributes: Record<string, string>): Promise<TenantResolution>;
}

/** A tenant looked up by id is remembered this long (tenants are created and renamed rarely). */
const CACHE_MS = 60_000;
const CACHE_MAX = 1000;

/**
 * Ensures the default tenant once (at start: the store must answer then), and looks up the tenant a
 * message names, remembering the answers for a minute so a busy queue costs no query per message.
 */
export async function createTenantResolver(
  tenants: Pick<TenantRepository, 'ensure' | 'getById'>,
  defaultSlug: string,
  now: () => number = Date.now,
): Promise<TenantResolver & { defaultTenant: ResolvedTenant }> {
  const fallback = await tenants.ensure(defaultSlug);
  const defaultTenant = { tenantId: fallback.id, tenantSlug: fallback.slug };
  const cache = new Map<string, { at: number; tenant: ResolvedTenant | null }>();
  return {
    defaultTenant,
    async resolve(attributes) {
      const id = attributes[QUEUED_EVENT_ATTRIBUTES.tenant]?.trim();
      if (!id) return { ok: true, ...defaultTenant };
      const cached = cache.get(id);
      let tenant: ResolvedTenant | null;
      if (cached && now() - cached.at < CACHE_MS) tenant = cached.tenant;
      else {
        const found = await tenants.getById(id);
        tenant = found ? { tenantId: found.id, tenantSlug: found.slug } : null;
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
        cache.set(id, { at: now(), tenant });
      }
      return tenant
        ? { ok: true, ...tenant }
        : { ok: false, reason: `the ${QUEUED_EVENT_ATTRIBUTES.tenant} attribute names no tenant (${id.slice(0, 64)})` };
    },
  };
}
