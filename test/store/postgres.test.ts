import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../../adapters/store/create.js';
import { migrate } from '../../adapters/store/migrate.js';
import { openPostgres } from '../../adapters/store/postgres-client.js';
import { createTestDatabase } from '../support/postgres.js';
import { describeStoreContract } from './store-contract.js';

// The machine's real PostgreSQL, a fresh database per file.
const databases: { drop(): Promise<void> }[] = [];

afterAll(async () => {
  for (const db of databases) await db.drop();
});

describeStoreContract('PostgreSQL', async () => {
  const db = await createTestDatabase();
  databases.push(db);
  return createStore({ kind: 'postgres', url: db.url });
});

describe('PostgreSQL migrations', () => {
  it('lets two processes migrate one database at once, each migration applied once', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    const [a, b] = [openPostgres(db.url), openPostgres(db.url)];
    const [appliedA, appliedB] = await Promise.all([migrate(a), migrate(b)]);
    expect([...appliedA, ...appliedB].sort()).toEqual([
      '0001_init',
      '0002_knowledge',
      '0003_chunk_embeddings',
      '0004_knowledge_ingestion',
      '0005_ssh_credentials',
      '0006_remediation_leases',
      '0007_incident_external_refs',
      '0008_run_projections',
      '0009_automation_runs',
    ]);
    const { rows } = await a.query<{ version: string }>('SELECT version FROM schema_migrations');
    expect(rows.map((r) => r.version).sort()).toEqual([
      '0001_init',
      '0002_knowledge',
      '0003_chunk_embeddings',
      '0004_knowledge_ingestion',
      '0005_ssh_credentials',
      '0006_remediation_leases',
      '0007_incident_external_refs',
      '0008_run_projections',
      '0009_automation_runs',
    ]);
    await a.close();
    await b.close();
  });
});
