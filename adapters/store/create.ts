import type { StoreConfig } from '../../config.js';
import { migrate } from './migrate.js';
import { openPGlite } from './pglite-client.js';
import { openPostgres } from './postgres-client.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './port.js';

/** Builds the configured store adapter and brings its schema up to date. */
export async function createStore(config: StoreConfig): Promise<Store> {
  switch (config.kind) {
    case 'pglite': {
      const client = await openPGlite(config.dataDir);
      await migrate(client);
      return new SqlStore('pglite', client);
    }
    case 'postgres': {
      const client = openPostgres(config.url);
      try {
        await migrate(client);
      } catch (err) {
        await client.close();
        throw err;
      }
      return new SqlStore('postgres', client);
    }
    case 'supabase': {
      const { openSupabaseStore } = await import('./supabase-store.js');
      return openSupabaseStore(config.url, config.key);
    }
  }
}
