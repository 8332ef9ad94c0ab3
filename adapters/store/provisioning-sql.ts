import { isFinalProvisionStatus, provisionWorkflowId } from '../../core/contracts/provisioning.js';
import type { PullRequestRecords } from '../git-host/port.js';
import type { ProvisioningRepository, ProvisionRequestRecord } from './port.js';
import { InvalidCursorError } from './port.js';
import {
  FINAL_PROVISION_STATUSES,
  PROVISION_JSON_COLUMNS,
  provisionUpdateColumns,
  toProvisionRequest,
  toPullRequestRef,
} from './provisioning-rows.js';
import { decodeCursor, encodeCursor, UUID_PATTERN, type Row } from './rows.js';

// The provisioning repository over SQL (PostgreSQL and PGlite). Pull-request records are created
// through the migration's function, so this adapter and Supabase's number them the same way.

type Query = (text: string, params?: unknown[]) => Promise<Row[]>;

const FINALS = FINAL_PROVISION_STATUSES.map((s) => `'${s}'`).join(', ');

export function createSqlProvisioningRepository(q: Query): ProvisioningRepository {
  const ids = (...values: string[]) => values.every((value) => UUID_PATTERN.test(value));
  return {
    create: async (tenantId, input): Promise<ProvisionRequestRecord> => {
      const key = input.idempotencyKey ?? null;
      const byKey = async () =>
        (await q(`SELECT * FROM provision_requests WHERE tenant_id = $1 AND idempotency_key = $2`, [tenantId, key]))[0];
      if (key !== null) {
        const first = await byKey();
        if (first) return toProvisionRequest(first);
      }
      const rows = await q(
        `INSERT INTO provision_requests (id, tenant_id, number, requester, request, environment, requirements, parser, workflow_id, idempotency_key)
         VALUES ($1, $2, 0, $3, $4, $5, $6::jsonb, $7, $8, $9)
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING *`,
        [
          input.id,
          tenantId,
          input.requester,
          input.request,
          input.environment,
          input.requirements ? JSON.stringify(input.requirements) : null,
          input.parser ?? null,
          provisionWorkflowId(input.id),
          key,
        ],
      );
      // Nothing inserted: a concurrent request with the same key got there first.
      return toProvisionRequest(rows[0] ?? (await byKey())!);
    },
    get: async (tenantId, id) => {
      if (!ids(tenantId, id)) return null;
      const rows = await q(`SELECT * FROM provision_requests WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toProvisionRequest(rows[0]) : null;
    },
    findByBranch: async (branch) => {
      const rows = await q(`SELECT * FROM provision_requests WHERE branch = $1`, [branch]);
      return rows[0] ? toProvisionRequest(rows[0]) : null;
    },
    list: async (tenantId, filter, page) => {
      const where = ['tenant_id = $1'];
      const params: unknown[] = [tenantId];
      const add = (clause: (n: string) => string, value: unknown) => {
        params.push(value);
        where.push(clause(`$${params.length}`));
      };
      if (filter.requester) add((p) => `requester = ${p}`, filter.requester);
      if (filter.status) add((p) => `status = ${p}`, filter.status);
      if (page.cursor) {
        const [beforeNumber] = decodeCursor(page.cursor, ['number']) as [number];
        if (!Number.isInteger(beforeNumber) || beforeNumber < 1) throw new InvalidCursorError();
        add((p) => `number < ${p}`, beforeNumber);
      }
      params.push(page.limit + 1);
      const rows = await q(
        `SELECT * FROM provision_requests WHERE ${where.join(' AND ')} ORDER BY number DESC LIMIT $${params.length}`,
        params,
      );
      const items = rows.slice(0, page.limit).map(toProvisionRequest);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > page.limit && last ? encodeCursor([last.number]) : null };
    },
    update: async (tenantId, id, update) => {
      if (!ids(tenantId, id)) return null;
      const sets = ['updated_at = now()'];
      const params: unknown[] = [tenantId, id];
      for (const [column, value] of Object.entries(provisionUpdateColumns(update))) {
        params.push(value);
        const p = `$${params.length}`;
        if (column === 'status') {
          // A final status stays: a late write of an earlier step cannot reopen the request.
          sets.push(`status = CASE WHEN status IN (${FINALS}) THEN status ELSE ${p} END`);
          if (isFinalProvisionStatus(String(value))) sets.push('finished_at = coalesce(finished_at, now())');
        } else {
          sets.push(`${column} = ${p}${PROVISION_JSON_COLUMNS.has(column) ? '::jsonb' : ''}`);
        }
      }
      const rows = await q(`UPDATE provision_requests SET ${sets.join(', ')} WHERE tenant_id = $1 AND id = $2 RETURNING *`, params);
      return rows[0] ? toProvisionRequest(rows[0]) : null;
    },
    delete: async (tenantId, id) => {
      if (!ids(tenantId, id)) return false;
      return (await q(`DELETE FROM provision_requests WHERE tenant_id = $1 AND id = $2 RETURNING id`, [tenantId, id])).length > 0;
    },
    pullRequests: ({ tenantId, repo, url }): PullRequestRecords => ({
      findByHead: async (head) => {
        const rows = await q(`SELECT * FROM provision_pull_requests WHERE tenant_id = $1 AND repo = $2 AND head = $3`, [
          tenantId,
          repo,
          head,
        ]);
        return rows[0] ? toPullRequestRef(rows[0], url) : null;
      },
      get: async (number) => {
        const rows = await q(`SELECT * FROM provision_pull_requests WHERE tenant_id = $1 AND repo = $2 AND number = $3`, [
          tenantId,
          repo,
          number,
        ]);
        return rows[0] ? toPullRequestRef(rows[0], url) : null;
      },
      create: async ({ head, base, title, body }) => {
        const rows = await q(`SELECT * FROM infraai_create_pull_request($1, $2, $3, $4, $5, $6)`, [
          tenantId,
          repo,
          head,
          base,
          title,
          body,
        ]);
        return toPullRequestRef(rows[0]!, url);
      },
      setState: async (number, state) => {
        const rows = await q(
          `UPDATE provision_pull_requests SET state = $4, updated_at = now() WHERE tenant_id = $1 AND repo = $2 AND number = $3 RETURNING *`,
          [tenantId, repo, number, state],
        );
        return rows[0] ? toPullRequestRef(rows[0], url) : null;
      },
    }),
  };
}
