import { z } from '@hono/zod-openapi';
import type { AutomationRun, Store } from '../../adapters/store/port.js';
import {
  DEFAULT_AUTOMATION_SETTINGS,
  isFinalAutomationStatus,
  type AutomationRunProjectionState,
  type AutomationSettings,
} from '../../core/contracts/automation.js';
import type { RunProjection } from '../../core/contracts/run-events.js';
import {
  AutomationAcceptedSchema,
  AutomationApprovalSchema,
  AutomationCreateSchema,
  AutomationDecisionSchema,
  AutomationDetailSchema,
  AutomationListQuery,
  AutomationLogQuery,
  AutomationLogSchema,
  AutomationStatusSchema,
  AutomationSummarySchema,
} from '../automation-schemas.js';
import { conflict, notFound, unprocessable } from '../problem.js';
import { idempotencyKeyHeader, unknownCmdbItems } from '../run-routes.js';
import { AutomationNotUnderstoodError, startAutomationRun, UnknownCmdbItemsError, type AutomationPrecheck } from '../run-starts.js';
import { IdParam } from '../schemas.js';
import type { AutomationWorkflowGateway } from '../temporal-gateway.js';
import { RunReadCache } from '../run-read-cache.js';
import { apiRoute, createRouter, jsonBody, jsonResponse as json } from '../validation.js';

// Ansible automation runs: start one from a request and CMDB targets, read it (from the store: the
// row and the run's projection, never Temporal), page its log, approve or reject its artifacts
// (bound to their hash), cancel it. Mounted after automation-events.ts (its /{id}/events).

const tags = ['Automation'];

const IdempotencyHeader = idempotencyKeyHeader(
  'Repeat-safe start (a double click): the same key returns the run started first and starts nothing.',
);

/**
 * Optional early answer to "can this request be written as a playbook?": the template generator,
 * run in the request so that an unrecognised request gets its 422 at once. Without it the workflow
 * generates, and a request nothing covers ends `not_understood` (GET shows what was understood).
 */
export type { AutomationPrecheck };

export interface AutomationRouteDeps {
  store: Store;
  workflows: AutomationWorkflowGateway;
  settings?: AutomationSettings | undefined;
  precheck?: AutomationPrecheck | null | undefined;
  /**
   * Recent detail reads; off without a run-event bus. The run's own changes drop an entry at once;
   * progress the run step writes onto the row between projection writes shows within the cache's TTL.
   */
  reads?: RunReadCache<AutomationDetail> | undefined;
}

/** GET /automation/{id}'s body, as the read cache keeps it. */
export type AutomationDetail = ReturnType<typeof toDetail>;

function toSummary(run: AutomationRun): z.infer<typeof AutomationSummarySchema> {
  return {
    id: run.id,
    number: run.number,
    request: run.request,
    targets: run.targets,
    checkMode: run.checkMode,
    status: run.status,
    workflowId: run.workflowId,
    createdBy: run.createdBy,
    artifactsHash: run.artifactsHash,
    summary: run.summary,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    finishedAt: run.finishedAt,
  };
}

/** The run as the detail shows it: the projection's state where there is one, the row's fresher progress and final status. */
export function toDetail(run: AutomationRun, projection: RunProjection<AutomationRunProjectionState> | null) {
  const state = projection?.state.run ?? null;
  return {
    ...toSummary(run),
    // The row's final status is final; before that the run's own status is the fresher one.
    status: state && !isFinalAutomationStatus(run.status) ? state.status : run.status,
    summary: state?.summary ?? run.summary,
    readFrom: projection ? ('projection' as const) : ('row' as const),
    projectedVersion: projection?.version ?? null,
    currentStep: state?.currentStep ?? null,
    steps: state?.steps ?? [],
    hosts: state?.hosts ?? [],
    generation: state?.generation ?? run.generation,
    understood: state?.understood ?? null,
    artifacts: state?.artifacts ?? run.artifacts,
    artifactsHash: state?.artifactsHash ?? run.artifactsHash,
    findings: state?.findings.length ? state.findings : run.findings,
    approval: state?.approval ?? run.approval,
    // Heartbeats land on the row while the playbook runs; the projection has the last one after.
    progress: run.progress ?? state?.progress ?? null,
    recap: state?.outcome?.recap ?? run.recap,
    exitCode: state?.outcome?.exitCode ?? null,
    logLines: run.logLines,
    logTail: state?.outcome?.logTail ?? '',
    error: state?.error ?? run.error,
  };
}

export function automationRoutes({
  store,
  workflows,
  settings = DEFAULT_AUTOMATION_SETTINGS,
  precheck,
  reads = new RunReadCache<AutomationDetail>(undefined),
}: AutomationRouteDeps) {
  const app = createRouter();

  async function load(tenantId: string, id: string): Promise<AutomationRun> {
    const run = await store.automation.get(tenantId, id);
    if (!run) throw notFound(`Automation run '${id}'`);
    return run;
  }

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/',
      operationId: 'startAutomation',
      tags,
      summary: 'Start an Ansible automation run from a request and CMDB targets',
      description:
        'Targets must be CMDB items of your tenant (422 otherwise). When the API has the template generator, a request no template ' +
        'covers answers 422 naming what was understood; otherwise the run ends `not_understood`. A real run waits for approval of its ' +
        'artifacts hash; a check-mode run (`checkMode: true`) runs `--check --diff` without one.',
      request: { body: jsonBody(AutomationCreateSchema), headers: IdempotencyHeader },
      responses: {
        202: json(AutomationAcceptedSchema, 'Accepted; the workflow automation-<id> has started'),
        200: json(AutomationAcceptedSchema, 'Repeat of an Idempotency-Key: the run started first (nothing new started)'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { 'idempotency-key': idempotencyKey } = c.req.valid('header');
      const principal = c.get('principal');
      const checkMode = body.checkMode ?? false;
      const accepted = (run: AutomationRun) => ({ id: run.id, number: run.number, workflowId: run.workflowId, status: run.status });
      let started: Awaited<ReturnType<typeof startAutomationRun>>;
      try {
        started = await startAutomationRun(
          { store, workflows, settings, precheck },
          { tenantId: principal.tenantId, tenantSlug: principal.tenantSlug, subject: principal.subject },
          { request: body.request, targets: body.targets, checkMode, idempotencyKey: idempotencyKey ?? null },
        );
      } catch (err) {
        if (err instanceof UnknownCmdbItemsError) throw unknownCmdbItems(err);
        if (err instanceof AutomationNotUnderstoodError) {
          const { message, understood } = err.outcome;
          throw unprocessable(`The request was not understood: ${message}`, [
            { path: 'request', message, code: 'not_understood' },
            ...Object.entries(understood).map(([key, value]) => ({ path: 'request', message: `${key}: ${value}`, code: 'understood' })),
          ]);
        }
        throw err;
      }
      const { run, created } = started;
      c.header('location', `/api/v1/automation/${run.id}`);
      if (!created) return c.json(accepted(run), 200);
      return c.json(accepted(run), 202);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      operationId: 'listAutomationRuns',
      tags,
      summary: 'List automation runs, newest first',
      request: { query: AutomationListQuery },
      responses: {
        200: json(
          z.object({ items: z.array(AutomationSummarySchema), nextCursor: z.string().nullable() }).openapi('AutomationRunPage'),
          'A page of automation runs',
        ),
      },
    }),
    async (c) => {
      const { limit, cursor, ...filter } = c.req.valid('query');
      const page = await store.automation.list(c.get('principal').tenantId, filter, { limit, cursor });
      return c.json({ items: page.items.map(toSummary), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{id}',
        operationId: 'getAutomationRun',
        tags,
        summary: 'An automation run: status, artifacts, findings, approval with its hash, progress, recap, log tail',
        request: { params: IdParam },
        responses: { 200: json(AutomationDetailSchema, 'The run (from the store)') },
      },
      [404],
    ),
    async (c) => {
      const tenantId = c.get('principal').tenantId;
      const id = c.req.valid('param').id;
      const detail = await reads.read(
        tenantId,
        'automation',
        id,
        async () => {
          const [run, projection] = await Promise.all([load(tenantId, id), store.runs.get(tenantId, 'automation', id)]);
          return toDetail(run, projection as RunProjection<AutomationRunProjectionState> | null);
        },
        // Only runs with a projection send notices when they change.
        (d) => d.readFrom === 'projection',
      );
      return c.json(detail, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{id}/log',
        operationId: 'getAutomationLog',
        tags,
        summary: 'The run’s full log, a page of lines at a time',
        request: { params: IdParam, query: AutomationLogQuery },
        responses: { 200: json(AutomationLogSchema, 'Lines after `after`, oldest first') },
      },
      [404],
    ),
    async (c) => {
      const tenantId = c.get('principal').tenantId;
      const run = await load(tenantId, c.req.valid('param').id);
      const { after, limit } = c.req.valid('query');
      const page = await store.automation.readLog(tenantId, run.id, after, limit);
      const last = page.lines.at(-1)?.n ?? null;
      return c.json({ ...page, nextAfter: last !== null && last < page.total ? last : null }, 200);
    },
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.openapi(
      apiRoute(
        {
          method: 'post',
          path: `/{id}/${decision}`,
          operationId: decision === 'approve' ? 'approveAutomationRun' : 'rejectAutomationRun',
          tags,
          summary:
            decision === 'approve'
              ? 'Approve the artifacts the run waits on (bound to their artifactsHash): the playbook runs'
              : 'Reject the artifacts: the run ends rejected and nothing runs',
          description: '409 when the run is not waiting for approval, has ended, or the artifacts hash is not the one waiting.',
          request: { params: IdParam, body: jsonBody(AutomationDecisionSchema) },
          responses: { 200: json(AutomationApprovalSchema, 'The decision, as the run recorded it') },
        },
        [404, 409],
      ),
      async (c) => {
        const principal = c.get('principal');
        const run = await load(principal.tenantId, c.req.valid('param').id);
        if (isFinalAutomationStatus(run.status)) throw conflict(`Automation run ${run.number} has already ended (${run.status}).`);
        const body = c.req.valid('json');
        const approval = await workflows.decideApproval(run.workflowId, {
          decision,
          artifactsHash: body.artifactsHash,
          by: principal.subject,
          ...(body.comment ? { comment: body.comment } : {}),
        });
        // The decision is projected before the update answers: the next read shows it.
        reads.invalidate(principal.tenantId, 'automation', run.id);
        return c.json(approval, 200);
      },
    );
  }

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/{id}/cancel',
        operationId: 'cancelAutomationRun',
        tags,
        summary: 'Cancel the run: a running playbook is stopped first, then the run ends cancelled',
        request: { params: IdParam },
        responses: {
          202: json(
            z
              .object({ id: z.string().uuid(), status: AutomationStatusSchema, cancelRequested: z.literal(true) })
              .openapi('AutomationCancelRequested'),
            'Cancellation requested',
          ),
        },
      },
      [404, 409],
    ),
    async (c) => {
      const run = await load(c.get('principal').tenantId, c.req.valid('param').id);
      if (isFinalAutomationStatus(run.status)) throw conflict(`Automation run ${run.number} has already ended (${run.status}).`);
      await workflows.cancel(run.workflowId);
      reads.invalidate(run.tenantId, 'automation', run.id);
      return c.json({ id: run.id, status: run.status, cancelRequested: true as const }, 202);
    },
  );

  return app;
}
