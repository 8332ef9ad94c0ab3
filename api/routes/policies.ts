import { z } from '@hono/zod-openapi';
import { DuplicateKeyError, type PolicyInput, type PolicyJob, type Store, type StoredPolicy } from '../../adapters/store/port.js';
import { DEFAULT_HOST_LABEL, DEFAULT_POLICY_BREAKER, DEFAULT_POLICY_LIMITS, type SelfHealingPolicy } from '../../core/policies/model.js';
import { policyCommandHash } from '../../core/policies/command-hash.js';
import { simulatePolicies, type RecordedAlert } from '../../core/policies/simulate.js';
import { AlertApprovalSchema, type AlertRunViewSchema, JobApprovalSchema, PolicyJobDetailSchema } from '../alert-schemas.js';
import type { AlertRunProjectionState } from '../../core/contracts/alerts.js';
import type { RunProjection } from '../../core/contracts/run-events.js';
import type { AlertWorkflowGateway } from '../temporal-gateway.js';
import {
  PolicyCreateSchema,
  PolicyIfMatchHeader,
  PolicyJobListQuery,
  PolicyJobSchema,
  PolicyListQuery,
  PolicyReplaceSchema,
  PolicySchema,
  SimulationReportSchema,
  SimulationRequestSchema,
} from '../policy-schemas.js';
import { conflict, notFound, ProblemError, unprocessable } from '../problem.js';
import { IdParam } from '../schemas.js';
import { apiRoute, createRouter, jsonBody, jsonResponse as json } from '../validation.js';

// Self-healing policies (CRUD with optimistic versions), their simulation over recorded or sent
// alerts (nothing acts, nothing is written), and the job log of what they decided.

const tags = ['Policies'];

/** A recorded window replays at most this many alerts; a larger one must be narrowed. */
export const MAX_SIMULATED_ALERTS = 10_000;

function toPolicyResponse(policy: StoredPolicy): z.infer<typeof PolicySchema> {
  const { tenantId: _tenantId, ...rest } = policy;
  return rest;
}

function toJobResponse(job: PolicyJob): z.infer<typeof PolicyJobSchema> {
  const { tenantId: _tenantId, updatedAt: _updatedAt, ...rest } = job;
  return rest;
}

/** The body with every default in place: what the store keeps and evaluation reads. */
function toInput(body: z.infer<typeof PolicyCreateSchema>): PolicyInput {
  return {
    name: body.name,
    description: body.description ?? null,
    enabled: body.enabled ?? true,
    priority: body.priority ?? 100,
    condition: {
      matchers: body.condition.matchers,
      status: body.condition.status,
      ...(body.condition.severities ? { severities: body.condition.severities } : {}),
    },
    action: body.action,
    hostLabel: body.hostLabel ?? DEFAULT_HOST_LABEL,
    limits: { ...DEFAULT_POLICY_LIMITS, ...body.limits },
    breaker: { ...DEFAULT_POLICY_BREAKER, ...body.breaker },
  };
}

const etag = (policy: StoredPolicy) => `"${policy.version}"`;

/** The version an If-Match names: `"3"`, `W/"3"` or `3`; `*` is any (null). */
function ifMatchVersion(header: string | undefined): number | null | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return null;
  const m = /^(?:W\/)?"?([1-9]\d{0,8})"?$/.exec(value);
  if (!m) {
    throw unprocessable('The If-Match header is not valid.', [
      { path: 'if-match', message: 'the ETag of a policy as GET answered it (e.g. "3"), or *', code: 'invalid_format' },
    ]);
  }
  return Number(m[1]);
}

const stale = (id: string, version: number) =>
  conflict(`Policy '${id}' is at version ${version}: read it again and apply your change to that version.`);

export function policyRoutes(store: Store) {
  const app = createRouter();

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/',
        operationId: 'createPolicy',
        tags,
        summary: 'Create a self-healing policy',
        description:
          'Regex matchers must compile, action parameters must be those of the action type (ACTION_PARAMS), placeholders only ' +
          '${label.x} / ${annotation.x}: each refusal is a 422 naming its field. A name the tenant already has answers 409.',
        request: { body: jsonBody(PolicyCreateSchema) },
        responses: { 201: json(PolicySchema, 'Created (ETag: its version)') },
      },
      [409],
    ),
    async (c) => {
      const input = toInput(c.req.valid('json'));
      try {
        const policy = await store.policies.create(c.get('principal').tenantId, input);
        c.header('location', `/api/v1/policies/${policy.id}`);
        c.header('etag', etag(policy));
        return c.json(toPolicyResponse(policy), 201);
      } catch (err) {
        if (err instanceof DuplicateKeyError) throw conflict(`A policy named '${input.name}' already exists.`);
        throw err;
      }
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      operationId: 'listPolicies',
      tags,
      summary: 'List policies in the order they are tried (priority, then the older)',
      request: { query: PolicyListQuery },
      responses: { 200: json(z.object({ items: z.array(PolicySchema), nextCursor: z.string().nullable() }), 'A page of policies') },
    }),
    async (c) => {
      const { enabled, actionType, limit, cursor } = c.req.valid('query');
      const page = await store.policies.list(
        c.get('principal').tenantId,
        { enabled: enabled === undefined ? undefined : enabled === 'true', actionType },
        { limit, cursor },
      );
      return c.json({ items: page.items.map(toPolicyResponse), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/simulate',
      operationId: 'simulatePolicies',
      tags,
      summary: 'Replay alerts against a draft policy set: which policies would fire, on which hosts, how often, what limits stop',
      description:
        'Takes no action and writes nothing. Alerts: those recorded from `from` to `to` (at most 10000: narrow a larger window), or ' +
        '`alerts` sent inline. Policies: the `policies` draft set, or your stored ones. Every run is assumed to take `actionSeconds` ' +
        'and succeed (the report lists its assumptions).',
      request: { body: jsonBody(SimulationRequestSchema) },
      responses: { 200: json(SimulationReportSchema, 'What the policies would have done') },
    }),
    async (c) => {
      const tenantId = c.get('principal').tenantId;
      const body = c.req.valid('json');
      const policies: SelfHealingPolicy[] = body.policies
        ? body.policies.map((draft, i) => {
            // Drafts tie on priority in the order sent, as stored policies do by age.
            const at = new Date(Date.UTC(2000, 0, 1) + i).toISOString();
            return { ...toInput(draft), id: `draft-${i + 1}`, createdAt: at, updatedAt: at };
          })
        : await store.policies.all(tenantId);
      let alerts: RecordedAlert[];
      if (body.alerts) {
        alerts = body.alerts.map((a) => ({
          receivedAt: a.receivedAt,
          alert: {
            status: a.status,
            labels: a.labels,
            annotations: a.annotations,
            fingerprint: a.fingerprint,
            startsAt: a.startsAt ?? a.receivedAt,
          },
        }));
      } else {
        const events = await store.alertEvents.listWindow(tenantId, { from: body.from!, to: body.to! }, MAX_SIMULATED_ALERTS + 1);
        if (events.length > MAX_SIMULATED_ALERTS) {
          throw unprocessable('The window holds too many alerts.', [
            { path: 'to', message: `more than ${MAX_SIMULATED_ALERTS} alerts were recorded in the window: narrow it`, code: 'too_big' },
          ]);
        }
        alerts = events.map((e) => ({ receivedAt: e.receivedAt, alert: e.alert }));
      }
      const report = simulatePolicies(alerts, policies, {
        ...(body.actionSeconds !== undefined ? { actionSeconds: body.actionSeconds } : {}),
        ...(body.maxDecisions !== undefined ? { maxDecisions: body.maxDecisions } : {}),
      });
      return c.json(report, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{id}',
        operationId: 'getPolicy',
        tags,
        summary: 'Get a policy (ETag: its version)',
        request: { params: IdParam },
        responses: { 200: json(PolicySchema, 'The policy') },
      },
      [404],
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      const policy = await store.policies.get(c.get('principal').tenantId, id);
      if (!policy) throw notFound(`Policy '${id}'`);
      c.header('etag', etag(policy));
      return c.json(toPolicyResponse(policy), 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'put',
        path: '/{id}',
        operationId: 'replacePolicy',
        tags,
        summary: 'Replace a policy at the version you read',
        description:
          'Name the version replaced with If-Match (its ETag) or `version` in the body; neither answers 428, another version 409. ' +
          'Validated as on create.',
        request: { params: IdParam, headers: PolicyIfMatchHeader, body: jsonBody(PolicyReplaceSchema) },
        responses: { 200: json(PolicySchema, 'The replaced policy (its version one higher)') },
      },
      [404, 409, 428],
    ),
    async (c) => {
      const tenantId = c.get('principal').tenantId;
      const { id } = c.req.valid('param');
      const { version: bodyVersion, ...body } = c.req.valid('json');
      const headerVersion = ifMatchVersion(c.req.valid('header')['if-match']);
      if (headerVersion !== undefined && headerVersion !== null && bodyVersion !== undefined && headerVersion !== bodyVersion) {
        throw unprocessable('The request names two versions.', [
          { path: 'version', message: `If-Match names version ${headerVersion}, the body ${bodyVersion}`, code: 'conflicting_versions' },
        ]);
      }
      let expected = bodyVersion ?? headerVersion;
      if (expected === undefined) {
        throw new ProblemError(
          428,
          'precondition-required',
          'Name the version you replace: If-Match with its ETag, or version in the body.',
        );
      }
      if (expected === null) {
        const current = await store.policies.get(tenantId, id);
        if (!current) throw notFound(`Policy '${id}'`);
        expected = current.version;
      }
      const input = toInput(body);
      let outcome;
      try {
        outcome = await store.policies.replace(tenantId, id, input, expected);
      } catch (err) {
        if (err instanceof DuplicateKeyError) throw conflict(`A policy named '${input.name}' already exists.`);
        throw err;
      }
      if (outcome.kind === 'not_found') throw notFound(`Policy '${id}'`);
      if (outcome.kind === 'stale') throw stale(id, outcome.version);
      c.header('etag', etag(outcome.policy!));
      return c.json(toPolicyResponse(outcome.policy!), 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'delete',
        path: '/{id}',
        operationId: 'deletePolicy',
        tags,
        summary: 'Delete a policy (at the If-Match version when sent); its jobs stay in the log',
        request: { params: IdParam, headers: PolicyIfMatchHeader },
        responses: { 204: { description: 'Deleted' } },
      },
      [404, 409],
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      const version = ifMatchVersion(c.req.valid('header')['if-match']);
      const outcome = await store.policies.delete(c.get('principal').tenantId, id, version ?? undefined);
      if (outcome.kind === 'not_found') throw notFound(`Policy '${id}'`);
      if (outcome.kind === 'stale') throw stale(id, outcome.version);
      return c.body(null, 204);
    },
  );

  return app;
}

/** The alert run as GET /api/v1/jobs/{id} shows it, from its projection (never from Temporal). */
function toRunView(projection: RunProjection): z.infer<typeof AlertRunViewSchema> {
  const { run } = projection.state as unknown as AlertRunProjectionState;
  return {
    workflowId: projection.workflowId,
    status: run.status,
    ended: projection.ended,
    summary: run.summary,
    resolvedAt: run.resolvedAt,
    approval: run.approval,
    steps: run.steps,
    commands: run.commands.map(({ phase, command, allowedBy, exitCode, output, at }) => ({
      phase,
      command,
      allowedBy,
      exitCode,
      output,
      at,
    })),
    child: run.child,
    incidents: run.incidents,
  };
}

export function policyJobRoutes(store: Store, alerts: AlertWorkflowGateway) {
  const app = createRouter();
  const jobTags = ['Jobs'];

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      operationId: 'listPolicyJobs',
      tags: jobTags,
      summary: 'The job log: every decision the self-healing policies took, newest first',
      request: { query: PolicyJobListQuery },
      responses: { 200: json(z.object({ items: z.array(PolicyJobSchema), nextCursor: z.string().nullable() }), 'A page of jobs') },
    }),
    async (c) => {
      const { limit, cursor, ...filter } = c.req.valid('query');
      const page = await store.policyJobs.list(c.get('principal').tenantId, filter, { limit, cursor });
      return c.json({ items: page.items.map(toJobResponse), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{id}',
        operationId: 'getPolicyJob',
        tags: jobTags,
        summary: 'One decision of the job log',
        request: { params: IdParam },
        responses: { 200: json(PolicyJobDetailSchema, 'The job, with the alert run that recorded it') },
      },
      [404],
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      const tenantId = c.get('principal').tenantId;
      const job = await store.policyJobs.get(tenantId, id);
      if (!job) throw notFound(`Job '${id}'`);
      const projection = job.workflowId ? await store.runs.get(tenantId, 'alert', job.workflowId) : null;
      return c.json({ ...toJobResponse(job), run: projection ? toRunView(projection) : null }, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/{id}/approval',
        operationId: 'decidePolicyJobApproval',
        tags: jobTags,
        summary: 'Approve or reject the command a running ssh_command job waits on',
        description:
          'A command whose risk needs a human under the remediation settings (high always; low unless INFRAAI_AUTO_APPROVE_LOW_RISK) ' +
          'waits here. The decision is bound to the SHA-256 of the command the job shows: a run waiting on another command, or on ' +
          'nothing (decided, timed out, resolved, finished), answers 409.',
        request: { params: IdParam, body: jsonBody(JobApprovalSchema) },
        responses: { 200: json(AlertApprovalSchema, 'The decision, recorded by the run') },
      },
      [404, 409],
    ),
    async (c) => {
      const principal = c.get('principal');
      const { id } = c.req.valid('param');
      const { decision, reason } = c.req.valid('json');
      const job = await store.policyJobs.get(principal.tenantId, id);
      if (!job) throw notFound(`Job '${id}'`);
      const command = job.params?.command;
      if (job.actionType !== 'ssh_command' || typeof command !== 'string' || job.status !== 'running' || !job.workflowId) {
        throw conflict(`Job '${id}' is ${job.status}${job.actionType ? ` (${job.actionType})` : ''}: no command of it waits for approval.`);
      }
      const approval = await alerts.decideApproval(job.workflowId, {
        decision,
        commandHash: await policyCommandHash(command),
        by: principal.subject,
        ...(reason !== undefined ? { comment: reason } : {}),
      });
      return c.json(approval, 200);
    },
  );

  return app;
}
