import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNotice } from '../../adapters/events/fanout.js';
import { MemoryRunEventBus } from '../../adapters/events/memory.js';
import { PostgresRunEventBus, RUN_EVENTS_CHANNEL } from '../../adapters/events/postgres.js';
import { RedisRunEventBus } from '../../adapters/events/redis.js';
import { createTestDatabase } from '../support/postgres.js';
import { describeRunEventBusContract } from '../support/run-event-bus-contract.js';

// The bus adapters against the machine's PostgreSQL (127.0.0.1:5432) and Redis (REDIS_URL or 127.0.0.1:6379).
const REDIS_URL = process.env.INFRAAI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const databases: { drop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const db of databases) await db.drop();
});

describeRunEventBusContract('memory', async () => new MemoryRunEventBus());

let pgUrl: string | null = null;
const pgDatabase = async () => {
  if (!pgUrl) {
    const db = await createTestDatabase();
    databases.push(db);
    pgUrl = db.url;
  }
  return pgUrl;
};
describeRunEventBusContract('PostgreSQL LISTEN/NOTIFY', async () => new PostgresRunEventBus({ connectionString: await pgDatabase() }), {
  openPeer: async () => new PostgresRunEventBus({ connectionString: await pgDatabase() }),
  cutConnection: async () => {
    const admin = new pg.Client({ connectionString: await pgDatabase() });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
      );
      expect(rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
  },
});

describeRunEventBusContract('Redis pub/sub', async () => new RedisRunEventBus(REDIS_URL), {
  openPeer: async () => new RedisRunEventBus(REDIS_URL),
  cutConnection: async () => {
    const admin = new Redis(REDIS_URL);
    try {
      const killed = await admin.client('KILL', 'TYPE', 'pubsub');
      expect(Number(killed)).toBeGreaterThan(0);
    } finally {
      admin.disconnect();
    }
  },
});

describe('run-event notices on the wire', () => {
  it('ignores what is not a notice of ours (another program on the channel, a truncated payload)', () => {
    expect(parseNotice('not json')).toBeNull();
    expect(parseNotice('{"tenantId":"t","family":"incident","runId":"r","seq":"1","tenantSeq":1}')).toBeNull();
    expect(parseNotice('{"tenantId":"t","family":"incident","runId":"r","seq":1,"tenantSeq":1,"extra":true}')).toEqual({
      tenantId: 't',
      family: 'incident',
      runId: 'r',
      seq: 1,
      tenantSeq: 1,
    });
  });

  it('a stranger’s payload on the PostgreSQL channel reaches no listener', async () => {
    const url = await pgDatabase();
    const bus = new PostgresRunEventBus({ connectionString: url });
    try {
      const heard: unknown[] = [];
      const tenant = 'tenant-stranger';
      await bus.subscribe(tenant, (n) => heard.push(n));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('SELECT pg_notify($1, $2)', [RUN_EVENTS_CHANNEL, '{"tenantId":"tenant-stranger"}']);
      await client.end();
      await bus.publish({ tenantId: tenant, family: 'incident', runId: 'marker', seq: 1, tenantSeq: 1 });
      await expect.poll(() => heard.length).toBe(1);
      expect(heard).toEqual([{ tenantId: tenant, family: 'incident', runId: 'marker', seq: 1, tenantSeq: 1 }]);
    } finally {
      await bus.close();
    }
  });
});
