import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord, Role, Store } from '../adapters/store/port.js';

// API keys are random 256-bit secrets, so a fast hash (SHA-256) is enough: there is nothing to
// brute-force the way there is with a password. The row is found by a prefix of the hash, which
// works for any key string, including an operator-chosen INFRAAI_API_KEY.

export const API_KEY_PREFIX = 'iai_';
export const DEFAULT_TENANT_SLUG = 'default';

export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): { prefix: string; hash: string } {
  const hash = createHash('sha256').update(key, 'utf8').digest('hex');
  return { prefix: hash.slice(0, 16), hash };
}

/** The active key record for this key, or null (unknown, revoked, or hash mismatch). */
export async function verifyApiKey(store: Store, key: string): Promise<ApiKeyRecord | null> {
  if (key.length < 8 || key.length > 512) return null;
  const { prefix, hash } = hashApiKey(key);
  const record = await store.apiKeys.findByPrefix(prefix);
  if (!record || record.revokedAt) return null;
  const expected = Buffer.from(record.hash, 'hex');
  const actual = Buffer.from(hash, 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
  return record;
}

/** Mints a key for a tenant; the plaintext is returned once and never stored. */
export async function createApiKey(
  store: Store,
  input: { tenantId: string; name: string; role: Role },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = generateApiKey();
  const record = await store.apiKeys.create({ ...input, ...hashApiKey(key) });
  return { key, record };
}

/** Registers INFRAAI_API_KEY for tenant `default` as admin; idempotent across restarts. */
export async function registerBootstrapApiKey(store: Store, key: string): Promise<ApiKeyRecord> {
  const tenant = await store.tenants.ensure(DEFAULT_TENANT_SLUG, 'Default tenant');
  return store.apiKeys.create({ tenantId: tenant.id, name: 'INFRAAI_API_KEY', role: 'admin', ...hashApiKey(key) });
}
