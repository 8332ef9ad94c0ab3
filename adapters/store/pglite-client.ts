import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { SqlClient } from './sql-client.js';

type PGliteLike = PGlite | Transaction;

/** A second process opening the same PGlite directory would corrupt it. */
export class PGliteDirectoryInUseError extends Error {
  override readonly name = 'PGliteDirectoryInUseError';
}

function wrap(db: PGliteLike, root: PGlite | null, onClose: () => Promise<void> = async () => undefined): SqlClient {
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
      if (root && !root.closed) await root.close();
      await onClose();
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One process per data directory: a lock file beside it names the owner; a dead owner's lock is taken over. */
async function lockDirectory(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = join(dirname(resolve(dataDir)), `${resolve(dataDir).split('/').pop()}.lock`);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (owner && owner !== process.pid && alive(owner)) {
        throw new PGliteDirectoryInUseError(
          `The PGlite database in ${dataDir} is in use by process ${owner}. PGlite is single-process: stop that process, ` +
            'or run the API and worker together (`npm start`), or use PostgreSQL (DATABASE_URL) for separate processes.',
        );
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new PGliteDirectoryInUseError(`Could not lock the PGlite database in ${dataDir}.`);
}

/** Embedded PostgreSQL (WASM) in a data directory, or in memory when no directory is given. */
export async function openPGlite(dataDir?: string): Promise<SqlClient> {
  if (!dataDir) {
    const memory = new PGlite();
    await memory.waitReady;
    return wrap(memory, memory);
  }
  await mkdir(dataDir, { recursive: true });
  const unlock = await lockDirectory(dataDir);
  try {
    const db = new PGlite(dataDir);
    await db.waitReady;
    return wrap(db, db, unlock);
  } catch (err) {
    await unlock();
    throw err;
  }
}
