import type { PostgrestError, SupabaseClient } from '@supabase/supabase-js';
import { isFinalProvisionStatus, provisionWorkflowId } from '../../core/contracts/provisioning.js';
import type { PullRequestRecords } from '../git-host/port.js';
import { InvalidCursorError, type ProvisioningRepository, type ProvisionRequestRecord } from './port.js';
import {
  FINAL_PROVISION_STATUSES,
  PROVISION_JSON_COLUMNS,
  provisionUpdateColumns,
  toProvisionRequest,
  toPullRequestRef,
} from './provisioning-rows.js';
import { decodeCursor, encodeCursor, UUID_PATTERN, type Row } from './rows.js';

// The provisioning repository over Supabase (PostgREST): reads and writes through the query
// builder, pull-request records through the migration's function (one transaction, like SQL's).

type Checked = (result: { data: unknown; error: PostgrestError | null }, entity?: string, key?: string) => Row[];
type Rpc = (fn: string, args: Record<string, unknown>) => Promise<unknown>;

export function createSupabaseProvisioningRepository(db: SupabaseClient, check: Checked, rpc: Rpc): ProvisioningRepository {
  const ids = (...values: string[]) => values.every((value) => UUID_PATTERN.test(value));
  const one = async (tenantId: string, id: string): Promise<ProvisionRequestRecord | null> => {
    const rows = check(await db.from('provision_requests').select('*').eq('tenant_id', tenantId).eq('id', id).limit(1));
    return rows[0] ? toProvisionRequest(rows[0]) : null;
  };
  return {
    create: async (tenantId, input) => {
      const key = input.idempotencyKey ?? null;
      const byKey = async () =>
        check(await db.from('provision_requests').select('*').eq('tenant_id', tenantId).eq('idempotency_key', key!).limit(1))[0];
      if (key !== null) {
        const first = await byKey();
        if (first) return toProvisionRequest(first);
      }
      const rows = check(
        await db
          .from('provision_requests')
          .upsert(
            {
              id: input.id,
              tenant_id: tenantId,
              number: 0,
              requester: input.requester,
              request: input.request,
              environment: input.environment,
              requirements: input.requirements ?? null,
              parser: input.parser ?? null,
              workflow_id: provisionWorkflowId(input.id),
              idempotency_key: key,
            },
            { onConflict: 'tenant_id,idempotency_key', ignoreDuplicates: true },
          )
          .select('*'),
        'provision request',
        input.id,
      );
      // Nothing inserted: a concurrent request with the same key got there first.
      return toProvisionRequest(rows[0] ?? (await byKey())!);
    },
    get: async (tenantId, id) => (ids(tenantId, id) ? one(tenantId, id) : null),
    findByBranch: async (branch) => {
      const rows = check(await db.from('provision_requests').select('*').eq('branch', branch).limit(1));
      return rows[0] ? toProvisionRequest(rows[0]) : null;
    },
    list: async (tenantId, filter, page) => {
      let query = db.from('provision_requests').select('*').eq('tenant_id', tenantId);
      if (filter.requester) query = query.eq('requester', filter.requester);
      if (filter.status) query = query.eq('status', filter.status);
      if (page.cursor) {
        const [beforeNumber] = decodeCursor(page.cursor, ['number']) as [number];
        if (!Number.isInteger(beforeNumber) || beforeNumber < 1) throw new InvalidCursorError();
        query = query.lt('number', beforeNumber);
      }
      const rows = check(await query.order('number', { ascending: false }).limit(page.limit + 1));
      const items = rows.slice(0, page.limit).map(toProvisionRequest);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > page.limit && last ? encodeCursor([last.number]) : null };
    },
    update: async (tenantId, id, update) => {
      if (!ids(tenantId, id)) return null;
      const current = await one(tenantId, id);
      if (!current) return null;
      const fields: Row = { updated_at: new Date().toISOString() };
      for (const [column, value] of Object.entries(provisionUpdateColumns(update))) {
        // PostgREST takes JSON columns as values, not as JSON text.
        fields[column] = PROVISION_JSON_COLUMNS.has(column) && typeof value === 'string' ? JSON.parse(value) : value;
      }
      if (isFinalProvisionStatus(current.status)) delete fields.status;
      else if (typeof fields.status === 'string' && isFinalProvisionStatus(fields.status)) {
        fields.finished_at = current.finishedAt ?? new Date().toISOString();
      }
      let query = db.from('provision_requests').update(fields).eq('tenant_id', tenantId).eq('id', id);
      // Another writer may have ended it meanwhile: then its final status stays.
      if (fields.status !== undefined) query = query.not('status', 'in', `(${FINAL_PROVISION_STATUSES.join(',')})`);
      check(await query);
      if (fields.status !== undefined) {
        delete fields.status;
        delete fields.finished_at;
        check(await db.from('provision_requests').update(fields).eq('tenant_id', tenantId).eq('id', id));
      }
      return one(tenantId, id);
    },
    delete: async (tenantId, id) => {
      if (!ids(tenantId, id)) return false;
      const rows = check(await db.from('provision_requests').delete().eq('tenant_id', tenantId).eq('id', id).select('id'));
      return rows.length > 0;
    },
    pullRequests: ({ tenantId, repo, url }): PullRequestRecords => {
      const byColumn = async (column: 'head' | 'number', value: string | number) => {
        const rows = check(
          await db.from('provision_pull_requests').select('*').eq('tenant_id', tenantId).eq('repo', repo).eq(column, value).limit(1),
        );
        return rows[0] ? toPullRequestRef(rows[0], url) : null;
      };
      return {
        findByHead: (head) => byColumn('head', head),
        get: (number) => byColumn('number', number),
        create: async ({ head, base, title, body }) => {
          const rows = (await rpc('infraai_create_pull_request', {
            p_tenant: tenantId,
            p_repo: repo,
            p_head: head,
            p_base: base,
            p_title: title,
            p_body: body,
          })) as Row[] | Row;
          return toPullRequestRef(Array.isArray(rows) ? rows[0]! : rows, url);
        },
        setState: async (number, state) => {
          const rows = check(
            await db
              .from('provision_pull_requests')
              .update({ state, updated_at: new Date().toISOString() })
              .eq('tenant_id', tenantId)
              .eq('repo', repo)
              .eq('number', number)
              .select('*'),
          );
          return rows[0] ? toPullRequestRef(rows[0], url) : null;
        },
      };
    },
  };
}
