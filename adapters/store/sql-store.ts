import { randomUUID } from 'node:crypto';
import { createSqlChatRepository } from './chat-sql.js';
import { createSqlProvisioningRepository } from './provisioning-sql.js';
import {
  INCIDENT_STATUSES,
  TERMINAL_INCIDENT_STATUSES,
  type CmdbItem,
  type Incident,
  type IncidentResult,
  type IncidentStatus,
  type JobLog,
} from '../../core/incident.js';
import {
  decodeCursor,
  decodePolicyCursor,
  decodeSeqCursor,
  embeddingOf,
  encodeCursor,
  str,
  toApiKey,
  toAlertEvent,
  toAutomationRun,
  toCmdbItem,
  toPolicy,
  toPolicyJob,
  toCredential,
  toHostKey,
  toIntegrationSettings,
  toSealedSecret,
  toIncident,
  toJobLog,
  toKnowledgeDocument,
  toProjectionOutcome,
  toResult,
  toRunEvent,
  toRunProjection,
  toTenant,
  UUID_PATTERN,
  type Row,
} from './rows.js';
import type { SqlClient } from './sql-client.js';
import { claimRunWith, finishRunWith, recordDecisionWith, toUsage, type PolicyDecisionDb } from './policy-decisions.js';
import { CLOSED_BREAKER, type BreakerRecord } from '../../core/policies/evaluate.js';
import type { PolicyAlert } from '../../core/policies/model.js';
import type { RunEvent, RunFamily, RunProjection, RunProjectionWrite } from '../../core/contracts/run-events.js';
import {
  AUTOMATION_STATUSES,
  automationWorkflowId,
  isFinalAutomationStatus,
  type AutomationStatus,
} from '../../core/contracts/automation.js';
import {
  DuplicateKeyError,
  InvalidCursorError,
  StoreUnavailableError,
  type ApiKeyRecord,
  type AutomationFilter,
  type AutomationLogPage,
  type AutomationRun,
  type AutomationRunInput,
  type AutomationRunUpdate,
  type AlertEvent,
  type HostKeyRecord,
  type IntegrationSettingsInput,
  type SealedSecret,
  type StoredIntegrationSettings,
  type PolicyClaim,
  type PolicyDecisionRecord,
  type PolicyFilter,
  type PolicyInput,
  type PolicyJob,
  type PolicyJobFilter,
  type PolicyRunEnd,
  type PolicyWriteOutcome,
  type StoredPolicy,
  type LeaseOutcome,
  type RunProjectionOutcome,
  type StoredCredential,
  type CmdbFilter,
  type CmdbItemInput,
  type IncidentFilter,
  type IncidentInput,
  type IncidentUpdate,
  type KnowledgeChunkRecord,
  type KnowledgeDocument,
  type KnowledgeDocumentInput,
  type KnowledgeKind,
  type Page,
  type PageRequest,
  type Role,
  type Store,
  type Tenant,
} from './port.js';

function sqlState(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Connection-level failures become StoreUnavailableError; everything else passes through. */
function translate(err: unknown): never {
  const code = sqlState(err);
  if (code && (/^08/.test(code) || ['57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND'].includes(code))) {
    throw new StoreUnavailableError(`store unavailable: ${(err as Error).message}`);
  }
  if (err instanceof Error && /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(err.message)) {
    throw new StoreUnavailableError(`store unavailable: ${err.message}`);
  }
  throw err;
}

const INCIDENT_COLUMNS = `id, tenant_id, number, title, description, severity, tag_id, status, source, workflow_id,
  target_host, summary, created_by, external, created_at, updated_at, resolved_at`;

const RESULT_SELECT = `SELECT r.*, i.number AS incident_number FROM results r JOIN incidents i ON i.id = r.incident_id`;

/** One Store over SQL, shared by PGlite and PostgreSQL: same schema, same statements. */
export class SqlStore implements Store {
  constructor(
    readonly kind: 'pglite' | 'postgres',
    private readonly db: SqlClient,
  ) {}

  private async q<T = Row>(text: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.db.query<T>(text, params)).rows;
    } catch (err) {
      return translate(err);
    }
  }

  async ping(): Promise<void> {
    await this.q('SELECT 1');
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  tenants = {
    ensure: async (slug: string, name?: string): Promise<Tenant> => {
      const inserted = await this.q(`INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING RETURNING *`, [
        randomUUID(),
        slug,
        name ?? slug,
      ]);
      if (inserted[0]) return toTenant(inserted[0]);
      const existing = await this.q(`SELECT * FROM tenants WHERE slug = $1`, [slug]);
      if (!existing[0]) throw new Error(`tenant '${slug}' vanished while being ensured`);
      return toTenant(existing[0]);
    },
    getById: async (id: string): Promise<Tenant | null> => {
      if (!UUID_PATTERN.test(id)) return null;
      const rows = await this.q(`SELECT * FROM tenants WHERE id = $1`, [id]);
      return rows[0] ? toTenant(rows[0]) : null;
    },
    getBySlug: async (slug: string): Promise<Tenant | null> => {
      const rows = await this.q(`SELECT * FROM tenants WHERE slug = $1`, [slug]);
      return rows[0] ? toTenant(rows[0]) : null;
    },
  };

  apiKeys = {
    create: async (input: { tenantId: string; name: string; role: Role; prefix: string; hash: string }): Promise<ApiKeyRecord> => {
      const rows = await this.q(
        `INSERT INTO api_keys (id, tenant_id, name, role, prefix, hash) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (prefix) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, name = EXCLUDED.name, role = EXCLUDED.role,
           hash = EXCLUDED.hash, revoked_at = NULL
         RETURNING *`,
        [randomUUID(), input.tenantId, input.name, input.role, input.prefix, input.hash],
      );
      return toApiKey(rows[0]!);
    },
    findByPrefix: async (prefix: string): Promise<ApiKeyRecord | null> => {
      const rows = await this.q(`SELECT * FROM api_keys WHERE prefix = $1`, [prefix]);
      return rows[0] ? toApiKey(rows[0]) : null;
    },
    touch: async (id: string): Promise<void> => {
      await this.q(
        `UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')`,
        [id],
      );
    },
    revoke: async (tenantId: string, id: string): Promise<boolean> => {
      if (!UUID_PATTERN.test(id)) return false;
      const rows = await this.q(
        `UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id`,
        [tenantId, id],
      );
      return rows.length > 0;
    },
    list: async (tenantId: string): Promise<ApiKeyRecord[]> => {
      const rows = await this.q(`SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
      return rows.map(toApiKey);
    },
  };

  cmdb = {
    create: async (tenantId: string, item: CmdbItemInput): Promise<CmdbItem> => {
      try {
        const rows = await this.db.query<Row>(
          `INSERT INTO cmdb_items (tenant_id, tag_id, instance_id, hostname, address, port, environment, owner, os,
             service_manager, ssh_user, ssh_credential, description, tags)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb) RETURNING *`,
          [tenantId, item.tagId, ...this.cmdbValues(item)],
        );
        return toCmdbItem(rows.rows[0]!);
      } catch (err) {
        if (sqlState(err) === '23505') throw new DuplicateKeyError('CMDB item', item.tagId);
        return translate(err);
      }
    },
    get: async (tenantId: string, tagId: string): Promise<CmdbItem | null> => {
      const rows = await this.q(`SELECT * FROM cmdb_items WHERE tenant_id = $1 AND tag_id = $2`, [tenantId, tagId]);
      return rows[0] ? toCmdbItem(rows[0]) : null;
    },
    getByInstanceId: async (tenantId: string, instanceId: string): Promise<CmdbItem | null> => {
      const rows = await this.q(`SELECT * FROM cmdb_items WHERE tenant_id = $1 AND instance_id = $2 ORDER BY tag_id LIMIT 1`, [
        tenantId,
        instanceId,
      ]);
      return rows[0] ? toCmdbItem(rows[0]) : null;
    },
    list: async (tenantId: string, filter: CmdbFilter, page: PageRequest): Promise<Page<CmdbItem>> => {
      const where = ['tenant_id = $1'];
      const params: unknown[] = [tenantId];
      const add = (clause: (n: string) => string, value: unknown) => {
        params.push(value);
        where.push(clause(`$${params.length}`));
      };
      if (filter.environment) add((p) => `environment = ${p}`, filter.environment);
      if (filter.owner) add((p) => `owner = ${p}`, filter.owner);
      if (filter.hostname) add((p) => `hostname = ${p}`, filter.hostname);
      if (filter.instanceId) add((p) => `instance_id = ${p}`, filter.instanceId);
      if (filter.tags && Object.keys(filter.tags).length > 0) add((p) => `tags @> ${p}::jsonb`, JSON.stringify(filter.tags));
      if (filter.q) {
        const pattern = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        add((p) => `(tag_id ILIKE ${p} OR hostname ILIKE ${p} OR address ILIKE ${p} OR coalesce(description, '') ILIKE ${p})`, pattern);
      }
      if (page.cursor) {
        const [afterTagId] = decodeCursor(page.cursor, ['string']);
        add((p) => `tag_id > ${p}`, afterTagId);
      }
      params.push(page.limit + 1);
      const rows = await this.q(`SELECT * FROM cmdb_items WHERE ${where.join(' AND ')} ORDER BY tag_id LIMIT $${params.length}`, params);
      const items = rows.slice(0, page.limit).map(toCmdbItem);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > page.limit && last ? encodeCursor([last.tagId]) : null };
    },
    replace: async (tenantId: string, tagId: string, item: Omit<CmdbItemInput, 'tagId'>): Promise<CmdbItem | null> => {
      const rows = await this.q(
        `UPDATE cmdb_items SET instance_id = $3, hostname = $4, address = $5, port = $6, environment = $7, owner = $8, os = $9,
           service_manager = $10, ssh_user = $11, ssh_credential = $12, description = $13, tags = $14::jsonb, updated_at = now()
         WHERE tenant_id = $1 AND tag_id = $2 RETURNING *`,
        [tenantId, tagId, ...this.cmdbValues(item)],
      );
      return rows[0] ? toCmdbItem(rows[0]) : null;
    },
    delete: async (tenantId: string, tagId: string): Promise<boolean> => {
      const rows = await this.q(`DELETE FROM cmdb_items WHERE tenant_id = $1 AND tag_id = $2 RETURNING tag_id`, [tenantId, tagId]);
      return rows.length > 0;
    },
  };

  private cmdbValues(item: Omit<CmdbItemInput, 'tagId'>): unknown[] {
    return [
      item.instanceId,
      item.hostname,
      item.address,
      item.port,
      item.environment,
      item.owner,
      item.os,
      item.serviceManager,
      item.sshUser,
      item.sshCredential,
      item.description,
      JSON.stringify(item.tags ?? {}),
    ];
  }

  incidents = {
    create: async (tenantId: string, input: IncidentInput): Promise<{ incident: Incident; created: boolean }> => {
      const key = input.idempotencyKey ?? null;
      // ON CONFLICT on the idempotency key makes concurrent repeats safe; the number comes from the trigger.
      const rows = await this.q(
        `INSERT INTO incidents (id, tenant_id, number, title, description, severity, tag_id, source, workflow_id, created_by, idempotency_key, external)
         VALUES ($1, $2, 0, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
         RETURNING ${INCIDENT_COLUMNS}`,
        [
          input.id,
          tenantId,
          input.title,
          input.description,
          input.severity,
          input.tagId,
          input.source,
          `incident-${input.id}`,
          input.createdBy,
          key,
          JSON.stringify(input.external ?? {}),
        ],
      );
      if (rows[0]) return { incident: toIncident(rows[0]), created: true };
      const existing = await this.q(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE tenant_id = $1 AND idempotency_key = $2`, [
        tenantId,
        key,
      ]);
      if (!existing[0]) throw new Error('incident insert returned nothing and no idempotent match exists');
      return { incident: toIncident(existing[0]), created: false };
    },
    get: async (tenantId: string, id: string): Promise<Incident | null> => {
      if (!UUID_PATTERN.test(id)) return null;
      const rows = await this.q(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toIncident(rows[0]) : null;
    },
    getByNumber: async (tenantId: string, number: number): Promise<Incident | null> => {
      const rows = await this.q(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE tenant_id = $1 AND number = $2`, [tenantId, number]);
      return rows[0] ? toIncident(rows[0]) : null;
    },
    list: async (tenantId: string, filter: IncidentFilter, page: PageRequest): Promise<Page<Incident>> => {
      const where = ['tenant_id = $1'];
      const params: unknown[] = [tenantId];
      const add = (clause: (n: string) => string, value: unknown) => {
        params.push(value);
        where.push(clause(`$${params.length}`));
      };
      if (filter.status) add((p) => `status = ${p}`, filter.status);
      if (filter.severity) add((p) => `severity = ${p}`, filter.severity);
      if (filter.tagId) add((p) => `tag_id = ${p}`, filter.tagId);
      if (page.cursor) {
        const [beforeNumber] = decodeCursor(page.cursor, ['number']) as [number];
        if (!Number.isInteger(beforeNumber) || beforeNumber < 1) throw new InvalidCursorError();
        add((p) => `number < ${p}`, beforeNumber);
      }
      params.push(page.limit + 1);
      // Newest first by the per-tenant number: unique and increasing, so keyset pages are exact
      // even when two incidents share a timestamp.
      const rows = await this.q(
        `SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE ${where.join(' AND ')} ORDER BY number DESC LIMIT $${params.length}`,
        params,
      );
      const items = rows.slice(0, page.limit).map(toIncident);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > page.limit && last ? encodeCursor([last.number]) : null };
    },
    update: async (tenantId: string, id: string, update: IncidentUpdate): Promise<Incident | null> => {
      if (!UUID_PATTERN.test(id)) return null;
      const sets = ['updated_at = now()'];
      const params: unknown[] = [tenantId, id];
      const set = (column: string, value: unknown) => {
        params.push(value);
        sets.push(`${column} = $${params.length}`);
      };
      if (update.status !== undefined) {
        set('status', update.status);
        if (TERMINAL_INCIDENT_STATUSES.includes(update.status)) sets.push('resolved_at = coalesce(resolved_at, now())');
        else sets.push('resolved_at = NULL');
      }
      if (update.targetHost !== undefined) set('target_host', update.targetHost);
      if (update.summary !== undefined) set('summary', update.summary);
      if (update.external !== undefined) {
        params.push(JSON.stringify(update.external));
        sets.push(`external = external || $${params.length}::jsonb`);
      }
      const rows = await this.q(
        `UPDATE incidents SET ${sets.join(', ')} WHERE tenant_id = $1 AND id = $2 RETURNING ${INCIDENT_COLUMNS}`,
        params,
      );
      return rows[0] ? toIncident(rows[0]) : null;
    },
    delete: async (tenantId: string, id: string): Promise<boolean> => {
      if (!UUID_PATTERN.test(id)) return false;
      const rows = await this.q(`DELETE FROM incidents WHERE tenant_id = $1 AND id = $2 RETURNING id`, [tenantId, id]);
      return rows.length > 0;
    },
    countByStatus: async (): Promise<Record<IncidentStatus, number>> => {
      const rows = await this.q<{ status: IncidentStatus; n: number | string }>(
        `SELECT status, count(*) AS n FROM incidents GROUP BY status`,
      );
      const counts = Object.fromEntries(INCIDENT_STATUSES.map((status) => [status, 0])) as Record<IncidentStatus, number>;
      for (const row of rows) counts[row.status] = Number(row.n);
      return counts;
    },
  };

  results = {
    write: async (
      tenantId: string,
      input: {
        id?: string;
        incidentId: string;
        idempotencyKey: string;
        status: IncidentStatus;
        summary: string;
        details: Record<string, unknown>;
      },
    ): Promise<IncidentResult> => {
      await this.q(
        `INSERT INTO results (id, tenant_id, incident_id, idempotency_key, status, summary, details)
         SELECT $1, $2, $3, $4, $5, $6, $7::jsonb WHERE EXISTS (SELECT 1 FROM incidents WHERE tenant_id = $2 AND id = $3)
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
        [
          input.id ?? randomUUID(),
          tenantId,
          input.incidentId,
          input.idempotencyKey,
          input.status,
          input.summary,
          JSON.stringify(input.details),
        ],
      );
      const rows = await this.q(`${RESULT_SELECT} WHERE r.tenant_id = $1 AND r.idempotency_key = $2`, [tenantId, input.idempotencyKey]);
      if (!rows[0]) throw new Error(`incident ${input.incidentId} does not exist for this tenant`);
      return toResult(rows[0]);
    },
    listForIncident: async (tenantId: string, incidentId: string): Promise<IncidentResult[]> => {
      if (!UUID_PATTERN.test(incidentId)) return [];
      const rows = await this.q(`${RESULT_SELECT} WHERE r.tenant_id = $1 AND r.incident_id = $2 ORDER BY r.created_at, r.id`, [
        tenantId,
        incidentId,
      ]);
      return rows.map(toResult);
    },
  };

  jobLogs = {
    append: async (
      tenantId: string,
      input: {
        incidentId: string | null;
        idempotencyKey: string;
        action: string;
        target: string;
        status: JobLog['status'];
        detail: Record<string, unknown>;
      },
    ): Promise<{ log: JobLog; created: boolean }> => {
      const inserted = await this.q(
        `INSERT INTO job_logs (id, tenant_id, incident_id, idempotency_key, action, target, status, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING *`,
        [
          randomUUID(),
          tenantId,
          input.incidentId,
          input.idempotencyKey,
          input.action,
          input.target,
          input.status,
          JSON.stringify(input.detail),
        ],
      );
      if (inserted[0]) return { log: toJobLog(inserted[0]), created: true };
      const rows = await this.q(`SELECT * FROM job_logs WHERE tenant_id = $1 AND idempotency_key = $2`, [tenantId, input.idempotencyKey]);
      return { log: toJobLog(rows[0]!), created: false };
    },
    listForIncident: async (tenantId: string, incidentId: string): Promise<JobLog[]> => {
      if (!UUID_PATTERN.test(incidentId)) return [];
      const rows = await this.q(`SELECT * FROM job_logs WHERE tenant_id = $1 AND incident_id = $2 ORDER BY created_at, id`, [
        tenantId,
        incidentId,
      ]);
      return rows.map(toJobLog);
    },
  };

  knowledge = {
    addDocument: async (input: KnowledgeDocumentInput): Promise<{ document: KnowledgeDocument; created: boolean }> => {
      return this.db.transaction(async (tx) => {
        const inserted = await tx.query<Row>(
          `INSERT INTO knowledge_documents (id, tenant_id, title, kind, source, content_type, content_hash, size_bytes, chunk_count, chunks_indexed, embedding_model)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)
           ON CONFLICT ON CONSTRAINT knowledge_documents_unique_content DO NOTHING RETURNING *`,
          [
            input.id,
            input.tenantId,
            input.title,
            input.kind,
            input.source,
            input.contentType,
            input.contentHash,
            input.sizeBytes,
            input.chunks.length,
            input.embeddingModel ?? null,
          ],
        );
        if (!inserted.rows[0]) {
          const existing = await tx.query<Row>(
            `SELECT * FROM knowledge_documents WHERE tenant_id IS NOT DISTINCT FROM $1 AND content_hash = $2`,
            [input.tenantId, input.contentHash],
          );
          return { document: toKnowledgeDocument(existing.rows[0]!), created: false };
        }
        for (const chunk of input.chunks) {
          await tx.query(
            `INSERT INTO knowledge_chunks (id, doc_id, tenant_id, idx, section, text, embedding) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
            [
              `${input.id}#${chunk.index}`,
              input.id,
              input.tenantId,
              chunk.index,
              chunk.section,
              chunk.text,
              chunk.embedding ? JSON.stringify(chunk.embedding) : null,
            ],
          );
        }
        return { document: toKnowledgeDocument(inserted.rows[0]), created: true };
      });
    },
    listDocuments: async (tenantId: string | null, options: { includeGlobal?: boolean } = {}): Promise<KnowledgeDocument[]> => {
      const rows = await this.q(
        `SELECT * FROM knowledge_documents WHERE tenant_id IS NOT DISTINCT FROM $1 OR ($2 AND tenant_id IS NULL) ORDER BY created_at DESC, id`,
        [tenantId, options.includeGlobal === true],
      );
      return rows.map(toKnowledgeDocument);
    },
    getDocument: async (tenantId: string | null, id: string): Promise<KnowledgeDocument | null> => {
      if (!UUID_PATTERN.test(id)) return null;
      const rows = await this.q(`SELECT * FROM knowledge_documents WHERE id = $1 AND tenant_id IS NOT DISTINCT FROM $2`, [id, tenantId]);
      return rows[0] ? toKnowledgeDocument(rows[0]) : null;
    },
    findDocumentByHash: async (tenantId: string | null, contentHash: string): Promise<KnowledgeDocument | null> => {
      const rows = await this.q(`SELECT * FROM knowledge_documents WHERE tenant_id IS NOT DISTINCT FROM $1 AND content_hash = $2`, [
        tenantId,
        contentHash,
      ]);
      return rows[0] ? toKnowledgeDocument(rows[0]) : null;
    },
    deleteDocument: async (tenantId: string | null, id: string): Promise<boolean> => {
      if (!UUID_PATTERN.test(id)) return false;
      const rows = await this.q(`DELETE FROM knowledge_documents WHERE id = $1 AND tenant_id IS NOT DISTINCT FROM $2 RETURNING id`, [
        id,
        tenantId,
      ]);
      return rows.length > 0;
    },
    stageDocument: async (
      input: Omit<KnowledgeDocumentInput, 'chunks'>,
      text: string,
    ): Promise<{ document: KnowledgeDocument; created: boolean }> => {
      return this.db.transaction(async (tx) => {
        const inserted = await tx.query<Row>(
          `INSERT INTO knowledge_documents (id, tenant_id, title, kind, source, content_type, content_hash, size_bytes, chunk_count, chunks_indexed, embedding_model, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9, 'ingesting')
           ON CONFLICT ON CONSTRAINT knowledge_documents_unique_content DO NOTHING RETURNING *`,
          [
            input.id,
            input.tenantId,
            input.title,
            input.kind,
            input.source,
            input.contentType,
            input.contentHash,
            input.sizeBytes,
            input.embeddingModel ?? null,
          ],
        );
        let document = inserted.rows[0];
        if (!document) {
          // The same content again: a failed attempt is restaged (same id), anything else is returned as is.
          const restaged = await tx.query<Row>(
            `UPDATE knowledge_documents SET status = 'ingesting', error = NULL, chunk_count = 0, chunks_indexed = 0, title = $3, source = $4, updated_at = now()
             WHERE tenant_id IS NOT DISTINCT FROM $1 AND content_hash = $2 AND status = 'failed' RETURNING *`,
            [input.tenantId, input.contentHash, input.title, input.source],
          );
          document = restaged.rows[0];
          if (!document) {
            const existing = await tx.query<Row>(
              `SELECT * FROM knowledge_documents WHERE tenant_id IS NOT DISTINCT FROM $1 AND content_hash = $2`,
              [input.tenantId, input.contentHash],
            );
            return { document: toKnowledgeDocument(existing.rows[0]!), created: false };
          }
        }
        await tx.query(
          `INSERT INTO knowledge_staged_text (doc_id, text) VALUES ($1, $2) ON CONFLICT (doc_id) DO UPDATE SET text = EXCLUDED.text`,
          [document.id, text],
        );
        return { document: toKnowledgeDocument(document), created: true };
      });
    },
    stagedText: async (docId: string): Promise<string | null> => {
      if (!UUID_PATTERN.test(docId)) return null;
      const rows = await this.q(
        `SELECT s.text FROM knowledge_staged_text s JOIN knowledge_documents d ON d.id = s.doc_id WHERE s.doc_id = $1 AND d.status = 'ingesting'`,
        [docId],
      );
      return rows[0] ? String(rows[0].text) : null;
    },
    setChunkCount: async (docId: string, chunkCount: number): Promise<boolean> => {
      if (!UUID_PATTERN.test(docId)) return false;
      const rows = await this.q(`UPDATE knowledge_documents SET chunk_count = $2 WHERE id = $1 AND status = 'ingesting' RETURNING id`, [
        docId,
        chunkCount,
      ]);
      return rows.length > 0;
    },
    putChunks: async (docId: string, chunks: KnowledgeDocumentInput['chunks'], embeddingModel: string | null): Promise<boolean> => {
      if (!UUID_PATTERN.test(docId)) return false;
      return this.db.transaction(async (tx) => {
        const doc = await tx.query<Row>(`SELECT tenant_id FROM knowledge_documents WHERE id = $1 AND status = 'ingesting' FOR UPDATE`, [
          docId,
        ]);
        if (!doc.rows[0]) return false;
        for (const chunk of chunks) {
          // Upsert by chunk id: a batch retried after a crash rewrites its rows instead of adding twice.
          await tx.query(
            `INSERT INTO knowledge_chunks (id, doc_id, tenant_id, idx, section, text, embedding) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
             ON CONFLICT (id) DO UPDATE SET section = EXCLUDED.section, text = EXCLUDED.text, embedding = EXCLUDED.embedding`,
            [
              `${docId}#${chunk.index}`,
              docId,
              doc.rows[0].tenant_id ?? null,
              chunk.index,
              chunk.section,
              chunk.text,
              chunk.embedding ? JSON.stringify(chunk.embedding) : null,
            ],
          );
        }
        await tx.query(
          `UPDATE knowledge_documents SET chunks_indexed = (SELECT count(*) FROM knowledge_chunks WHERE doc_id = $1), embedding_model = coalesce($2, embedding_model) WHERE id = $1`,
          [docId, embeddingModel],
        );
        return true;
      });
    },
    completeDocument: async (docId: string): Promise<KnowledgeDocument | null> => {
      if (!UUID_PATTERN.test(docId)) return null;
      return this.db.transaction(async (tx) => {
        const rows = await tx.query<Row>(
          `UPDATE knowledge_documents SET status = 'ready', error = NULL,
             chunk_count = (SELECT count(*) FROM knowledge_chunks WHERE doc_id = $1),
             chunks_indexed = (SELECT count(*) FROM knowledge_chunks WHERE doc_id = $1), updated_at = now()
           WHERE id = $1 AND status IN ('ingesting', 'ready') RETURNING *`,
          [docId],
        );
        await tx.query(`DELETE FROM knowledge_staged_text WHERE doc_id = $1`, [docId]);
        return rows.rows[0] ? toKnowledgeDocument(rows.rows[0]) : null;
      });
    },
    failDocument: async (docId: string, error: string): Promise<KnowledgeDocument | null> => {
      if (!UUID_PATTERN.test(docId)) return null;
      return this.db.transaction(async (tx) => {
        const rows = await tx.query<Row>(
          `UPDATE knowledge_documents SET status = 'failed', error = $2, chunks_indexed = 0, updated_at = now() WHERE id = $1 AND status = 'ingesting' RETURNING *`,
          [docId, error.slice(0, 2000)],
        );
        if (rows.rows[0]) {
          await tx.query(`DELETE FROM knowledge_chunks WHERE doc_id = $1`, [docId]);
          await tx.query(`DELETE FROM knowledge_staged_text WHERE doc_id = $1`, [docId]);
        }
        return rows.rows[0] ? toKnowledgeDocument(rows.rows[0]) : null;
      });
    },
    allChunks: async (): Promise<(KnowledgeChunkRecord & { title: string; kind: KnowledgeKind })[]> => {
      const rows = await this.q(
        `SELECT c.id, c.doc_id, c.tenant_id, c.idx, c.section, c.text, c.embedding, d.title, d.kind
         FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.doc_id WHERE d.status = 'ready' ORDER BY c.doc_id, c.idx`,
      );
      return rows.map((r) => ({
        id: String(r.id),
        docId: String(r.doc_id),
        tenantId: str(r.tenant_id),
        index: Number(r.idx),
        section: String(r.section),
        text: String(r.text),
        embedding: embeddingOf(r.embedding),
        title: String(r.title),
        kind: r.kind as KnowledgeKind,
      }));
    },
    revision: async (): Promise<string> => {
      const rows = await this.q(
        `SELECT count(*)::text AS n, coalesce(max(updated_at)::text, '') AS at, coalesce(sum(chunk_count), 0)::text AS c FROM knowledge_documents WHERE status = 'ready'`,
      );
      return `${String(rows[0]?.n)}:${String(rows[0]?.c)}:${String(rows[0]?.at)}`;
    },
  };

  credentials = {
    insert: async (input: Omit<StoredCredential, 'createdAt'>): Promise<StoredCredential> => {
      try {
        const rows = await this.q(
          `INSERT INTO ssh_credentials (tenant_id, name, username, key_type, fingerprint, ciphertext) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
          [input.tenantId, input.name, input.username, input.keyType, input.fingerprint, input.ciphertext],
        );
        return toCredential(rows[0]!);
      } catch (err) {
        if (sqlState(err) === '23505') throw new DuplicateKeyError('SSH credential', input.name);
        throw err;
      }
    },
    get: async (tenantId: string, name: string): Promise<StoredCredential | null> => {
      const rows = await this.q(`SELECT * FROM ssh_credentials WHERE tenant_id = $1 AND name = $2`, [tenantId, name]);
      return rows[0] ? toCredential(rows[0]) : null;
    },
    list: async (tenantId: string): Promise<StoredCredential[]> =>
      (await this.q(`SELECT * FROM ssh_credentials WHERE tenant_id = $1 ORDER BY name`, [tenantId])).map(toCredential),
    delete: async (tenantId: string, name: string): Promise<boolean> =>
      (await this.q(`DELETE FROM ssh_credentials WHERE tenant_id = $1 AND name = $2 RETURNING name`, [tenantId, name])).length > 0,
  };

  hostKeys = {
    trustOnFirstUse: async (input: Omit<HostKeyRecord, 'firstSeenAt'>): Promise<HostKeyRecord> => {
      // The first key recorded wins; a matching key fills in the public key a pre-0009 record lacks.
      await this.q(
        `INSERT INTO ssh_host_keys (tenant_id, host, port, key_type, fingerprint, public_key) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, host, port) DO UPDATE SET public_key = EXCLUDED.public_key
         WHERE ssh_host_keys.public_key IS NULL AND ssh_host_keys.fingerprint = EXCLUDED.fingerprint AND EXCLUDED.public_key IS NOT NULL`,
        [input.tenantId, input.host, input.port, input.keyType, input.fingerprint, input.publicKey ?? null],
      );
      const rows = await this.q(`SELECT * FROM ssh_host_keys WHERE tenant_id = $1 AND host = $2 AND port = $3`, [
        input.tenantId,
        input.host,
        input.port,
      ]);
      return toHostKey(rows[0]!);
    },
    get: async (tenantId: string, host: string, port: number): Promise<HostKeyRecord | null> => {
      const rows = await this.q(`SELECT * FROM ssh_host_keys WHERE tenant_id = $1 AND host = $2 AND port = $3`, [tenantId, host, port]);
      return rows[0] ? toHostKey(rows[0]) : null;
    },
    list: async (tenantId: string): Promise<HostKeyRecord[]> =>
      (await this.q(`SELECT * FROM ssh_host_keys WHERE tenant_id = $1 ORDER BY host, port`, [tenantId])).map(toHostKey),
    forget: async (tenantId: string, host: string, port: number): Promise<boolean> =>
      (await this.q(`DELETE FROM ssh_host_keys WHERE tenant_id = $1 AND host = $2 AND port = $3 RETURNING host`, [tenantId, host, port]))
        .length > 0,
  };

  integrationSettings = {
    put: async (input: IntegrationSettingsInput): Promise<StoredIntegrationSettings> => {
      const rows = await this.q(
        `INSERT INTO integration_settings (tenant_id, user_id, integration, settings, secret_fields, updated_by)
         VALUES ($1, $2, $3, $4::jsonb, $5::text[], $6)
         ON CONFLICT (tenant_id, user_id, integration) DO UPDATE SET settings = EXCLUDED.settings,
           secret_fields = EXCLUDED.secret_fields, updated_by = EXCLUDED.updated_by, updated_at = clock_timestamp()
         RETURNING *`,
        [input.tenantId, input.userId ?? '', input.integration, JSON.stringify(input.settings), input.secretFields, input.updatedBy],
      );
      return toIntegrationSettings(rows[0]!);
    },
    get: async (tenantId: string, userId: string | null, integration: string): Promise<StoredIntegrationSettings | null> => {
      const rows = await this.q(`SELECT * FROM integration_settings WHERE tenant_id = $1 AND user_id = $2 AND integration = $3`, [
        tenantId,
        userId ?? '',
        integration,
      ]);
      return rows[0] ? toIntegrationSettings(rows[0]) : null;
    },
    listFor: async (tenantId: string, userId: string, integration?: string): Promise<StoredIntegrationSettings[]> =>
      (
        await this.q(
          `SELECT * FROM integration_settings WHERE tenant_id = $1 AND user_id IN ('', $2) AND ($3::text IS NULL OR integration = $3)
           ORDER BY integration, user_id`,
          [tenantId, userId, integration ?? null],
        )
      ).map(toIntegrationSettings),
    delete: async (tenantId: string, userId: string | null, integration: string): Promise<boolean> =>
      (
        await this.q(`DELETE FROM integration_settings WHERE tenant_id = $1 AND user_id = $2 AND integration = $3 RETURNING integration`, [
          tenantId,
          userId ?? '',
          integration,
        ])
      ).length > 0,
  };

  sealedSecrets = {
    put: async (tenantId: string, path: string, ciphertext: string): Promise<SealedSecret> => {
      const rows = await this.q(
        `INSERT INTO sealed_secrets (tenant_id, path, ciphertext) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, path) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, updated_at = clock_timestamp()
         RETURNING *`,
        [tenantId, path, ciphertext],
      );
      return toSealedSecret(rows[0]!);
    },
    get: async (tenantId: string, path: string): Promise<SealedSecret | null> => {
      const rows = await this.q(`SELECT * FROM sealed_secrets WHERE tenant_id = $1 AND path = $2`, [tenantId, path]);
      return rows[0] ? toSealedSecret(rows[0]) : null;
    },
    delete: async (tenantId: string, path: string): Promise<boolean> =>
      (await this.q(`DELETE FROM sealed_secrets WHERE tenant_id = $1 AND path = $2 RETURNING path`, [tenantId, path])).length > 0,
  };

  leases = {
    acquire: async (input: {
      tenantId: string;
      host: string;
      holder: string;
      ttlMs: number;
      maxPerTenant: number;
    }): Promise<LeaseOutcome> => {
      return this.db.transaction(async (tx) => {
        // One tenant's lease decisions are serialised, so the cap cannot be overrun by a race.
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext('infraai-leases:' || $1))`, [input.tenantId]);
        await tx.query(`DELETE FROM remediation_leases WHERE tenant_id = $1 AND expires_at < now()`, [input.tenantId]);
        const current = await tx.query<Row>(`SELECT holder FROM remediation_leases WHERE tenant_id = $1 AND host = $2`, [
          input.tenantId,
          input.host,
        ]);
        const holder = current.rows[0] ? String(current.rows[0].holder) : null;
        if (holder && holder !== input.holder) return { acquired: false as const, reason: 'host-busy' as const, holder };
        if (!holder) {
          const count = await tx.query<Row>(`SELECT count(*)::int AS n FROM remediation_leases WHERE tenant_id = $1`, [input.tenantId]);
          if (Number(count.rows[0]?.n ?? 0) >= input.maxPerTenant)
            return { acquired: false as const, reason: 'tenant-cap' as const, holder: null };
        }
        const rows = await tx.query<Row>(
          `INSERT INTO remediation_leases (tenant_id, host, holder, expires_at) VALUES ($1, $2, $3, now() + ($4::int * interval '1 millisecond'))
           ON CONFLICT (tenant_id, host) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE remediation_leases.holder = EXCLUDED.holder
           RETURNING expires_at`,
          [input.tenantId, input.host, input.holder, Math.round(input.ttlMs)],
        );
        return { acquired: true as const, expiresAt: new Date(String(rows.rows[0]?.expires_at)).toISOString() };
      });
    },
    release: async (tenantId: string, host: string, holder: string): Promise<boolean> =>
      (
        await this.q(`DELETE FROM remediation_leases WHERE tenant_id = $1 AND host = $2 AND holder = $3 RETURNING host`, [
          tenantId,
          host,
          holder,
        ])
      ).length > 0,
    list: async (tenantId: string) =>
      (
        await this.q(`SELECT host, holder, expires_at FROM remediation_leases WHERE tenant_id = $1 AND expires_at >= now() ORDER BY host`, [
          tenantId,
        ])
      ).map((r) => ({
        host: String(r.host),
        holder: String(r.holder),
        expiresAt: new Date(String(r.expires_at)).toISOString(),
      })),
  };

  runs = {
    project: async (write: RunProjectionWrite): Promise<RunProjectionOutcome> => {
      const rows = await this.q(`SELECT infraai_project_run($1::jsonb) AS outcome`, [JSON.stringify(write)]);
      return toProjectionOutcome(rows[0]?.outcome);
    },
    get: async (tenantId: string, family: RunFamily, runId: string): Promise<RunProjection | null> => {
      if (!UUID_PATTERN.test(tenantId)) return null;
      const rows = await this.q(`SELECT * FROM run_projections WHERE tenant_id = $1 AND family = $2 AND run_id = $3 AND version > 0`, [
        tenantId,
        family,
        runId,
      ]);
      return rows[0] ? toRunProjection(rows[0]) : null;
    },
    eventsOfRun: async (tenantId: string, family: RunFamily, runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> =>
      (
        await this.q(`SELECT * FROM run_events WHERE tenant_id = $1 AND family = $2 AND run_id = $3 AND seq > $4 ORDER BY seq LIMIT $5`, [
          tenantId,
          family,
          runId,
          afterSeq,
          limit,
        ])
      ).map(toRunEvent),
    eventsOfTenant: async (tenantId: string, afterTenantSeq: number, limit: number, family?: RunFamily): Promise<RunEvent[]> =>
      (
        await this.q(
          `SELECT * FROM run_events WHERE tenant_id = $1 AND tenant_seq > $2 AND ($3::text IS NULL OR family = $3)
           ORDER BY tenant_seq LIMIT $4`,
          [tenantId, afterTenantSeq, family ?? null, limit],
        )
      ).map(toRunEvent),
    latestTenantSeq: async (tenantId: string): Promise<number> =>
      Number((await this.q(`SELECT last_seq FROM run_event_counters WHERE tenant_id = $1`, [tenantId]))[0]?.last_seq ?? 0),
  };

  chat = createSqlChatRepository((text, params) => this.q(text, params));

  provisioning = createSqlProvisioningRepository((text, params) => this.q(text, params));

  automation = {
    create: async (tenantId: string, input: AutomationRunInput): Promise<{ run: AutomationRun; created: boolean }> => {
      const key = input.idempotencyKey ?? null;
      // A repeat finds the first run without drawing a number (a racing repeat may still skip one).
      if (key) {
        const existing = await this.q(`SELECT * FROM automation_runs WHERE tenant_id = $1 AND idempotency_key = $2`, [tenantId, key]);
        if (existing[0]) return { run: toAutomationRun(existing[0]), created: false };
      }
      const rows = await this.q(
        `INSERT INTO automation_runs (id, tenant_id, number, request, targets, check_mode, workflow_id, created_by, idempotency_key)
         VALUES ($1, $2, 0, $3, $4::text[], $5, $6, $7, $8)
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING *`,
        [input.id, tenantId, input.request, input.targets, input.checkMode, automationWorkflowId(input.id), input.createdBy, key],
      );
      if (rows[0]) return { run: toAutomationRun(rows[0]), created: true };
      const existing = await this.q(`SELECT * FROM automation_runs WHERE tenant_id = $1 AND idempotency_key = $2`, [tenantId, key]);
      if (!existing[0]) throw new Error('automation run insert returned nothing and no idempotent match exists');
      return { run: toAutomationRun(existing[0]), created: false };
    },
    get: async (tenantId: string, id: string): Promise<AutomationRun | null> => {
      if (!UUID_PATTERN.test(id) || !UUID_PATTERN.test(tenantId)) return null;
      const rows = await this.q(`SELECT * FROM automation_runs WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toAutomationRun(rows[0]) : null;
    },
    list: async (tenantId: string, filter: AutomationFilter, page: PageRequest): Promise<Page<AutomationRun>> => {
      const where = ['tenant_id = $1'];
      const params: unknown[] = [tenantId];
      const add = (clause: (n: string) => string, value: unknown) => {
        params.push(value);
        where.push(clause(`$${params.length}`));
      };
      if (filter.status) add((p) => `status = ${p}`, filter.status);
      if (filter.target) add((p) => `targets @> ARRAY[${p}::text]`, filter.target);
      if (page.cursor) {
        const [beforeNumber] = decodeCursor(page.cursor, ['number']) as [number];
        if (!Number.isInteger(beforeNumber) || beforeNumber < 1) throw new InvalidCursorError();
        add((p) => `number < ${p}`, beforeNumber);
      }
      params.push(page.limit + 1);
      const rows = await this.q(
        `SELECT * FROM automation_runs WHERE ${where.join(' AND ')} ORDER BY number DESC LIMIT $${params.length}`,
        params,
      );
      const items = rows.slice(0, page.limit).map(toAutomationRun);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > page.limit && last ? encodeCursor([last.number]) : null };
    },
    update: async (tenantId: string, id: string, update: AutomationRunUpdate): Promise<AutomationRun | null> => {
      if (!UUID_PATTERN.test(id)) return null;
      const sets = ['updated_at = now()'];
      const params: unknown[] = [tenantId, id];
      const set = (column: string, value: unknown, cast = '') => {
        params.push(value);
        sets.push(`${column} = $${params.length}${cast}`);
      };
      const jsonOrNull = (value: unknown) => (value === null ? null : JSON.stringify(value));
      if (update.status !== undefined) {
        set('status', update.status);
        if (isFinalAutomationStatus(update.status)) sets.push('finished_at = coalesce(finished_at, now())');
      }
      if (update.generation !== undefined) set('generation', jsonOrNull(update.generation), '::jsonb');
      if (update.artifacts !== undefined) set('artifacts', jsonOrNull(update.artifacts), '::json');
      if (update.artifactsHash !== undefined) set('artifacts_hash', update.artifactsHash);
      if (update.findings !== undefined) set('findings', JSON.stringify(update.findings), '::jsonb');
      if (update.approval !== undefined) set('approval', jsonOrNull(update.approval), '::jsonb');
      if (update.recap !== undefined) set('recap', jsonOrNull(update.recap), '::jsonb');
      if (update.progress !== undefined) set('progress', jsonOrNull(update.progress), '::jsonb');
      if (update.summary !== undefined) set('summary', update.summary);
      if (update.error !== undefined) set('error', update.error);
      const rows = await this.q(`UPDATE automation_runs SET ${sets.join(', ')} WHERE tenant_id = $1 AND id = $2 RETURNING *`, params);
      return rows[0] ? toAutomationRun(rows[0]) : null;
    },
    delete: async (tenantId: string, id: string): Promise<boolean> => {
      if (!UUID_PATTERN.test(id)) return false;
      return (await this.q(`DELETE FROM automation_runs WHERE tenant_id = $1 AND id = $2 RETURNING id`, [tenantId, id])).length > 0;
    },
    appendLog: async (tenantId: string, runId: string, firstLine: number, lines: string[]): Promise<number> => {
      if (!UUID_PATTERN.test(runId)) return 0;
      // One statement: the lines (numbered from firstLine, already stored ones kept) and the count.
      const rows = await this.q(
        `WITH run AS (SELECT id FROM automation_runs WHERE tenant_id = $1 AND id = $2),
              added AS (
                INSERT INTO automation_log_lines (tenant_id, run_id, seq, text)
                SELECT $1, run.id, $3::int + x.ord::int - 1, x.line
                  FROM run, jsonb_array_elements_text($4::jsonb) WITH ORDINALITY AS x(line, ord)
                ON CONFLICT (run_id, seq) DO NOTHING RETURNING seq)
         UPDATE automation_runs SET log_lines = greatest(log_lines, $3::int + $5::int - 1), updated_at = now()
          WHERE tenant_id = $1 AND id = $2 RETURNING log_lines`,
        [tenantId, runId, firstLine, JSON.stringify(lines), lines.length],
      );
      return Number(rows[0]?.log_lines ?? 0);
    },
    readLog: async (tenantId: string, runId: string, afterLine: number, limit: number): Promise<AutomationLogPage> => {
      if (!UUID_PATTERN.test(runId)) return { lines: [], total: 0 };
      const [lines, total] = await Promise.all([
        this.q(`SELECT seq, text FROM automation_log_lines WHERE tenant_id = $1 AND run_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`, [
          tenantId,
          runId,
          afterLine,
          limit,
        ]),
        this.q(`SELECT log_lines FROM automation_runs WHERE tenant_id = $1 AND id = $2`, [tenantId, runId]),
      ]);
      return { lines: lines.map((r) => ({ n: Number(r.seq), text: String(r.text) })), total: Number(total[0]?.log_lines ?? 0) };
    },
    countByStatus: async (): Promise<Record<AutomationStatus, number>> => {
      const rows = await this.q<{ status: AutomationStatus; n: number | string }>(
        `SELECT status, count(*) AS n FROM automation_runs GROUP BY status`,
      );
      const counts = Object.fromEntries(AUTOMATION_STATUSES.map((status) => [status, 0])) as Record<AutomationStatus, number>;
      for (const row of rows) counts[row.status] = Number(row.n);
      return counts;
    },
  };

  policies = {
    create: async (tenantId: string, input: PolicyInput): Promise<StoredPolicy> => {
      const at = new Date().toISOString();
      try {
        const rows = await this.db.query<Row>(
          `INSERT INTO self_healing_policies (id, tenant_id, name, description, enabled, priority, condition, action, host_label, limits,
             breaker, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10::jsonb, $11::jsonb, $12, $12) RETURNING *`,
          [randomUUID(), tenantId, ...policyValues(input), at],
        );
        return toPolicy(rows.rows[0]!);
      } catch (err) {
        if (sqlState(err) === '23505') throw new DuplicateKeyError('Policy', input.name);
        return translate(err);
      }
    },
    get: async (tenantId: string, id: string): Promise<StoredPolicy | null> => {
      if (!UUID_PATTERN.test(id) || !UUID_PATTERN.test(tenantId)) return null;
      const rows = await this.q(`SELECT * FROM self_healing_policies WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toPolicy(rows[0]) : null;
    },
    list: async (tenantId: string, filter: PolicyFilter, page: PageRequest): Promise<Page<StoredPolicy>> => {
      const where = ['tenant_id = $1'];
      const params: unknown[] = [tenantId];
      const add = (clause: (n: string) => string, value: unknown) => {
        params.push(value);
        where.push(clause(`$${params.length}`));
      };
      if (filter.enabled !== undefined) add((p) => `enabled = ${p}`, filter.enabled);
      if (filter.actionType) add((p) => `action->>'type' = ${p}`, filter.actionType);
      if (page.cursor) {
        const [priority, createdAt, id] = decodePolicyCursor(page.cursor);
        params.push(priority, createdAt, id);
        const n = params.length;
        where.push(`(priority, created_at, id) > ($${n - 2}::int, $${n - 1}::timestamptz, $${n}::uuid)`);
      }
      params.push(page.limit + 1);
      const rows = await this.q(
        `SELECT * FROM self_healing_policies WHERE ${where.join(' AND ')} ORDER BY priority, created_at, id LIMIT $${params.length}`,
        params,
      );
      const items = rows.slice(0, page.limit).map(toPolicy);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > page.limit && last ? encodeCursor([last.priority, last.createdAt, last.id]) : null };
    },
    all: async (tenantId: string): Promise<StoredPolicy[]> =>
      (await this.q(`SELECT * FROM self_healing_policies WHERE tenant_id = $1 ORDER BY priority, created_at, id`, [tenantId])).map(
        toPolicy,
      ),
    replace: async (tenantId: string, id: string, input: PolicyInput, expectedVersion: number): Promise<PolicyWriteOutcome> => {
      if (!UUID_PATTERN.test(id)) return { kind: 'not_found' };
      let rows: Row[];
      try {
        rows = (
          await this.db.query<Row>(
            `UPDATE self_healing_policies SET name = $4, description = $5, enabled = $6, priority = $7, condition = $8::jsonb,
               action = $9::jsonb, host_label = $10, limits = $11::jsonb, breaker = $12::jsonb, version = version + 1, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND version = $3 RETURNING *`,
            [tenantId, id, expectedVersion, ...policyValues(input)],
          )
        ).rows;
      } catch (err) {
        if (sqlState(err) === '23505') throw new DuplicateKeyError('Policy', input.name);
        return translate(err);
      }
      if (rows[0]) return { kind: 'done', policy: toPolicy(rows[0]) };
      return this.policyMiss(tenantId, id);
    },
    delete: async (tenantId: string, id: string, expectedVersion?: number): Promise<PolicyWriteOutcome> => {
      if (!UUID_PATTERN.test(id)) return { kind: 'not_found' };
      const rows = await this.q(
        `DELETE FROM self_healing_policies WHERE tenant_id = $1 AND id = $2 AND ($3::int IS NULL OR version = $3::int) RETURNING id`,
        [tenantId, id, expectedVersion ?? null],
      );
      if (rows[0]) return { kind: 'done', policy: null };
      return this.policyMiss(tenantId, id);
    },
  };

  private async policyMiss(tenantId: string, id: string): Promise<PolicyWriteOutcome> {
    const current = await this.q(`SELECT version FROM self_healing_policies WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return current[0] ? { kind: 'stale', version: Number(current[0].version) } : { kind: 'not_found' };
  }

  /** One policy's decisions in a transaction holding its advisory lock: never stale, never overrun. */
  private async underPolicyLock<T>(policyId: string, fn: (db: PolicyDecisionDb) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext('infraai-policy:' || $1))`, [policyId]);
        return fn(sqlPolicyDecisionDb(tx));
      });
    } catch (err) {
      return translate(err);
    }
  }

  policyJobs = {
    claimRun: async (tenantId: string, claim: PolicyClaim): Promise<{ job: PolicyJob; created: boolean }> =>
      this.underPolicyLock(claim.match.policy.id, (db) => claimRunWith(db, tenantId, claim)),
    record: async (tenantId: string, decision: PolicyDecisionRecord): Promise<{ job: PolicyJob; created: boolean }> => {
      try {
        return await recordDecisionWith(sqlPolicyDecisionDb(this.db), tenantId, decision);
      } catch (err) {
        return translate(err);
      }
    },
    markRunning: async (tenantId: string, id: string, workflowId: string, now: Date): Promise<PolicyJob | null> => {
      if (!UUID_PATTERN.test(id) || !UUID_PATTERN.test(tenantId)) return null;
      const rows = await this.q(
        `UPDATE policy_jobs SET status = 'running', workflow_id = $3, started_at = $4, updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND status = 'queued' RETURNING *`,
        [tenantId, id, workflowId, now.toISOString()],
      );
      return rows[0] ? toPolicyJob(rows[0]) : this.policyJobs.get(tenantId, id);
    },
    finishRun: async (
      tenantId: string,
      id: string,
      outcome: { succeeded: boolean; detail?: string | null },
      now: Date,
    ): Promise<PolicyRunEnd | null> => {
      const job = await this.policyJobs.get(tenantId, id);
      if (!job) return null;
      if (!job.policyId) return finishRunWith(sqlPolicyDecisionDb(this.db), tenantId, id, outcome, now);
      return this.underPolicyLock(job.policyId, (db) => finishRunWith(db, tenantId, id, outcome, now));
    },
    unfinished: async (before: Date, limit: number): Promise<PolicyJob[]> => {
      const rows = await this.q(
        `SELECT * FROM policy_jobs WHERE status IN ('queued', 'running') AND updated_at < $1 ORDER BY updated_at LIMIT $2`,
        [before.toISOString(), limit],
      );
      return rows.map(toPolicyJob);
    },
    addDetail: async (tenantId: string, id: string, line: string): Promise<PolicyJob | null> => {
      if (!UUID_PATTERN.test(id) || !UUID_PATTERN.test(tenantId)) return null;
      await this.q(
        `UPDATE policy_jobs SET detail = CASE WHEN detail IS NULL OR detail = '' THEN $3 ELSE detail || chr(10) || $3 END, updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND (detail IS NULL OR strpos(detail, $3) = 0)`,
        [tenantId, id, line],
      );
      return this.policyJobs.get(tenantId, id);
    },
    get: async (tenantId: string, id: string): Promise<PolicyJob | null> => {
      if (!UUID_PATTERN.test(id) || !UUID_PATTERN.test(tenantId)) return null;
      const rows = await this.q(`SELECT * FROM policy_jobs WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toPolicyJob(rows[0]) : null;
    },
    list: async (tenantId: string, filter: PolicyJobFilter, page: PageRequest): Promise<Page<PolicyJob>> => {
      const where = ['tenant_id = $1'];
      const params: unknown[] = [tenantId];
      const add = (clause: (n: string) => string, value: unknown) => {
        params.push(value);
        where.push(clause(`$${params.length}`));
      };
      if (filter.policyId) {
        if (!UUID_PATTERN.test(filter.policyId)) return { items: [], nextCursor: null };
        add((p) => `policy_id = ${p}::uuid`, filter.policyId);
      }
      if (filter.status) add((p) => `status = ${p}`, filter.status);
      if (filter.host) add((p) => `host = ${p}`, filter.host);
      if (filter.from) add((p) => `decided_at >= ${p}::timestamptz`, filter.from);
      if (filter.to) add((p) => `decided_at < ${p}::timestamptz`, filter.to);
      if (page.cursor) add((p) => `seq < ${p}`, decodeSeqCursor(page.cursor));
      params.push(page.limit + 1);
      const rows = await this.q(`SELECT * FROM policy_jobs WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT $${params.length}`, params);
      const kept = rows.slice(0, page.limit);
      const last = kept.at(-1);
      return { items: kept.map(toPolicyJob), nextCursor: rows.length > page.limit && last ? encodeCursor([Number(last.seq)]) : null };
    },
    breaker: async (tenantId: string, policyId: string): Promise<BreakerRecord> => {
      if (!UUID_PATTERN.test(policyId)) return CLOSED_BREAKER;
      return toUsage((await this.q(`SELECT infraai_policy_usage($1::uuid, $2::uuid, '', now()) AS r`, [tenantId, policyId]))[0]?.r).usage
        .breaker;
    },
  };

  alertEvents = {
    append: async (tenantId: string, source: string, receivedAt: Date, alerts: PolicyAlert[]): Promise<AlertEvent[]> => {
      if (alerts.length === 0) return [];
      const rows = await this.q(
        `INSERT INTO alert_events (id, tenant_id, source, received_at, status, fingerprint, starts_at, labels, annotations)
         SELECT (e->>'id')::uuid, $1, $2, $3::timestamptz, e->>'status', e->>'fingerprint', (e->>'startsAt')::timestamptz,
                coalesce(e->'labels', '{}'::jsonb), coalesce(e->'annotations', '{}'::jsonb)
           FROM jsonb_array_elements($4::jsonb) AS x(e)
         RETURNING *`,
        [tenantId, source, receivedAt.toISOString(), JSON.stringify(alerts.map((a) => ({ id: randomUUID(), ...a })))],
      );
      return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(toAlertEvent);
    },
    listWindow: async (tenantId: string, window: { from: string; to: string }, limit: number): Promise<AlertEvent[]> =>
      (
        await this.q(
          `SELECT * FROM alert_events WHERE tenant_id = $1 AND received_at >= $2::timestamptz AND received_at < $3::timestamptz
           ORDER BY received_at, seq LIMIT $4`,
          [tenantId, window.from, window.to, limit],
        )
      ).map(toAlertEvent),
  };
}

function policyValues(input: PolicyInput): unknown[] {
  return [
    input.name,
    input.description,
    input.enabled,
    input.priority,
    JSON.stringify(input.condition),
    JSON.stringify(input.action),
    input.hostLabel,
    JSON.stringify(input.limits),
    JSON.stringify(input.breaker),
  ];
}

/**
 * The store functions of migration 0010 over one SQL client. The store calls them in a transaction
 * holding the policy's lock; over a pool (each call its own transaction) they behave as the
 * Supabase adapter's RPC calls do, which is how the store tests exercise that path.
 */
export function sqlPolicyDecisionDb(tx: SqlClient): PolicyDecisionDb {
  const one = async (text: string, params: unknown[]) => (await tx.query<Row>(text, params)).rows[0]?.r;
  return {
    usage: (tenantId, policyId, cooldownKey, now) =>
      one(`SELECT infraai_policy_usage($1::uuid, $2::uuid, $3, $4::timestamptz) AS r`, [
        tenantId,
        policyId,
        cooldownKey,
        now.toISOString(),
      ]),
    recordClaim: (job, expectedSeq, breaker) =>
      one(`SELECT infraai_record_policy_claim($1::jsonb, $2::bigint, $3::jsonb) AS r`, [
        JSON.stringify(job),
        expectedSeq,
        breaker ? JSON.stringify(breaker) : null,
      ]),
    finish: (tenantId, jobId, status, detail, now, expectedSeq, breaker) =>
      one(`SELECT infraai_finish_policy_job($1::uuid, $2::uuid, $3, $4, $5::timestamptz, $6::bigint, $7::jsonb) AS r`, [
        tenantId,
        jobId,
        status,
        detail,
        now.toISOString(),
        expectedSeq,
        JSON.stringify(breaker),
      ]),
    job: async (tenantId, jobId) => {
      const rows = (await tx.query<Row>(`SELECT * FROM policy_jobs WHERE tenant_id = $1 AND id = $2`, [tenantId, jobId])).rows;
      return rows[0] ? toPolicyJob(rows[0]) : null;
    },
    policy: async (tenantId, policyId) => {
      const rows = (await tx.query<Row>(`SELECT * FROM self_healing_policies WHERE tenant_id = $1 AND id = $2`, [tenantId, policyId])).rows;
      return rows[0] ? toPolicy(rows[0]) : null;
    },
  };
}
