import { RunReadCache } from '../run-read-cache.js';
import { z } from '@hono/zod-openapi';
import { INCIDENT_STATUSES, isTerminalIncidentStatus, type Incident, type IncidentResult } from '../../core/incident.js';
import type { Store } from '../../adapters/store/port.js';
import type { IncidentWorkflowGateway } from '../temporal-gateway.js';
import type { IncidentRunProjectionState, IncidentWorkflowState } from '../../core/contracts/incident.js';
import type { RunProjection } from '../../core/contracts/run-events.js';
import { DEFAULT_REMEDIATION_SETTINGS, type RemediationSettings } from '../../core/remediation.js';
import { buildIncidentTimeline, hostCommandsFromHistory, mergeManualResults } from '../timeline.js';
import { conflict, notFound } from '../problem.js';
import { idempotencyKeyHeader, unknownCmdbItems } from '../run-routes.js';
import { startIncidentRemediation, UnknownCmdbItemsError } from '../run-starts.js';
import {
  HostCommandEntrySchema,
  IdParam,
  IncidentCreateSchema,
  IncidentDetailSchema,
  IncidentListQuery,
  IncidentReadQuery,
  IncidentSchema,
  ResultSchema,
  TimelineEntrySchema,
  text,
} from '../schemas.js';
import { ApprovalSchema } from '../remediation-schemas.js';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../validation.js';

const tags = ['Incidents'];
const json = jsonResponse;
const QUERY_TIMEOUT_MS = 2000;

export function toIncidentResponse(incident: Incident): z.infer<typeof IncidentSchema> {
  const { tenantId: _tenantId, ...rest } = incident;
  return rest;
}

type WorkflowRun = NonNullable<z.infer<typeof IncidentDetailSchema>['workflow']>;

/** The details a run wrote are the shape of ResultDetailsSchema (the workflow writes them from its state). */
export function toResultResponse(result: IncidentResult): z.infer<typeof ResultSchema> {
  const { tenantId: _tenantId, details, ...rest } = result;
  return { ...rest, details: details as z.infer<typeof ResultSchema>['details'] };
}

const IdempotencyHeader = idempotencyKeyHeader('Repeat-safe creation: the same key returns the incident created first and starts nothing.');

const ApprovalBody = z
  .object({
    comment: text({ max: 2000, trim: true }).optional(),
    planHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'the sha256 planHash shown in approval.planHash')
      .optional()
      .openapi({
        description: 'The plan you reviewed (approval.planHash of GET /incidents/{id}); if the plan changed since, the answer is 409',
      }),
  })
  .strict()
  .openapi('ApprovalDecision');

/** GET /incidents/{id}'s body, as the read cache keeps it. */
export type IncidentDetailRead = z.infer<typeof IncidentDetailSchema>;

export function incidentRoutes(
  store: Store,
  workflows: IncidentWorkflowGateway,
  settings: RemediationSettings = DEFAULT_REMEDIATION_SETTINGS,
  /** Recent incident reads (GET /{id} from the projection); off without a run-event bus. */
  reads: RunReadCache<IncidentDetailRead> = new RunReadCache<IncidentDetailRead>(undefined),
) {
  const app = createRouter();

  for (const decision of ['approve', 'reject'] as const) {
    app.openapi(
      apiRoute(
        {
          method: 'post',
          path: `/{id}/${decision}`,
          operationId: decision === 'approve' ? 'approveIncidentPlan' : 'rejectIncidentPlan',
          tags,
          summary:
            decision === 'approve'
              ? 'Approve the proposed fix commands the run waits on (bound to their planHash)'
              : 'Reject the proposed fix commands: the run escalates and changes nothing',
          request: { params: IdParam, body: jsonBody(ApprovalBody) },
          responses: { 200: json(ApprovalSchema, 'The decision, as the run recorded it') },
        },
        [404, 409],
      ),
      async (c) => {
        const principal = c.get('principal');
        const incident = await load(principal.tenantId, c.req.valid('param').id);
        if (isTerminalIncidentStatus(incident.status)) throw conflict(`Incident ${incident.number} is already ${incident.status}.`);
        const body = c.req.valid('json');
        const approval = await workflows.decideApproval(incident.workflowId, {
          decision,
          by: principal.subject,
          ...(body.planHash ? { planHash: body.planHash } : {}),
          ...(body.comment ? { comment: body.comment } : {}),
        });
        // The decision is projected before the update answers: the next read shows it.
        reads.invalidate(principal.tenantId, 'incident', incident.id);
        return c.json(approval, 200);
      },
    );
  }

  async function load(tenantId: string, id: string): Promise<Incident> {
    const incident = await store.incidents.get(tenantId, id);
    if (!incident) throw notFound(`Incident '${id}'`);
    return incident;
  }

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/',
      operationId: 'createIncident',
      tags,
      summary: 'Raise an incident and start its remediation workflow',
      request: { body: jsonBody(IncidentCreateSchema), headers: IdempotencyHeader },
      responses: {
        201: json(IncidentSchema, 'Created; the workflow incident-<id> has started'),
        200: json(IncidentSchema, 'Repeat of an Idempotency-Key: the incident created first'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { 'idempotency-key': idempotencyKey } = c.req.valid('header');
      const principal = c.get('principal');
      let started: Awaited<ReturnType<typeof startIncidentRemediation>>;
      try {
        started = await startIncidentRemediation(
          { store, workflows, settings },
          { tenantId: principal.tenantId, tenantSlug: principal.tenantSlug, subject: principal.subject },
          {
            title: body.title,
            description: body.description,
            severity: body.severity,
            tagId: body.tagId,
            source: 'api',
            idempotencyKey: idempotencyKey ?? null,
            ...(body.external
              ? {
                  external: Object.fromEntries(
                    Object.entries(body.external).filter((e): e is [string, string] => typeof e[1] === 'string'),
                  ),
                }
              : {}),
          },
        );
      } catch (err) {
        if (err instanceof UnknownCmdbItemsError) throw unknownCmdbItems(err);
        throw err;
      }
      const { incident, created } = started;
      c.header('location', `/api/v1/incidents/${incident.id}`);
      if (!created) return c.json(toIncidentResponse(incident), 200);
      return c.json(toIncidentResponse(incident), 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      operationId: 'listIncidents',
      tags,
      summary: 'List incidents, newest first',
      request: { query: IncidentListQuery },
      responses: {
        200: json(z.object({ items: z.array(IncidentSchema), nextCursor: z.string().nullable() }), 'A page of incidents'),
      },
    }),
    async (c) => {
      const { limit, cursor, ...filter } = c.req.valid('query');
      const page = await store.incidents.list(c.get('principal').tenantId, filter, { limit, cursor });
      return c.json({ items: page.items.map(toIncidentResponse), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{id}',
        operationId: 'getIncident',
        tags,
        summary: 'Get an incident with its run’s state (from the store’s projection; consistency=live asks Temporal)',
        request: { params: IdParam, query: IncidentReadQuery },
        responses: { 200: json(IncidentDetailSchema, 'The incident') },
      },
      [404],
    ),
    async (c) => {
      const tenantId = c.get('principal').tenantId;
      const id = c.req.valid('param').id;
      const live = c.req.valid('query').consistency === 'live';
      const read = async (): Promise<IncidentDetailRead> => {
        const incident = await load(tenantId, id);
        const [projection, results] = await Promise.all([
          live ? null : (store.runs.get(tenantId, 'incident', incident.id) as Promise<RunProjection<IncidentRunProjectionState> | null>),
          store.results.listForIncident(tenantId, incident.id),
        ]);
        const latest = results.at(-1);
        const detail = projection ? fromProjection(incident, projection) : await fromTemporal(incident);
        return { ...detail, result: latest ? toResultResponse(latest) : null };
      };
      // Only projection reads are kept: a run without a projection sends no notice when it changes.
      const detail = live ? await read() : await reads.read(tenantId, 'incident', id, read, (d) => d.readFrom === 'projection');
      return c.json(detail, 200);
    },
  );

  type Detail = Omit<IncidentDetailRead, 'result'>;

  /** The run as it last wrote itself into the store: no Temporal call, no worker query. */
  function fromProjection(incident: Incident, projection: RunProjection<IncidentRunProjectionState>): Detail {
    const { run: state, workflow } = projection.state;
    return {
      ...fromState(incident, state),
      workflow: { id: projection.workflowId, ...workflow, state, stateError: null },
      workflowError: null,
      readFrom: 'projection',
      projectedVersion: projection.version,
    };
  }

  /** The live path: describe the run, then read its result or query the worker. */
  async function fromTemporal(incident: Incident): Promise<Detail> {
    const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));
    let workflow: z.infer<typeof IncidentDetailSchema>['workflow'] = null;
    let workflowError: string | null = null;
    try {
      const described = await workflows.describe(incident.workflowId);
      let state: IncidentWorkflowState | null = null;
      let stateError: string | null = null;
      try {
        state =
          described.status === 'COMPLETED'
            ? await workflows.completedState(incident.workflowId, QUERY_TIMEOUT_MS)
            : await workflows.queryState(incident.workflowId, QUERY_TIMEOUT_MS);
      } catch (err) {
        stateError = reason(err);
      }
      workflow = { ...described, status: described.status as WorkflowRun['status'], state, stateError };
    } catch (err) {
      workflowError = reason(err);
    }
    return { ...fromState(incident, workflow?.state ?? null), workflow, workflowError, readFrom: 'live', projectedVersion: null };
  }

  function fromState(incident: Incident, state: IncidentWorkflowState | null) {
    return {
      ...toIncidentResponse(incident),
      // The row's terminal status is final; before that the run's own status is the fresher one.
      status: state?.status && !isTerminalIncidentStatus(incident.status) ? state.status : incident.status,
      plan: state?.plan ?? null,
      findings: state?.findings ?? [],
      rootCause: state?.rootCause ?? null,
      proposedActions: state?.proposedActions ?? [],
      approval: state?.approval ?? null,
      commands: state?.commands ?? [],
      verification: state?.verification ?? null,
    };
  }

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/{id}/cancel',
        operationId: 'cancelIncident',
        tags,
        summary: 'Request cancellation of the incident’s run',
        request: { params: IdParam },
        responses: {
          202: json(
            z
              .object({ id: z.string().uuid(), status: z.enum(INCIDENT_STATUSES), cancelRequested: z.literal(true) })
              .openapi('CancelRequested'),
            'Cancellation requested',
          ),
        },
      },
      [404, 409],
    ),
    async (c) => {
      const incident = await load(c.get('principal').tenantId, c.req.valid('param').id);
      if (isTerminalIncidentStatus(incident.status)) throw conflict(`Incident ${incident.number} is already ${incident.status}.`);
      const described = await workflows.describe(incident.workflowId);
      if (described.status !== 'RUNNING') throw conflict(`The run of incident ${incident.number} has already ended (${described.status}).`);
      await workflows.cancel(incident.workflowId);
      reads.invalidate(incident.tenantId, 'incident', incident.id);
      return c.json({ id: incident.id, status: incident.status, cancelRequested: true as const }, 202);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{id}/timeline',
        operationId: 'getIncidentTimeline',
        tags,
        summary: 'Audit trail of the incident’s run, from its workflow history, with the results recorded by hand',
        request: { params: IdParam },
        responses: {
          200: json(
            z
              .object({
                incidentId: z.string().uuid(),
                workflowId: z.string(),
                entries: z.array(TimelineEntrySchema),
                commands: z.array(HostCommandEntrySchema),
              })
              .openapi('IncidentTimeline'),
            'The timeline, and every command run on the host',
          ),
        },
      },
      [404],
    ),
    async (c) => {
      const tenantId = c.get('principal').tenantId;
      const incident = await load(tenantId, c.req.valid('param').id);
      const [history, results] = await Promise.all([
        workflows.fetchHistory(incident.workflowId),
        store.results.listForIncident(tenantId, incident.id),
      ]);
      return c.json(
        {
          incidentId: incident.id,
          workflowId: incident.workflowId,
          entries: mergeManualResults(await buildIncidentTimeline(history), results),
          commands: hostCommandsFromHistory(history),
        },
        200,
      );
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{id}/result',
        operationId: 'getIncidentResult',
        tags,
        summary: 'The stored result of the incident’s run',
        request: { params: IdParam },
        responses: { 200: json(ResultSchema, 'The latest result') },
      },
      [404],
    ),
    async (c) => {
      const tenantId = c.get('principal').tenantId;
      const incident = await load(tenantId, c.req.valid('param').id);
      const latest = (await store.results.listForIncident(tenantId, incident.id)).at(-1);
      if (!latest) throw notFound(`A result for incident ${incident.number}`);
      return c.json(toResultResponse(latest), 200);
    },
  );

  return app;
}
