import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../../adapters/store/create.js';
import { migrate } from '../../adapters/store/migrate.js';
import { openPostgres } from '../../adapters/store/postgres-client.js';
import { createTestDatabase } from '../support/postgres.js';
import { describeStoreContract } from './store-contract.js';
import { claimRunWith, finishRunWith } from '../../adapters/store/policy-decisions.js';
import { sqlPolicyDecisionDb } from '../../adapters/store/sql-store.js';
import { SupabaseStore } from '../../adapters/store/supabase-store.js';
import { matchAlert } from '../../core/policies/evaluate.js';
import { DEFAULT_POLICY_LIMITS } from '../../core/policies/model.js';
import { policyInput, serviceDown } from './policy-contract.js';

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
      '0010_self_healing',
      '0011_integration_settings',
      '0012_chat',
      '0013_policy_jobs_unfinished',
      '0014_chat_run_events',
      '0015_provisioning',
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
      '0010_self_healing',
      '0011_integration_settings',
      '0012_chat',
      '0013_policy_jobs_unfinished',
      '0014_chat_run_events',
      '0015_provisioning',
    ]);
    await a.close();
    await b.close();
  });
});

describe('policy claims without a transaction (the path the Supabase adapter takes through PostgREST)', () => {
  it('lets exactly one of 20 concurrent claims through when each store call is its own transaction', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    const store = await createStore({ kind: 'postgres', url: db.url });
    const pool = openPostgres(db.url, 20);
    try {
      const tenant = await store.tenants.ensure('no-tx');
      const policy = await store.policies.create(
        tenant.id,
        policyInput('restart', { limits: { ...DEFAULT_POLICY_LIMITS, cooldownSeconds: 600 } }),
      );
      const now = new Date('2026-12-06T12:00:00Z');
      // No advisory lock: every function call commits on its own, so claims race and retry on a stale claim_seq.
      const results = await Promise.all(
        Array.from({ length: 20 }, () => {
          const alert = serviceDown('db-01');
          const match = matchAlert(alert, [policy]);
          if (match.kind !== 'act') throw new Error('no match');
          return claimRunWith(sqlPolicyDecisionDb(pool), tenant.id, { match, alert, now });
        }),
      );
      expect(results.filter((r) => r.job.status === 'queued')).toHaveLength(1);
      expect(results.filter((r) => r.job.status === 'limited')).toHaveLength(19);
      // A finish racing a claim for another host: both land, the breaker counts the failure once.
      const queued = results.find((r) => r.job.status === 'queued')!.job;
      const [ended, other] = await Promise.all([
        finishRunWith(sqlPolicyDecisionDb(pool), tenant.id, queued.id, { succeeded: false }, now),
        claimRunWith(sqlPolicyDecisionDb(pool), tenant.id, {
          match: matchAlert(serviceDown('db-02'), [policy]) as Extract<ReturnType<typeof matchAlert>, { kind: 'act' }>,
          alert: serviceDown('db-02'),
          now,
        }),
      ]);
      expect(ended?.job.status).toBe('failed');
      expect(other.job.status).toBe('queued');
      expect(await store.policyJobs.breaker(tenant.id, policy.id)).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
    } finally {
      await pool.close();
      await store.close();
    }
  });
});

describe('the Supabase adapter’s policy claims, its RPC calls run by PostgreSQL', () => {
  it('names every function argument as the migration does, and lets one of 20 concurrent claims through', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    const store = await createStore({ kind: 'postgres', url: db.url });
    const pool = openPostgres(db.url, 20);
    // PostgREST calls a function with named arguments, each call its own transaction; so does this.
    const rpc = async (fn: string, args: Record<string, unknown>) => {
      const names = Object.keys(args);
      const call = `${fn}(${names.map((name, i) => `${name} => $${i + 1}`).join(', ')})`;
      const values = names.map((name) => {
        const value = args[name];
        return value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
      });
      try {
        const { rows } = await pool.query<{ r: unknown }>(`SELECT ${call} AS r`, values);
        return { data: rows[0]?.r ?? null, error: null };
      } catch (err) {
        return { data: null, error: { code: String((err as { code?: string }).code ?? ''), message: (err as Error).message } };
      }
    };
    const supabase = new SupabaseStore({ rpc } as unknown as ConstructorParameters<typeof SupabaseStore>[0]);
    try {
      const tenant = await store.tenants.ensure('via-rpc');
      const policy = await store.policies.create(
        tenant.id,
        policyInput('restart', { limits: { ...DEFAULT_POLICY_LIMITS, cooldownSeconds: 600 } }),
      );
      const now = new Date('2026-12-06T12:00:00Z');
      const results = await Promise.all(
        Array.from({ length: 20 }, () => {
          const alert = serviceDown('db-01');
          const match = matchAlert(alert, [policy]);
          if (match.kind !== 'act') throw new Error('no match');
          return supabase.policyJobs.claimRun(tenant.id, { match, alert, now });
        }),
      );
      expect(results.filter((r) => r.job.status === 'queued')).toHaveLength(1);
      expect(results.filter((r) => r.job.status === 'limited').map((r) => r.job.limitReason)).toEqual(Array(19).fill('host_busy'));
      expect(await supabase.policyJobs.breaker(tenant.id, policy.id)).toEqual({ state: 'closed', consecutiveFailures: 0, openedAt: null });
    } finally {
      await pool.close();
      await store.close();
    }
  });
});
