import type { Config } from '../config.js';
import type { Store } from '../adapters/store/port.js';
import { createApiKey, DEFAULT_TENANT_SLUG, registerBootstrapApiKey } from '../api/api-keys.js';
import { readDevServerConfig } from './dev-server-config.js';

/**
 * Where the worker and API connect: TEMPORAL_ADDRESS when set (namespace from TEMPORAL_NAMESPACE,
 * else `default`), otherwise the embedded dev server described by temporal-dev.yaml.
 */
export async function resolveTemporalTarget(config: Config): Promise<{ address: string; namespace: string }> {
  if (config.temporal.address) {
    return { address: config.temporal.address, namespace: config.temporal.namespace ?? 'default' };
  }
  const file = await readDevServerConfig(config.devServer.configFile);
  const host = file.ip === '0.0.0.0' ? '127.0.0.1' : file.ip;
  return { address: `${host}:${config.devServer.port ?? file.port}`, namespace: config.temporal.namespace ?? file.namespace };
}

const FIRST_KEY_NAME = 'created by npm start';

/**
 * Makes sure someone can get in: registers INFRAAI_API_KEY, or on the very first start mints an
 * admin key for tenant `default` and returns it for printing once (only its hash is stored).
 */
export async function prepareAccess(store: Store, config: Config): Promise<{ lines: string[] }> {
  const how = "  Send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.";
  if (config.bootstrapApiKey) {
    await registerBootstrapApiKey(store, config.bootstrapApiKey);
    return { lines: ["  Auth         INFRAAI_API_KEY is registered for tenant 'default' (admin).", how] };
  }
  const tenant = await store.tenants.ensure(DEFAULT_TENANT_SLUG, 'Default tenant');
  const existing = (await store.apiKeys.list(tenant.id)).filter((key) => !key.revokedAt);
  if (existing.length > 0) {
    return {
      lines: [
        '  Auth         use the API key printed at the first start (keys are stored hashed and cannot be shown again),',
        '               or restart with INFRAAI_API_KEY=<your key>, or mint one with POST /api/v1/api-keys.',
        how,
      ],
    };
  }
  const { key } = await createApiKey(store, { tenantId: tenant.id, name: FIRST_KEY_NAME, role: 'admin' });
  return {
    lines: ["  Auth         API key for tenant 'default' (admin), shown once — store it now:", `               ${key}`, how],
  };
}
