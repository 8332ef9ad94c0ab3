import { randomUUID } from 'node:crypto';
import { createClient, type PostgrestError, type SupabaseClient } from '@supabase/supabase-js';
import { createSupabaseChatRepository } from './chat-supabase.js';
import { createSupabaseProvisioningRepository } from './provisioning-supabase.js';
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
import {
  DuplicateKeyError,
  InvalidCursorError,
  StoreUnavailableError,
  type ApiKeyRecord,
  type ChatRepository,
  type ProvisioningRepository,
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
  type JobLogInput,
  type KnowledgeChunkRecord,
  type KnowledgeDocument,
  type KnowledgeDocumentInput,
  type KnowledgeKind,
  type Page,
  type PageRequest,
  type ResultInput,
  type Role,
  type Store,
  type Tenant,
} from './port.js';
import type { RunEvent, RunFamily, RunProjection, RunProjectionWrite } from '../../core/contracts/run-events.js';
import {
  AUTOMATION_STATUSES,
  automationWorkflowId,
  isFinalAutomationStatus,
  type AutomationStatus,
} from '../../core/contracts/automation.js';
import { claimRunWith, finishRunWith, recordDecisionWith, toUsage, type PolicyDecisionDb } from './policy-decisions.js';
import { CLOSED_BREAKER, type BreakerRecord } from '../../core/policies/evaluate.js';
import type { PolicyAlert } from '../../core/policies/model.js';

// The Supabase adapter talks to the same tables through Supabase's REST interface (PostgREST)
// with supabase-js. It cannot run DDL: apply migrations/*.sql with DATABASE_URL or the SQL editor.

function check(result: { data: unknown; error: PostgrestError | null }, entity = 'row', key = ''): Row[] {
  if (!result.error) return Array.isArray(result.data) ? (result.data as Row[]) : [];
  if (result.error.code === '23505') throw new DuplicateKeyError(entity, key);
  if (!result.error.code || /fetch failed|network|ECONNREFUSED/i.test(result.error.message)) {
    throw new StoreUnavailableError(`Supabase unavailable: ${result.error.message}`);
  }
  throw new Error(`Supabase ${result.error.code}: ${result.error.message}`);
}

function cmdbRow(item: Omit<CmdbItemInput, 'tagId'>): Row {
  return {
    instance_id: item.instanceId,
    hostname: item.hostname,
    address: item.address,
    port: item.port,
    environment: item.environment,
    owner: item.owner,
    os: item.os,
    service_manager: item.serviceManager,
    ssh_user: item.sshUser,
    ssh_credential: item.sshCredential,
    description: item.description,
    tags: item.tags ?? {},
  };
}

/** PostgREST filter values must be quoted when they contain reserved characters. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export class SupabaseStore implements Store {
  readonly kind = 'supabase' as const;
  readonly chat: ChatRepository;
  readonly provisioning: ProvisioningRepository;

  constructor(private readonly db: SupabaseClient) {
    this.chat = createSupabaseChatRepository(db, check, (fn, args) => this.rpc(fn, args));
    this.provisioning = createSupabaseProvisioningRepository(db, check, (fn, args) => this.rpc(fn, args));
  }

  async ping(): Promise<void> {
    check(await this.db.from('schema_migrations').select('version').limit(1));
  }

  async close(): Promise<void> {
    await this.db.removeAllChannels();
  }

  tenants = {
    ensure: async (slug: string, name?: string): Promise<Tenant> => {
      check(
        await this.db
          .from('tenants')
          .upsert({ id: randomUUID(), slug, name: name ?? slug }, { onConflict: 'slug', ignoreDuplicates: true }),
      );
      const rows = check(await this.db.from('tenants').select('*').eq('slug', slug).limit(1));
      return toTenant(rows[0]!);
    },
    getById: async (id: string): Promise<Tenant | null> => {
      if (!UUID_PATTERN.test(id)) return null;
      const rows = check(await this.db.from('tenants').select('*').eq('id', id).limit(1));
      return rows[0] ? toTenant(rows[0]) : null;
    },
    getBySlug: async (slug: string): Promise<Tenant | null> => {
      const rows = check(await this.db.from('tenants').select('*').eq('slug', slug).limit(1));
      return rows[0] ? toTenant(rows[0]) : null;
    },
  };

  apiKeys = {
    create: async (input: { tenantId: string; name: string; role: Role; prefix: string; hash: string }): Promise<ApiKeyRecord> => {
      const fields = { tenant_id: input.tenantId, name: input.name, role: input.role, hash: input.hash, revoked_at: null };
      const existing = check(await this.db.from('api_keys').select('id').eq('prefix', input.prefix).limit(1));
      const rows = existing[0]
        ? check(await this.db.from('api_keys').update(fields).eq('id', existing[0].id).select('*'))
        : check(
            await this.db
              .from('api_keys')
              .insert({ id: randomUUID(), prefix: input.prefix, ...fields })
              .select('*'),
            'API key',
            input.prefix,
          );
      return toApiKey(rows[0]!);
    },
    findByPrefix: async (prefix: string): Promise<ApiKeyRecord | null> => {
      const rows = check(await this.db.from('api_keys').select('*').eq('prefix', prefix).limit(1));
      return rows[0] ? toApiKey(rows[0]) : null;
    },
    touch: async (id: string): Promise<void> => {
      const cutoff = new Date(Date.now() - 60_000).toISOString();
      check(
        await this.db
          .from('api_keys')
          .update({ last_used_at: new Date().toISOString() })
          .eq('id', id)
          .or(`last_used_at.is.null,last_used_at.lt.${cutoff}`),
      );
    },
    revoke: async (tenantId: string, id: string): Promise<boolean> => {
      if (!UUID_PATTERN.test(id)) return false;
      const rows = check(
        await this.db
          .from('api_keys')
          .update({ revoked_at: new Date().toISOString() })
          .eq('tenant_id', tenantId)
          .eq('id', id)
          .is('revoked_at', null)
          .select('id'),
      );
      return rows.length > 0;
    },
    list: async (tenantId: string): Promise<ApiKeyRecord[]> => {
      const rows = check(await this.db.from('api_keys').select('*').eq('tenant_id', tenantId).order('created_at').order('id'));
      return rows.map(toApiKey);
    },
  };

  cmdb = {
    create: async (tenantId: string, item: CmdbItemInput): Promise<CmdbItem> => {
      const rows = check(
        await this.db
          .from('cmdb_items')
          .insert({ tenant_id: tenantId, tag_id: item.tagId, ...cmdbRow(item) })
          .select('*'),
        'CMDB item',
        item.tagId,
      );
      return toCmdbItem(rows[0]!);
    },
    get: async (tenantId: string, tagId: string): Promise<CmdbItem | null> => {
      const rows = check(await this.db.from('cmdb_items').select('*').eq('tenant_id', tenantId).eq('tag_id', tagId).limit(1));
      return rows[0] ? toCmdbItem(rows[0]) : null;
    },
    getByInstanceId: async (tenantId: string, instanceId: string): Promise<CmdbItem | null> => {
      const rows = check(
        await this.db.from('cmdb_items').select('*').eq('tenant_id', tenantId).eq('instance_id', instanceId).order('tag_id').limit(1),
      );
      return rows[0] ? toCmdbItem(rows[0]) : null;
    },
    list: async (tenantId: string, filter: CmdbFilter, page: PageRequest): Promise<Page<CmdbItem>> => {
      let query = this.db.from('cmdb_items').select('*').eq('tenant_id', tenantId);
      if (filter.environment) query = query.eq('environment', filter.environment);
      if (filter.owner) query = query.eq('owner', filter.owner);
      if (filter.hostname) query = query.eq('hostname', filter.hostname);
      if (filter.instanceId) query = query.eq('instance_id', filter.instanceId);
      if (filter.tags && Object.keys(filter.tags).length > 0) query = query.contains('tags', filter.tags);
      if (filter.q) {
        const pattern = quote(`*${filter.q.replace(/[\\%_*]/g, (c) => `\\${c}`)}*`);
        query = query.or(`tag_id.ilike.${pattern},hostname.ilike.${pattern},address.ilike.${pattern},description.ilike.${pattern}`);
      }
      if (page.cursor) query = query.gt('tag_id', decodeCursor(page.cursor, ['string'])[0] as string);
      const rows = check(await query.order('tag_id').limit(page.limit + 1));
      const items = rows.slice(0, page.limit).map(toCmdbItem);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > page.limit && last ? encodeCursor([last.tagId]) : null };
    },
    replace: async (tenantId: string, tagId: string, item: Omit<CmdbItemInput, 'tagId'>): Promise<CmdbItem | null> => {
      const rows = check(
        await this.db
          .from('cmdb_items')
          .update({ ...cmdbRow(item), updated_at: new Date().toISOString() })
          .eq('tenant_id', tenantId)
          .eq('tag_id', tagId)
          .select('*'),
      );
      return rows[0] ? toCmdbItem(rows[0]) : null;
    },
    delete: async (tenantId: string, tagId: string): Promise<boolean> => {
      const rows = check(await this.db.from('cmdb_items').delete().eq('tenant_id', tenantId).eq('tag_id', tagId).select('tag_id'));
      return rows.length > 0;
    },
  };

  incidents = {
    create: async (tenantId: string, input: IncidentInput): Promise<{ incident: Incident; created: boolean }> => {
      const row = {
        id: input.id,
        tenant_id: tenantId,
        number: 0,
        title: input.title,
        description: input.description,
        severity: input.severity,
        tag_id: input.tagId,
        source: input.source,
        workflow_id: `incident-${input.id}`,
        created_by: input.createdBy,
        idempotency_key: input.idempotencyKey ?? null,
        external: input.external ?? {},
      };
      if (!row.idempotency_key) {
        const rows = check(await this.db.from('incidents').insert(row).select('*'));
        return { incident: toIncident(rows[0]!), created: true };
      }
      const inserted = check(
        await this.db.from('incidents').upsert(row, { onConflict: 'tenant_id,idempotency_key', ignoreDuplicates: true }).select('*'),
      );
      if (inserted[0]) return { incident: toIncident(inserted[0]), created: true };
      const rows = check(
        await this.db.from('incidents').select('*').eq('tenant_id', tenantId).eq('idempotency_key', row.idempotency_key).limit(1),
      );
      return { incident: toIncident(rows[0]!), created: false };
    },
    get: async (tenantId: string, id: string): Promise<Incident | null> => {
      if (!UUID_PATTERN.test(id)) return null;
      const rows = check(await this.db.from('incidents').select('*').eq('tenant_id', tenantId).eq('id', id).limit(1));
      return rows[0] ? toIncident(rows[0]) : null;
    },
    getByNumber: async (tenantId: string, number: number): Promise<Incident | null> => {
      const rows = check(await this.db.from('incidents').select('*').eq('tenant_id', tenantId).eq('number', number).limit(1));
      return rows[0] ? toIncident(rows[0]) : null;
    },
    list: async (tenantId: string, filter: IncidentFilter, page: PageRequest): Promise<Page<Incident>> => {
      let query = this.db.from('incidents').select('*').eq('tenant_id', tenantId);
      if (filter.status) query = query.eq('status', filter.status);
      if (filter.severity) query = query.eq('severity', filter.severity);
      if (filter.tagId) query = query.eq('tag_id', filter.tagId);
      if (page.cursor) {
        const [beforeNumber] = decodeCursor(page.cursor, ['number']) as [number];
        if (!Number.isInteger(beforeNumber) || beforeNumber < 1) throw new InvalidCursorError();
        query = query.lt('number', beforeNumber);
      }
      const rows = check(await query.order('number', { ascending: false }).limit(page.limit + 1));
      const items = rows.slice(0, page.limit).map(toIncident);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > page.limit && last ? encodeCursor([last.number]) : null };
    },
    update: async (tenantId: string, id: string, update: IncidentUpdate): Promise<Incident | null> => {
      if (!UUID_PATTERN.test(id)) return null;
      const fields: Row = { updated_at: new Date().toISOString() };
      if (update.status !== undefined) {
        fields.status = update.status;
        fields.resolved_at = TERMINAL_INCIDENT_STATUSES.includes(update.status) ? new Date().toISOString() : null;
      }
      if (update.targetHost !== undefined) fields.target_host = update.targetHost;
      if (update.summary !== undefined) fields.summary = update.summary;
      if (update.external !== undefined) {
        // PostgREST cannot merge jsonb in place: read, merge, write (references are only ever added).
        const current = check(await this.db.from('incidents').select('external').eq('tenant_id', tenantId).eq('id', id).limit(1));
        fields.external = { ...((current[0]?.external as Record<string, string> | undefined) ?? {}), ...update.external };
      }
      const rows = check(await this.db.from('incidents').update(fields).eq('tenant_id', tenantId).eq('id', id).select('*'));
      return rows[0] ? toIncident(rows[0]) : null;
    },
    delete: async (tenantId: string, id: string): Promise<boolean> => {
      if (!UUID_PATTERN.test(id)) return false;
      const rows = check(await this.db.from('incidents').delete().eq('tenant_id', tenantId).eq('id', id).select('id'));
      return rows.length > 0;
    },
    countByStatus: async (): Promise<Record<IncidentStatus, number>> => {
      // PostgREST aggregates are off by default: one head-only exact count per status, in parallel.
      const counted = await Promise.all(
        INCIDENT_STATUSES.map(async (status) => {
          const result = await this.db.from('incidents').select('id', { count: 'exact', head: true }).eq('status', status);
          check(result);
          return [status, result.count ?? 0] as const;
        }),
      );
      return Object.fromEntries(counted) as Record<IncidentStatus, number>;
    },
  };

  results = {
    write: async (tenantId: string, input: ResultInput): Promise<IncidentResult> => {
      if (!(await this.incidents.get(tenantId, input.incidentId)))
        throw new Error(`incident ${input.incidentId} does not exist for this tenant`);
      const row = {
        id: input.id ?? randomUUID(),
        tenant_id: tenantId,
        incident_id: input.incidentId,
        idempotency_key: input.idempotencyKey,
        status: input.status,
        summary: input.summary,
        details: input.details,
      };
      check(await this.db.from('results').upsert(row, { onConflict: 'tenant_id,idempotency_key', ignoreDuplicates: true }));
      const rows = check(
        await this.db
          .from('results')
          .select('*, incidents(number)')
          .eq('tenant_id', tenantId)
          .eq('idempotency_key', input.idempotencyKey)
          .limit(1),
      );
      return toResult(rows[0]!);
    },
    listForIncident: async (tenantId: string, incidentId: string): Promise<IncidentResult[]> => {
      if (!UUID_PATTERN.test(incidentId)) return [];
      const rows = check(
        await this.db
          .from('results')
          .select('*, incidents(number)')
          .eq('tenant_id', tenantId)
          .eq('incident_id', incidentId)
          .order('created_at')
          .order('id'),
      );
      return rows.map(toResult);
    },
  };

  jobLogs = {
    append: async (tenantId: string, input: JobLogInput): Promise<{ log: JobLog; created: boolean }> => {
      const row = {
        id: randomUUID(),
        tenant_id: tenantId,
        incident_id: input.incidentId,
        idempotency_key: input.idempotencyKey,
        action: input.action,
        target: input.target,
        status: input.status,
        detail: input.detail,
      };
      const inserted = check(
        await this.db.from('job_logs').upsert(row, { onConflict: 'tenant_id,idempotency_key', ignoreDuplicates: true }).select('*'),
      );
      if (inserted[0]) return { log: toJobLog(inserted[0]), created: true };
      const rows = check(
        await this.db.from('job_logs').select('*').eq('tenant_id', tenantId).eq('idempotency_key', input.idempotencyKey).limit(1),
      );
      return { log: toJobLog(rows[0]!), created: false };
    },
    listForIncident: async (tenantId: string, incidentId: string): Promise<JobLog[]> => {
      if (!UUID_PATTERN.test(incidentId)) return [];
      const rows = check(
        await this.db.from('job_logs').select('*').eq('tenant_id', tenantId).eq('incident_id', incidentId).order('created_at').order('id'),
      );
      return rows.map(toJobLog);
    },
  };

  knowledge = {
    addDocument: async (input: KnowledgeDocumentInput): Promise<{ document: KnowledgeDocument; created: boolean }> => {
      const scoped = (query: ReturnType<ReturnType<SupabaseClient['from']>['select']>) =>
        input.tenantId === null ? query.is('tenant_id', null) : query.eq('tenant_id', input.tenantId);
      const existing = check(await scoped(this.db.from('knowledge_documents').select('*')).eq('content_hash', input.contentHash).limit(1));
      if (existing[0]) return { document: toKnowledgeDocument(existing[0]), created: false };
      const row = {
        id: input.id,
        tenant_id: input.tenantId,
        title: input.title,
        kind: input.kind,
        source: input.source,
        content_type: input.contentType,
        content_hash: input.contentHash,
        size_bytes: input.sizeBytes,
        chunk_count: input.chunks.length,
        chunks_indexed: input.chunks.length,
        embedding_model: input.embeddingModel ?? null,
      };
      const inserted = check(await this.db.from('knowledge_documents').insert(row).select('*'), 'knowledge document', input.contentHash);
      const chunks = input.chunks.map((c) => ({
        id: `${input.id}#${c.index}`,
        doc_id: input.id,
        tenant_id: input.tenantId,
        idx: c.index,
        section: c.section,
        text: c.text,
        embedding: c.embedding ?? null,
      }));
      // PostgREST has no multi-request transaction: on a chunk failure the document row is removed again.
      for (let i = 0; i < chunks.length; i += 500) {
        const result = await this.db.from('knowledge_chunks').insert(chunks.slice(i, i + 500));
        if (result.error) {
          await this.db.from('knowledge_documents').delete().eq('id', input.id);
          check(result);
        }
      }
      return { document: toKnowledgeDocument(inserted[0]!), created: true };
    },
    listDocuments: async (tenantId: string | null, options: { includeGlobal?: boolean } = {}): Promise<KnowledgeDocument[]> => {
      let query = this.db.from('knowledge_documents').select('*');
      if (tenantId === null) query = query.is('tenant_id', null);
      else query = options.includeGlobal ? query.or(`tenant_id.eq.${tenantId},tenant_id.is.null`) : query.eq('tenant_id', tenantId);
      return check(await query.order('created_at', { ascending: false }).order('id')).map(toKnowledgeDocument);
    },
    getDocument: async (tenantId: string | null, id: string): Promise<KnowledgeDocument | null> => {
      if (!UUID_PATTERN.test(id)) return null;
      const query = this.db.from('knowledge_documents').select('*').eq('id', id);
      const rows = check(await (tenantId === null ? query.is('tenant_id', null) : query.eq('tenant_id', tenantId)).limit(1));
      return rows[0] ? toKnowledgeDocument(rows[0]) : null;
    },
    findDocumentByHash: async (tenantId: string | null, contentHash: string): Promise<KnowledgeDocument | null> => {
      const query = this.db.from('knowledge_documents').select('*').eq('content_hash', contentHash);
      const rows = check(await (tenantId === null ? query.is('tenant_id', null) : query.eq('tenant_id', tenantId)).limit(1));
      return rows[0] ? toKnowledgeDocument(rows[0]) : null;
    },
    deleteDocument: async (tenantId: string | null, id: string): Promise<boolean> => {
      if (!UUID_PATTERN.test(id)) return false;
      const query = this.db.from('knowledge_documents').delete().eq('id', id);
      const rows = check(await (tenantId === null ? query.is('tenant_id', null) : query.eq('tenant_id', tenantId)).select('id'));
      return rows.length > 0;
    },
    stageDocument: async (
      input: Omit<KnowledgeDocumentInput, 'chunks'>,
      text: string,
    ): Promise<{ document: KnowledgeDocument; created: boolean }> => {
      const scoped = (query: ReturnType<ReturnType<SupabaseClient['from']>['select']>) =>
        input.tenantId === null ? query.is('tenant_id', null) : query.eq('tenant_id', input.tenantId);
      const existing = check(await scoped(this.db.from('knowledge_documents').select('*')).eq('content_hash', input.contentHash).limit(1));
      let document = existing[0];
      if (document && document.status !== 'failed') return { document: toKnowledgeDocument(document), created: false };
      if (document) {
        // A failed attempt is restaged under the same id.
        document = check(
          await this.db
            .from('knowledge_documents')
            .update({
              status: 'ingesting',
              error: null,
              chunk_count: 0,
              chunks_indexed: 0,
              title: input.title,
              source: input.source,
              updated_at: new Date().toISOString(),
            })
            .eq('id', document.id)
            .eq('status', 'failed')
            .select('*'),
        )[0];
        if (!document) return { document: toKnowledgeDocument(existing[0]!), created: false };
      } else {
        const row = {
          id: input.id,
          tenant_id: input.tenantId,
          title: input.title,
          kind: input.kind,
          source: input.source,
          content_type: input.contentType,
          content_hash: input.contentHash,
          size_bytes: input.sizeBytes,
          chunk_count: 0,
          chunks_indexed: 0,
          embedding_model: input.embeddingModel ?? null,
          status: 'ingesting',
        };
        document = check(await this.db.from('knowledge_documents').insert(row).select('*'), 'knowledge document', input.contentHash)[0]!;
      }
      const staged = await this.db.from('knowledge_staged_text').upsert({ doc_id: document.id, text });
      if (staged.error) {
        await this.db.from('knowledge_documents').update({ status: 'failed', error: 'staging the text failed' }).eq('id', document.id);
        check(staged);
      }
      return { document: toKnowledgeDocument(document), created: true };
    },
    stagedText: async (docId: string): Promise<string | null> => {
      if (!UUID_PATTERN.test(docId)) return null;
      const doc = check(await this.db.from('knowledge_documents').select('status').eq('id', docId).limit(1));
      if (doc[0]?.status !== 'ingesting') return null;
      const rows = check(await this.db.from('knowledge_staged_text').select('text').eq('doc_id', docId).limit(1));
      return rows[0] ? String(rows[0].text) : null;
    },
    setChunkCount: async (docId: string, chunkCount: number): Promise<boolean> => {
      if (!UUID_PATTERN.test(docId)) return false;
      const rows = check(
        await this.db
          .from('knowledge_documents')
          .update({ chunk_count: chunkCount })
          .eq('id', docId)
          .eq('status', 'ingesting')
          .select('id'),
      );
      return rows.length > 0;
    },
    putChunks: async (docId: string, chunks: KnowledgeDocumentInput['chunks'], embeddingModel: string | null): Promise<boolean> => {
      if (!UUID_PATTERN.test(docId)) return false;
      const doc = check(await this.db.from('knowledge_documents').select('tenant_id').eq('id', docId).eq('status', 'ingesting').limit(1));
      if (!doc[0]) return false;
      const rows = chunks.map((c) => ({
        id: `${docId}#${c.index}`,
        doc_id: docId,
        tenant_id: doc[0]!.tenant_id ?? null,
        idx: c.index,
        section: c.section,
        text: c.text,
        embedding: c.embedding ?? null,
      }));
      // Upsert by chunk id: a batch retried after a crash rewrites its rows instead of adding twice.
      for (let i = 0; i < rows.length; i += 500)
        check(await this.db.from('knowledge_chunks').upsert(rows.slice(i, i + 500), { onConflict: 'id' }));
      const counted = await this.db.from('knowledge_chunks').select('id', { count: 'exact', head: true }).eq('doc_id', docId);
      check(
        await this.db
          .from('knowledge_documents')
          .update({ chunks_indexed: counted.count ?? 0, ...(embeddingModel ? { embedding_model: embeddingModel } : {}) })
          .eq('id', docId)
          .select('id'),
      );
      return true;
    },
    completeDocument: async (docId: string): Promise<KnowledgeDocument | null> => {
      if (!UUID_PATTERN.test(docId)) return null;
      const counted = await this.db.from('knowledge_chunks').select('id', { count: 'exact', head: true }).eq('doc_id', docId);
      const n = counted.count ?? 0;
      const rows = check(
        await this.db
          .from('knowledge_documents')
          .update({ status: 'ready', error: null, chunk_count: n, chunks_indexed: n, updated_at: new Date().toISOString() })
          .eq('id', docId)
          .in('status', ['ingesting', 'ready'])
          .select('*'),
      );
      await this.db.from('knowledge_staged_text').delete().eq('doc_id', docId);
      return rows[0] ? toKnowledgeDocument(rows[0]) : null;
    },
    failDocument: async (docId: string, error: string): Promise<KnowledgeDocument | null> => {
      if (!UUID_PATTERN.test(docId)) return null;
      const rows = check(
        await this.db
          .from('knowledge_documents')
          .update({ status: 'failed', error: error.slice(0, 2000), chunks_indexed: 0, updated_at: new Date().toISOString() })
          .eq('id', docId)
          .eq('status', 'ingesting')
          .select('*'),
      );
      if (rows[0]) {
        await this.db.from('knowledge_chunks').delete().eq('doc_id', docId);
        await this.db.from('knowledge_staged_text').delete().eq('doc_id', docId);
      }
      return rows[0] ? toKnowledgeDocument(rows[0]) : null;
    },
    allChunks: async (): Promise<(KnowledgeChunkRecord & { title: string; kind: KnowledgeKind })[]> => {
      const rows = check(
        await this.db
          .from('knowledge_chunks')
          .select('id, doc_id, tenant_id, idx, section, text, embedding, knowledge_documents!inner(title, kind, status)')
          .eq('knowledge_documents.status', 'ready')
          .order('doc_id')
          .order('idx'),
      );
      return rows.map((r) => {
        const doc = (r.knowledge_documents ?? {}) as { title?: string; kind?: string };
        return {
          id: String(r.id),
          docId: String(r.doc_id),
          tenantId: str(r.tenant_id),
          index: Number(r.idx),
          section: String(r.section),
          text: String(r.text),
          embedding: embeddingOf(r.embedding),
          title: String(doc.title ?? ''),
          kind: (doc.kind ?? 'doc') as KnowledgeKind,
        };
      });
    },
    revision: async (): Promise<string> => {
      const count = await this.db.from('knowledge_documents').select('id', { count: 'exact', head: true }).eq('status', 'ready');
      const latest = check(
        await this.db
          .from('knowledge_documents')
          .select('updated_at')
          .eq('status', 'ready')
          .order('updated_at', { ascending: false })
          .limit(1),
      );
      return `${count.count ?? 0}:${String(latest[0]?.updated_at ?? '')}`;
    },
  };

  credentials = {
    insert: async (input: Omit<StoredCredential, 'createdAt'>): Promise<StoredCredential> => {
      const row = {
        tenant_id: input.tenantId,
        name: input.name,
        username: input.username,
        key_type: input.keyType,
        fingerprint: input.fingerprint,
        ciphertext: input.ciphertext,
      };
      return toCredential(check(await this.db.from('ssh_credentials').insert(row).select('*'), 'SSH credential', input.name)[0]!);
    },
    get: async (tenantId: string, name: string): Promise<StoredCredential | null> => {
      const rows = check(await this.db.from('ssh_credentials').select('*').eq('tenant_id', tenantId).eq('name', name).limit(1));
      return rows[0] ? toCredential(rows[0]) : null;
    },
    list: async (tenantId: string): Promise<StoredCredential[]> =>
      check(await this.db.from('ssh_credentials').select('*').eq('tenant_id', tenantId).order('name')).map(toCredential),
    delete: async (tenantId: string, name: string): Promise<boolean> =>
      check(await this.db.from('ssh_credentials').delete().eq('tenant_id', tenantId).eq('name', name).select('name')).length > 0,
  };

  integrationSettings = {
    put: async (input: IntegrationSettingsInput): Promise<StoredIntegrationSettings> => {
      const row = {
        tenant_id: input.tenantId,
        user_id: input.userId ?? '',
        integration: input.integration,
        settings: input.settings,
        secret_fields: input.secretFields,
        updated_by: input.updatedBy,
        // An upsert writes only the columns given: created_at stays, updated_at is set here.
        updated_at: new Date().toISOString(),
      };
      const rows = check(
        await this.db.from('integration_settings').upsert(row, { onConflict: 'tenant_id,user_id,integration' }).select('*'),
      );
      return toIntegrationSettings(rows[0]!);
    },
    get: async (tenantId: string, userId: string | null, integration: string): Promise<StoredIntegrationSettings | null> => {
      const rows = check(
        await this.db
          .from('integration_settings')
          .select('*')
          .eq('tenant_id', tenantId)
          .eq('user_id', userId ?? '')
          .eq('integration', integration)
          .limit(1),
      );
      return rows[0] ? toIntegrationSettings(rows[0]) : null;
    },
    listFor: async (tenantId: string, userId: string, integration?: string): Promise<StoredIntegrationSettings[]> => {
      // `in` would send '' as an empty list element; quoted values in `or` say exactly '' and the subject.
      let query = this.db
        .from('integration_settings')
        .select('*')
        .eq('tenant_id', tenantId)
        .or(`user_id.eq.${quote('')},user_id.eq.${quote(userId)}`);
      if (integration !== undefined) query = query.eq('integration', integration);
      return check(await query.order('integration').order('user_id')).map(toIntegrationSettings);
    },
    delete: async (tenantId: string, userId: string | null, integration: string): Promise<boolean> =>
      check(
        await this.db
          .from('integration_settings')
          .delete()
          .eq('tenant_id', tenantId)
          .eq('user_id', userId ?? '')
          .eq('integration', integration)
          .select('integration'),
      ).length > 0,
  };

  sealedSecrets = {
    put: async (tenantId: string, path: string, ciphertext: string): Promise<SealedSecret> => {
      const row = { tenant_id: tenantId, path, ciphertext, updated_at: new Date().toISOString() };
      return toSealedSecret(check(await this.db.from('sealed_secrets').upsert(row, { onConflict: 'tenant_id,path' }).select('*'))[0]!);
    },
    get: async (tenantId: string, path: string): Promise<SealedSecret | null> => {
      const rows = check(await this.db.from('sealed_secrets').select('*').eq('tenant_id', tenantId).eq('path', path).limit(1));
      return rows[0] ? toSealedSecret(rows[0]) : null;
    },
    delete: async (tenantId: string, path: string): Promise<boolean> =>
      check(await this.db.from('sealed_secrets').delete().eq('tenant_id', tenantId).eq('path', path).select('path')).length > 0,
  };

  // PostgREST has no transactions: the primary key makes the host lease exclusive, but the per-tenant
  // cap is checked before the insert and can be overrun by one under a race (documented limitation).
  leases = {
    acquire: async (input: {
      tenantId: string;
      host: string;
      holder: string;
      ttlMs: number;
      maxPerTenant: number;
    }): Promise<LeaseOutcome> => {
      const now = new Date();
      await this.db.from('remediation_leases').delete().eq('tenant_id', input.tenantId).lt('expires_at', now.toISOString());
      const expiresAt = new Date(now.getTime() + input.ttlMs).toISOString();
      const current = check(
        await this.db.from('remediation_leases').select('holder').eq('tenant_id', input.tenantId).eq('host', input.host).limit(1),
      );
      if (current[0] && current[0].holder !== input.holder)
        return { acquired: false, reason: 'host-busy', holder: String(current[0].holder) };
      if (current[0]) {
        check(
          await this.db
            .from('remediation_leases')
            .update({ expires_at: expiresAt })
            .eq('tenant_id', input.tenantId)
            .eq('host', input.host)
            .eq('holder', input.holder)
            .select('host'),
        );
        return { acquired: true, expiresAt };
      }
      const count = await this.db.from('remediation_leases').select('host', { count: 'exact', head: true }).eq('tenant_id', input.tenantId);
      if ((count.count ?? 0) >= input.maxPerTenant) return { acquired: false, reason: 'tenant-cap', holder: null };
      const inserted = await this.db
        .from('remediation_leases')
        .insert({ tenant_id: input.tenantId, host: input.host, holder: input.holder, expires_at: expiresAt });
      if (inserted.error?.code === '23505') return { acquired: false, reason: 'host-busy', holder: null };
      check(inserted);
      return { acquired: true, expiresAt };
    },
    release: async (tenantId: string, host: string, holder: string): Promise<boolean> =>
      check(
        await this.db.from('remediation_leases').delete().eq('tenant_id', tenantId).eq('host', host).eq('holder', holder).select('host'),
      ).length > 0,
    list: async (tenantId: string) =>
      check(
        await this.db
          .from('remediation_leases')
          .select('host, holder, expires_at')
          .eq('tenant_id', tenantId)
          .gte('expires_at', new Date().toISOString())
          .order('host'),
      ).map((r) => ({
        host: String(r.host),
        holder: String(r.holder),
        expiresAt: new Date(String(r.expires_at)).toISOString(),
      })),
  };

  hostKeys = {
    trustOnFirstUse: async (input: Omit<HostKeyRecord, 'firstSeenAt'>): Promise<HostKeyRecord> => {
      const row = {
        tenant_id: input.tenantId,
        host: input.host,
        port: input.port,
        key_type: input.keyType,
        fingerprint: input.fingerprint,
        public_key: input.publicKey ?? null,
      };
      // ignoreDuplicates: the first key recorded wins, a concurrent second writer changes nothing.
      check(await this.db.from('ssh_host_keys').upsert(row, { onConflict: 'tenant_id,host,port', ignoreDuplicates: true }));
      if (row.public_key) {
        // A record from before 0009 gets its public key when the key presented is the trusted one.
        check(
          await this.db
            .from('ssh_host_keys')
            .update({ public_key: row.public_key })
            .eq('tenant_id', input.tenantId)
            .eq('host', input.host)
            .eq('port', input.port)
            .eq('fingerprint', input.fingerprint)
            .is('public_key', null),
        );
      }
      const rows = check(
        await this.db
          .from('ssh_host_keys')
          .select('*')
          .eq('tenant_id', input.tenantId)
          .eq('host', input.host)
          .eq('port', input.port)
          .limit(1),
      );
      return toHostKey(rows[0]!);
    },
    get: async (tenantId: string, host: string, port: number): Promise<HostKeyRecord | null> => {
      const rows = check(
        await this.db.from('ssh_host_keys').select('*').eq('tenant_id', tenantId).eq('host', host).eq('port', port).limit(1),
      );
      return rows[0] ? toHostKey(rows[0]) : null;
    },
    list: async (tenantId: string): Promise<HostKeyRecord[]> =>
      check(await this.db.from('ssh_host_keys').select('*').eq('tenant_id', tenantId).order('host').order('port')).map(toHostKey),
    forget: async (tenantId: string, host: string, port: number): Promise<boolean> =>
      check(await this.db.from('ssh_host_keys').delete().eq('tenant_id', tenantId).eq('host', host).eq('port', port).select('host'))
        .length > 0,
  };

  runs = {
    project: async (write: RunProjectionWrite): Promise<RunProjectionOutcome> => {
      const answer = await this.db.rpc('infraai_project_run', { w: write });
      if (answer.error) check({ data: null, error: answer.error }, 'run projection');
      return toProjectionOutcome(answer.data);
    },
    get: async (tenantId: string, family: RunFamily, runId: string): Promise<RunProjection | null> => {
      if (!UUID_PATTERN.test(tenantId)) return null;
      const rows = check(
        await this.db
          .from('run_projections')
          .select('*')
          .eq('tenant_id', tenantId)
          .eq('family', family)
          .eq('run_id', runId)
          .gt('version', 0)
          .limit(1),
      );
      return rows[0] ? toRunProjection(rows[0]) : null;
    },
    eventsOfRun: async (tenantId: string, family: RunFamily, runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> =>
      check(
        await this.db
          .from('run_events')
          .select('*')
          .eq('tenant_id', tenantId)
          .eq('family', family)
          .eq('run_id', runId)
          .gt('seq', afterSeq)
          .order('seq')
          .limit(limit),
      ).map(toRunEvent),
    eventsOfTenant: async (tenantId: string, afterTenantSeq: number, limit: number, family?: RunFamily): Promise<RunEvent[]> => {
      let query = this.db.from('run_events').select('*').eq('tenant_id', tenantId).gt('tenant_seq', afterTenantSeq);
      if (family) query = query.eq('family', family);
      return check(await query.order('tenant_seq').limit(limit)).map(toRunEvent);
    },
    latestTenantSeq: async (tenantId: string): Promise<number> =>
      Number(check(await this.db.from('run_event_counters').select('last_seq').eq('tenant_id', tenantId).limit(1))[0]?.last_seq ?? 0),
  };

  automation = {
    create: async (tenantId: string, input: AutomationRunInput): Promise<{ run: AutomationRun; created: boolean }> => {
      const row = {
        id: input.id,
        tenant_id: tenantId,
        number: 0,
        request: input.request,
        targets: input.targets,
        check_mode: input.checkMode,
        workflow_id: automationWorkflowId(input.id),
        created_by: input.createdBy,
        idempotency_key: input.idempotencyKey ?? null,
      };
      if (!row.idempotency_key) {
        const rows = check(await this.db.from('automation_runs').insert(row).select('*'));
        return { run: toAutomationRun(rows[0]!), created: true };
      }
      const found = check(
        await this.db.from('automation_runs').select('*').eq('tenant_id', tenantId).eq('idempotency_key', row.idempotency_key).limit(1),
      );
      if (found[0]) return { run: toAutomationRun(found[0]), created: false };
      const inserted = check(
        await this.db.from('automation_runs').upsert(row, { onConflict: 'tenant_id,idempotency_key', ignoreDuplicates: true }).select('*'),
      );
      if (inserted[0]) return { run: toAutomationRun(inserted[0]), created: true };
      const rows = check(
        await this.db.from('automation_runs').select('*').eq('tenant_id', tenantId).eq('idempotency_key', row.idempotency_key).limit(1),
      );
      return { run: toAutomationRun(rows[0]!), created: false };
    },
    get: async (tenantId: string, id: string): Promise<AutomationRun | null> => {
      if (!UUID_PATTERN.test(id) || !UUID_PATTERN.test(tenantId)) return null;
      const rows = check(await this.db.from('automation_runs').select('*').eq('tenant_id', tenantId).eq('id', id).limit(1));
      return rows[0] ? toAutomationRun(rows[0]) : null;
    },
    list: async (tenantId: string, filter: AutomationFilter, page: PageRequest): Promise<Page<AutomationRun>> => {
      let query = this.db.from('automation_runs').select('*').eq('tenant_id', tenantId);
      if (filter.status) query = query.eq('status', filter.status);
      if (filter.target) query = query.contains('targets', [filter.target]);
      if (page.cursor) {
        const [beforeNumber] = decodeCursor(page.cursor, ['number']) as [number];
        if (!Number.isInteger(beforeNumber) || beforeNumber < 1) throw new InvalidCursorError();
        query = query.lt('number', beforeNumber);
      }
      const rows = check(await query.order('number', { ascending: false }).limit(page.limit + 1));
      const items = rows.slice(0, page.limit).map(toAutomationRun);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > page.limit && last ? encodeCursor([last.number]) : null };
    },
    update: async (tenantId: string, id: string, update: AutomationRunUpdate): Promise<AutomationRun | null> => {
      if (!UUID_PATTERN.test(id)) return null;
      const fields: Row = { updated_at: new Date().toISOString() };
      if (update.status !== undefined) {
        fields.status = update.status;
        if (isFinalAutomationStatus(update.status)) {
          const current = check(
            await this.db.from('automation_runs').select('finished_at').eq('tenant_id', tenantId).eq('id', id).limit(1),
          );
          fields.finished_at = current[0]?.finished_at ?? new Date().toISOString();
        }
      }
      const columns: [keyof AutomationRunUpdate, string][] = [
        ['generation', 'generation'],
        ['artifacts', 'artifacts'],
        ['artifactsHash', 'artifacts_hash'],
        ['findings', 'findings'],
        ['approval', 'approval'],
        ['recap', 'recap'],
        ['progress', 'progress'],
        ['summary', 'summary'],
        ['error', 'error'],
      ];
      for (const [field, column] of columns) if (update[field] !== undefined) fields[column] = update[field];
      const rows = check(await this.db.from('automation_runs').update(fields).eq('tenant_id', tenantId).eq('id', id).select('*'));
      return rows[0] ? toAutomationRun(rows[0]) : null;
    },
    delete: async (tenantId: string, id: string): Promise<boolean> => {
      if (!UUID_PATTERN.test(id)) return false;
      return check(await this.db.from('automation_runs').delete().eq('tenant_id', tenantId).eq('id', id).select('id')).length > 0;
    },
    appendLog: async (tenantId: string, runId: string, firstLine: number, lines: string[]): Promise<number> => {
      if (!UUID_PATTERN.test(runId)) return 0;
      const current = check(await this.db.from('automation_runs').select('log_lines').eq('tenant_id', tenantId).eq('id', runId).limit(1));
      if (!current[0]) return 0;
      if (lines.length > 0) {
        const rows = lines.map((text, i) => ({ tenant_id: tenantId, run_id: runId, seq: firstLine + i, text }));
        check(await this.db.from('automation_log_lines').upsert(rows, { onConflict: 'run_id,seq', ignoreDuplicates: true }));
      }
      const total = Math.max(Number(current[0].log_lines ?? 0), firstLine + lines.length - 1);
      check(
        await this.db.from('automation_runs').update({ log_lines: total }).eq('tenant_id', tenantId).eq('id', runId).lt('log_lines', total),
      );
      return total;
    },
    readLog: async (tenantId: string, runId: string, afterLine: number, limit: number): Promise<AutomationLogPage> => {
      if (!UUID_PATTERN.test(runId)) return { lines: [], total: 0 };
      const [lines, run] = await Promise.all([
        this.db
          .from('automation_log_lines')
          .select('seq, text')
          .eq('tenant_id', tenantId)
          .eq('run_id', runId)
          .gt('seq', afterLine)
          .order('seq')
          .limit(limit),
        this.db.from('automation_runs').select('log_lines').eq('tenant_id', tenantId).eq('id', runId).limit(1),
      ]);
      return {
        lines: check(lines).map((r) => ({ n: Number(r.seq), text: String(r.text) })),
        total: Number(check(run)[0]?.log_lines ?? 0),
      };
    },
    countByStatus: async (): Promise<Record<AutomationStatus, number>> => {
      // PostgREST aggregates are off by default: one head-only exact count per status, in parallel.
      const counted = await Promise.all(
        AUTOMATION_STATUSES.map(async (status) => {
          const result = await this.db.from('automation_runs').select('id', { count: 'exact', head: true }).eq('status', status);
          check(result);
          return [status, result.count ?? 0] as const;
        }),
      );
      return Object.fromEntries(counted) as Record<AutomationStatus, number>;
    },
  };

  policies = {
    create: async (tenantId: string, input: PolicyInput): Promise<StoredPolicy> => {
      const at = new Date().toISOString();
      const rows = check(
        await this.db
          .from('self_healing_policies')
          .insert({ id: randomUUID(), tenant_id: tenantId, ...policyRow(input), created_at: at, updated_at: at })
          .select('*'),
        'Policy',
        input.name,
      );
      return toPolicy(rows[0]!);
    },
    get: async (tenantId: string, id: string): Promise<StoredPolicy | null> => {
      if (!UUID_PATTERN.test(id) || !UUID_PATTERN.test(tenantId)) return null;
      const rows = check(await this.db.from('self_healing_policies').select('*').eq('tenant_id', tenantId).eq('id', id).limit(1));
      return rows[0] ? toPolicy(rows[0]) : null;
    },
    list: async (tenantId: string, filter: PolicyFilter, page: PageRequest): Promise<Page<StoredPolicy>> => {
      let query = this.db.from('self_healing_policies').select('*').eq('tenant_id', tenantId);
      if (filter.enabled !== undefined) query = query.eq('enabled', filter.enabled);
      if (filter.actionType) query = query.eq('action->>type', filter.actionType);
      if (page.cursor) {
        const [p, at, id] = decodePolicyCursor(page.cursor);
        query = query.or(
          `priority.gt.${p},and(priority.eq.${p},created_at.gt.${quote(at)}),and(priority.eq.${p},created_at.eq.${quote(at)},id.gt.${id})`,
        );
      }
      const rows = check(
        await query
          .order('priority')
          .order('created_at')
          .order('id')
          .limit(page.limit + 1),
      );
      const items = rows.slice(0, page.limit).map(toPolicy);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > page.limit && last ? encodeCursor([last.priority, last.createdAt, last.id]) : null };
    },
    all: async (tenantId: string): Promise<StoredPolicy[]> =>
      check(
        await this.db.from('self_healing_policies').select('*').eq('tenant_id', tenantId).order('priority').order('created_at').order('id'),
      ).map(toPolicy),
    replace: async (tenantId: string, id: string, input: PolicyInput, expectedVersion: number): Promise<PolicyWriteOutcome> => {
      if (!UUID_PATTERN.test(id)) return { kind: 'not_found' };
      const rows = check(
        await this.db
          .from('self_healing_policies')
          .update({ ...policyRow(input), version: expectedVersion + 1, updated_at: new Date().toISOString() })
          .eq('tenant_id', tenantId)
          .eq('id', id)
          .eq('version', expectedVersion)
          .select('*'),
        'Policy',
        input.name,
      );
      if (rows[0]) return { kind: 'done', policy: toPolicy(rows[0]) };
      return this.policyMiss(tenantId, id);
    },
    delete: async (tenantId: string, id: string, expectedVersion?: number): Promise<PolicyWriteOutcome> => {
      if (!UUID_PATTERN.test(id)) return { kind: 'not_found' };
      let query = this.db.from('self_healing_policies').delete().eq('tenant_id', tenantId).eq('id', id);
      if (expectedVersion !== undefined) query = query.eq('version', expectedVersion);
      if (check(await query.select('id'))[0]) return { kind: 'done', policy: null };
      return this.policyMiss(tenantId, id);
    },
  };

  private async policyMiss(tenantId: string, id: string): Promise<PolicyWriteOutcome> {
    const rows = check(await this.db.from('self_healing_policies').select('version').eq('tenant_id', tenantId).eq('id', id).limit(1));
    return rows[0] ? { kind: 'stale', version: Number(rows[0].version) } : { kind: 'not_found' };
  }

  private async rpc(fn: string, args: Record<string, unknown>): Promise<unknown> {
    const answer = await this.db.rpc(fn, args);
    if (answer.error) check({ data: null, error: answer.error }, fn);
    return answer.data;
  }

  // PostgREST runs each call in its own transaction: the store functions record a decision only if
  // claim_seq is what the usage read saw, and policy-decisions.ts reads again when it is not.
  private readonly decisions: PolicyDecisionDb = {
    usage: (tenantId, policyId, cooldownKey, now) =>
      this.rpc('infraai_policy_usage', { p_tenant: tenantId, p_policy: policyId, p_key: cooldownKey, p_now: now.toISOString() }),
    recordClaim: (job, expectedSeq, breaker) =>
      this.rpc('infraai_record_policy_claim', { j: job, p_expected_seq: expectedSeq, p_breaker: breaker }),
    finish: (tenantId, jobId, status, detail, now, expectedSeq, breaker) =>
      this.rpc('infraai_finish_policy_job', {
        p_tenant: tenantId,
        p_job: jobId,
        p_status: status,
        p_detail: detail,
        p_now: now.toISOString(),
        p_expected_seq: expectedSeq,
        p_breaker: breaker,
      }),
    job: (tenantId, jobId) => this.policyJobs.get(tenantId, jobId),
    policy: (tenantId, policyId) => this.policies.get(tenantId, policyId),
  };

  policyJobs = {
    claimRun: (tenantId: string, claim: PolicyClaim): Promise<{ job: PolicyJob; created: boolean }> =>
      claimRunWith(this.decisions, tenantId, claim),
    record: (tenantId: string, decision: PolicyDecisionRecord): Promise<{ job: PolicyJob; created: boolean }> =>
      recordDecisionWith(this.decisions, tenantId, decision),
    markRunning: async (tenantId: string, id: string, workflowId: string, now: Date): Promise<PolicyJob | null> => {
      if (!UUID_PATTERN.test(id) || !UUID_PATTERN.test(tenantId)) return null;
      const rows = check(
        await this.db
          .from('policy_jobs')
          .update({ status: 'running', workflow_id: workflowId, started_at: now.toISOString(), updated_at: new Date().toISOString() })
          .eq('tenant_id', tenantId)
          .eq('id', id)
          .eq('status', 'queued')
          .select('*'),
      );
      return rows[0] ? toPolicyJob(rows[0]) : this.policyJobs.get(tenantId, id);
    },
    finishRun: (
      tenantId: string,
      id: string,
      outcome: { succeeded: boolean; detail?: string | null },
      now: Date,
    ): Promise<PolicyRunEnd | null> => finishRunWith(this.decisions, tenantId, id, outcome, now),
    unfinished: async (before: Date, limit: number): Promise<PolicyJob[]> => {
      const rows = check(
        await this.db
          .from('policy_jobs')
          .select('*')
          .in('status', ['queued', 'running'])
          .lt('updated_at', before.toISOString())
          .order('updated_at', { ascending: true })
          .limit(limit),
      );
      return rows.map(toPolicyJob);
    },
    addDetail: async (tenantId: string, id: string, line: string): Promise<PolicyJob | null> => {
      const job = await this.policyJobs.get(tenantId, id);
      if (!job || job.detail?.includes(line)) return job;
      // Only the job's own run writes after it ended: compared on the detail it read, so a concurrent line is not lost.
      let query = this.db
        .from('policy_jobs')
        .update({ detail: job.detail ? `${job.detail}\n${line}` : line, updated_at: new Date().toISOString() })
        .eq('tenant_id', tenantId)
        .eq('id', id);
      query = job.detail === null ? query.is('detail', null) : query.eq('detail', job.detail);
      const rows = check(await query.select('*'));
      return rows[0] ? toPolicyJob(rows[0]) : this.policyJobs.addDetail(tenantId, id, line);
    },
    get: async (tenantId: string, id: string): Promise<PolicyJob | null> => {
      if (!UUID_PATTERN.test(id) || !UUID_PATTERN.test(tenantId)) return null;
      const rows = check(await this.db.from('policy_jobs').select('*').eq('tenant_id', tenantId).eq('id', id).limit(1));
      return rows[0] ? toPolicyJob(rows[0]) : null;
    },
    list: async (tenantId: string, filter: PolicyJobFilter, page: PageRequest): Promise<Page<PolicyJob>> => {
      let query = this.db.from('policy_jobs').select('*').eq('tenant_id', tenantId);
      if (filter.policyId) {
        if (!UUID_PATTERN.test(filter.policyId)) return { items: [], nextCursor: null };
        query = query.eq('policy_id', filter.policyId);
      }
      if (filter.status) query = query.eq('status', filter.status);
      if (filter.host) query = query.eq('host', filter.host);
      if (filter.from) query = query.gte('decided_at', filter.from);
      if (filter.to) query = query.lt('decided_at', filter.to);
      if (page.cursor) query = query.lt('seq', decodeSeqCursor(page.cursor));
      const rows = check(await query.order('seq', { ascending: false }).limit(page.limit + 1));
      const kept = rows.slice(0, page.limit);
      const last = kept.at(-1);
      return { items: kept.map(toPolicyJob), nextCursor: rows.length > page.limit && last ? encodeCursor([Number(last.seq)]) : null };
    },
    breaker: async (tenantId: string, policyId: string): Promise<BreakerRecord> => {
      if (!UUID_PATTERN.test(policyId)) return CLOSED_BREAKER;
      return toUsage(await this.decisions.usage(tenantId, policyId, '', new Date())).usage.breaker;
    },
  };

  alertEvents = {
    append: async (tenantId: string, source: string, receivedAt: Date, alerts: PolicyAlert[]): Promise<AlertEvent[]> => {
      if (alerts.length === 0) return [];
      const rows = check(
        await this.db
          .from('alert_events')
          .insert(
            alerts.map((a) => ({
              id: randomUUID(),
              tenant_id: tenantId,
              source,
              received_at: receivedAt.toISOString(),
              status: a.status,
              fingerprint: a.fingerprint,
              starts_at: a.startsAt,
              labels: a.labels,
              annotations: a.annotations,
            })),
          )
          .select('*'),
      );
      return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(toAlertEvent);
    },
    listWindow: async (tenantId: string, window: { from: string; to: string }, limit: number): Promise<AlertEvent[]> =>
      check(
        await this.db
          .from('alert_events')
          .select('*')
          .eq('tenant_id', tenantId)
          .gte('received_at', window.from)
          .lt('received_at', window.to)
          .order('received_at')
          .order('seq')
          .limit(limit),
      ).map(toAlertEvent),
  };
}

/** Opens the Supabase adapter and checks the schema has been applied. */
export async function openSupabaseStore(url: string, key: string): Promise<Store> {
  const store = new SupabaseStore(createClient(url, key, { auth: { persistSession: false, autoRefreshToken: false } }));
  try {
    await store.ping();
  } catch (err) {
    throw new Error(
      `The Supabase database has no InfraAI schema (${(err as Error).message}). Apply migrations/*.sql first: ` +
        'run InfraAI once with DATABASE_URL set to the Supabase Postgres connection string, or paste the files into the SQL editor.',
    );
  }
  return store;
}

function policyRow(input: PolicyInput): Row {
  return {
    name: input.name,
    description: input.description,
    enabled: input.enabled,
    priority: input.priority,
    condition: input.condition,
    action: input.action,
    host_label: input.hostLabel,
    limits: input.limits,
    breaker: input.breaker,
  };
}
