import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../../adapters/store/create.js';
import { migrate } from '../../adapters/store/migrate.js';
import { openPGlite, PGliteDirectoryInUseError } from '../../adapters/store/pglite-client.js';
import { cmdbInput, describeStoreContract } from './store-contract.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'infraai-pglite-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describeStoreContract('PGlite', async () => createStore({ kind: 'pglite', dataDir: await tempDir() }));

describe('PGlite persistence and migrations', () => {
  it('keeps data across close and reopen of its data directory', async () => {
    const dataDir = await tempDir();
    const first = await createStore({ kind: 'pglite', dataDir });
    const tenant = await first.tenants.ensure('persist');
    await first.cmdb.create(tenant.id, cmdbInput('kept-01'));
    await first.close();
    const second = await createStore({ kind: 'pglite', dataDir });
    expect((await second.cmdb.get(tenant.id, 'kept-01'))?.hostname).toBe('kept-01.example.internal');
    await second.close();
  });

  it('applies each migration once', async () => {
    const client = await openPGlite(await tempDir());
    expect(await migrate(client)).toEqual([
      '0001_init',
      '0002_knowledge',
      '0003_chunk_embeddings',
      '0004_knowledge_ingestion',
      '0005_ssh_credentials',
      '0006_remediation_leases',
      '0007_incident_external_refs',
      '0008_run_projections',
      '0009_automation_runs',
      '0010_self_healing',
      '0011_integration_settings',
      '0012_chat',
      '0013_policy_jobs_unfinished',
      '0014_chat_run_events',
      '0015_provisioning',
    ]);
    expect(await migrate(client)).toEqual([]);
    await client.close();
  });
});

describe('PGlite single-process guard', () => {
  it('refuses a second open of a directory held by a live process, and reopens after close', async () => {
    const dataDir = await tempDir();
    const first = await openPGlite(dataDir);
    const { writeFile } = await import('node:fs/promises');
    // Same process: pretend another live process (our parent) holds it.
    await writeFile(`${dataDir}.lock`, String(process.ppid));
    await expect(openPGlite(dataDir)).rejects.toBeInstanceOf(PGliteDirectoryInUseError);
    await writeFile(`${dataDir}.lock`, String(process.pid));
    await first.close();
    const second = await openPGlite(dataDir);
    await second.close();
  });
});
