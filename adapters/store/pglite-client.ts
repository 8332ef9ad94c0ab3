import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { SqlClient } from './sql-client.js';

type PGliteLike = PGlite | Transaction;

function wrap(db: PGliteLike, root: PGlite | null): SqlClient {
  return {
    async query<T>(text: string, params: unknown[] = []) {
      const result = await db.query<T>(text, params);
      return { rows: result.rows };
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      if (!root) return fn(wrap(db, null));
      return root.transaction((tx) => fn(wrap(tx, null)));
    },
    async close() {
      if (root) await root.close();
    },
  };
}

/** Embedded PostgreSQL (WASM) in a data directory, or in memory when no directory is given. */
export async function openPGlite(dataDir?: string): Promise<SqlClient> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const db = dataDir ? new PGlite(dataDir) : new PGlite();
  await db.waitReady;
  return wrap(db, db);
}
