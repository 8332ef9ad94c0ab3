import type { z } from '@hono/zod-openapi';
import type { ProvisioningToolkit } from '../../activities/provisioning/deps.js';
import { GitHostRefusedError, GitHostUnavailableError } from '../../adapters/git-host/port.js';
import type { ProvisionRequestRecord, Store } from '../../adapters/store/port.js';
import {
  DEFAULT_PROVISION_SETTINGS,
  isFinalProvisionStatus,
  referenceProvisionStatus,
  type ProvisionSettings,
  type ProvisionStepName,
} from '../../core/contracts/provisioning.js';
import type { ProvisionEnvironment } from '../../core/provisioning/types.js';
import { conflict, notFound, ProblemError, unprocessable } from '../problem.js';
import {
  normaliseEnvironment,
  ProvisionAcceptedSchema,
  ProvisionCreateSchema,
  ProvisionDetailSchema,
  ProvisionDryRunResultSchema,
  ProvisionDryRunSchema,
  ProvisionListQuery,
  ProvisionPageSchema,
  ProvisionReviewAnswerSchema,
  ProvisionReviewSchema,
  type ProvisionSummarySchema,
  ReferenceDryRunSchema,
  ReferenceListQuery,
  ReferenceListSchema,
  ReferenceStatusSchema,
} from '../provisioning-schemas.js';
import { ProvisionNotUnderstoodError, startProvisionRequest } from '../run-starts.js';
import { IdParam } from '../schemas.js';
import type { ProvisioningWorkflowGateway } from '../temporal-gateway.js';
import { idempotencyKeyHeader } from '../run-routes.js';
import { apiRoute, createRouter, jsonBody, jsonResponse as json } from '../validation.js';

// Infrastructure provisioning: start a request (parsed once here: an ambiguous one is a 422 and
// nothing is written), read it and list them (from the store), preview one (dry run: writes nothing
// anywhere), and, with the local git host, review its pull request. Reference 004's routes are
// aliases over the same store (provisioningReferenceRoutes). GitHub reviews arrive by its webhook.

const IdempotencyHeader = idempotencyKeyHeader(
  'Repeat-safe creation: the same key returns the request recorded first and starts nothing (no second pull request).',
);

const tags = ['Provisioning'];

export interface ProvisioningRouteDeps {
  store: Store;
  workflows: ProvisioningWorkflowGateway;
  /** The pure core (parse, render, validate, policy); null: starting and dry runs answer 503. */
  toolkit: ProvisioningToolkit | null;
  settings?: ProvisionSettings | undefined;
  /**
   * The local git host's review: marks its pull request merged or closed. Null: the git host is
   * GitHub (reviews happen there and arrive by webhook), and the review route answers 409.
   */
  localReview?: ((tenantId: string, number: number, state: 'merged' | 'closed') => Promise<void>) | null | undefined;
}

function notConfigured(): ProblemError {
  return new ProblemError(503, 'provisioning-not-configured', 'Provisioning is not configured in this API process.');
}

function notUnderstood(err: ProvisionNotUnderstoodError): ProblemError {
  return unprocessable(`The request is ambiguous: ${err.message}`, [
    ...err.missing.map((field) => ({ path: 'request', message: `missing: ${field}`, code: 'missing' })),
  ]);
}

export function toProvisionSummary(r: ProvisionRequestRecord): z.infer<typeof ProvisionSummarySchema> {
  return {
    id: r.id,
    number: r.number,
    requester: r.requester,
    request: r.request,
    environment: r.environment,
    status: r.status,
    stage: (r.stage as ProvisionStepName | null) ?? null,
    directory: r.directory,
    branch: r.branch,
    pullRequest: r.prNumber !== null && r.prUrl !== null ? { number: r.prNumber, url: r.prUrl, state: r.prState ?? 'open' } : null,
    workflowId: r.workflowId,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    finishedAt: r.finishedAt,
  };
}

function toDetail(r: ProvisionRequestRecord): z.infer<typeof ProvisionDetailSchema> {
  return {
    ...toProvisionSummary(r),
    requirements: r.requirements,
    parser: r.parser,
    files: r.files ?? [],
    findings: r.findings,
    commitSha: r.commitSha,
    reviewDeadline: r.reviewDeadline,
    remindedAt: r.remindedAt,
    summary: r.summary,
    error: r.error,
  };
}

function toReference(r: ProvisionRequestRecord): z.infer<typeof ReferenceStatusSchema> {
  return {
    request_id: r.id,
    request_text: r.request,
    requester: r.requester,
    team: r.requirements?.team ?? null,
    status: referenceProvisionStatus(r.status),
    infraai_status: r.status,
    pr_url: r.prUrl,
    pr_number: r.prNumber,
    branch_name: r.branch,
    error: r.error,
    created_at: r.createdAt,
    completed_at: r.finishedAt,
  };
}

/**
 * The dry run: parse, render, validate, declared policy rules, and Checkov when asked (it takes
 * seconds; the request's own policy step always runs it when installed); nothing stored, nothing
 * started, nothing pushed.
 */
async function dryRun(
  toolkit: ProvisioningToolkit | null,
  request: string,
  environment: ProvisionEnvironment | undefined,
  checkov = false,
) {
  if (!toolkit) throw notConfigured();
  const parsed = await toolkit.parse(request, { environment });
  if (!parsed.ok) throw notUnderstood(new ProvisionNotUnderstoodError(parsed.missing, parsed.message));
  const files = await toolkit.render(parsed.requirements);
  const findings = [...(await toolkit.validate(files)), ...(await toolkit.policy(files, parsed.requirements, { checkov }))];
  return {
    requirements: parsed.requirements,
    parser: parsed.parser,
    directory: toolkit.directory(parsed.requirements),
    files,
    findings,
    blocked: findings.some((f) => f.severity === 'error'),
  };
}

export function provisioningRoutes({
  store,
  workflows,
  toolkit,
  settings = DEFAULT_PROVISION_SETTINGS,
  localReview,
}: ProvisioningRouteDeps) {
  const app = createRouter();

  async function load(tenantId: string, id: string): Promise<ProvisionRequestRecord> {
    const request = await store.provisioning.get(tenantId, id);
    if (!request) throw notFound(`Provisioning request '${id}'`);
    return request;
  }

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/',
        operationId: 'startProvisioning',
        tags,
        summary: 'Provision infrastructure from a request in plain words: Terraform in a pull request',
        description:
          'The request is parsed first: one that does not say what to provision answers 422 listing what is `missing`, and nothing is ' +
          'recorded. Otherwise the request is recorded and its workflow provision-<id> started: generate → validate → policy → branch ' +
          '`infraai/provision-<id>` → pull request → wait for the review. A policy error ends it `blocked` with nothing pushed.',
        request: { body: jsonBody(ProvisionCreateSchema), headers: IdempotencyHeader },
        responses: {
          202: json(ProvisionAcceptedSchema, 'Accepted; the workflow provision-<id> has started'),
          200: json(ProvisionAcceptedSchema, 'Repeat of an Idempotency-Key: the request recorded first (nothing new started)'),
        },
      },
      [503],
    ),
    async (c) => {
      if (!toolkit) throw notConfigured();
      const body = c.req.valid('json');
      const principal = c.get('principal');
      const { 'idempotency-key': idempotencyKey } = c.req.valid('header');
      let started: { request: ProvisionRequestRecord; created: boolean };
      try {
        started = await startProvisionRequest(
          { store, workflows, toolkit, settings },
          { tenantId: principal.tenantId, tenantSlug: principal.tenantSlug, subject: principal.subject },
          {
            request: body.request,
            environment: normaliseEnvironment(body.environment),
            requester: body.requester ?? principal.subject,
            idempotencyKey: idempotencyKey ?? null,
          },
        );
      } catch (err) {
        if (err instanceof ProvisionNotUnderstoodError) throw notUnderstood(err);
        throw err;
      }
      const { request, created } = started;
      c.header('location', `/api/v1/provision/${request.id}`);
      const answer = { id: request.id, workflowId: request.workflowId, status: request.status };
      return created ? c.json(answer, 202) : c.json(answer, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      operationId: 'listProvisionRequests',
      tags,
      summary: 'List provisioning requests, newest first (by requester, by status)',
      request: { query: ProvisionListQuery },
      responses: { 200: json(ProvisionPageSchema, 'A page of requests') },
    }),
    async (c) => {
      const { limit, cursor, ...filter } = c.req.valid('query');
      const page = await store.provisioning.list(c.get('principal').tenantId, filter, { limit, cursor });
      return c.json({ items: page.items.map(toProvisionSummary), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/dry-run',
        operationId: 'dryRunProvisioning',
        tags,
        summary: 'Preview a request: requirements, files, directory and findings; writes nothing anywhere',
        request: { body: jsonBody(ProvisionDryRunSchema) },
        responses: { 200: json(ProvisionDryRunResultSchema, 'What the request would generate') },
      },
      [503],
    ),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(await dryRun(toolkit, body.request, normaliseEnvironment(body.environment), body.checkov), 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{id}',
        operationId: 'getProvisionRequest',
        tags,
        summary: 'A provisioning request: status, stage, requirements, files, findings, branch, pull request',
        request: { params: IdParam },
        responses: { 200: json(ProvisionDetailSchema, 'The request (from the store)') },
      },
      [404],
    ),
    async (c) => c.json(toDetail(await load(c.get('principal').tenantId, c.req.valid('param').id)), 200),
  );

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/{id}/review',
        operationId: 'reviewProvisionPullRequest',
        tags,
        summary: 'Merge or close the request’s pull request on the local git host (GitHub reviews arrive by its webhook)',
        description: '409 when the request has ended, has no pull request yet, or its git host is GitHub.',
        request: { params: IdParam, body: jsonBody(ProvisionReviewSchema) },
        responses: { 200: json(ProvisionReviewAnswerSchema, 'The pull request as reviewed; the run was told') },
      },
      [404, 409, 503],
    ),
    async (c) => {
      const tenantId = c.get('principal').tenantId;
      const request = await load(tenantId, c.req.valid('param').id);
      const { decision } = c.req.valid('json');
      if (isFinalProvisionStatus(request.status))
        throw conflict(`Provisioning request ${request.number} has already ended (${request.status}).`);
      if (request.prNumber === null || request.prUrl === null)
        throw conflict(`Provisioning request ${request.number} has no pull request yet.`);
      if (!localReview) throw conflict('The git host is GitHub: merge or close the pull request there; its webhook tells InfraAI.');
      try {
        await localReview(tenantId, request.prNumber, decision);
      } catch (err) {
        // A merge that does not apply cleanly, or a pull request already closed: the reviewer's to resolve.
        if (err instanceof GitHostRefusedError) throw conflict(`The local git host refused: ${err.message}`);
        if (err instanceof GitHostUnavailableError) {
          throw new ProblemError(503, 'provisioning-not-configured', `The local git host is unavailable: ${err.message}`, undefined, {
            'retry-after': '5',
          });
        }
        throw err;
      }
      await store.provisioning.update(tenantId, request.id, { prState: decision });
      const outcome = await workflows.signalReviewed(request.workflowId, { number: request.prNumber, state: decision });
      return c.json(
        {
          id: request.id,
          pullRequest: { number: request.prNumber, url: request.prUrl, state: decision },
          signalled: outcome === 'signalled',
        },
        200,
      );
    },
  );

  return app;
}

/** Reference 004's routes, kept for its clients: the same requests in its shapes. */
export function provisioningReferenceRoutes({ store, toolkit }: Pick<ProvisioningRouteDeps, 'store' | 'toolkit'>) {
  const app = createRouter();

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/requests/{id}/status',
        operationId: 'getProvisionRequestStatus',
        tags,
        summary: 'A provisioning request in reference 004’s shape (alias of GET /provision/{id})',
        request: { params: IdParam },
        responses: { 200: json(ReferenceStatusSchema, 'The request') },
      },
      [404],
    ),
    async (c) => {
      const id = c.req.valid('param').id;
      const request = await store.provisioning.get(c.get('principal').tenantId, id);
      if (!request) throw notFound(`Provisioning request '${id}'`);
      return c.json(toReference(request), 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/requests',
      operationId: 'listProvisionRequestsByUser',
      tags,
      summary: 'A user’s provisioning requests in reference 004’s shape (alias of GET /provision?requester=)',
      request: { query: ReferenceListQuery },
      responses: { 200: json(ReferenceListSchema, 'A page of requests, newest first') },
    }),
    async (c) => {
      const { user, limit, cursor } = c.req.valid('query');
      const page = await store.provisioning.list(c.get('principal').tenantId, { requester: user }, { limit, cursor });
      return c.json({ requests: page.items.map(toReference), next_cursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/dry-run',
        operationId: 'dryRunProvisioningReference',
        tags,
        summary: 'Preview a request in reference 004’s shape (alias of POST /provision/dry-run); writes nothing',
        request: { body: jsonBody(ProvisionDryRunSchema) },
        responses: { 200: json(ReferenceDryRunSchema, 'What the request would generate') },
      },
      [503],
    ),
    async (c) => {
      const body = c.req.valid('json');
      const preview = await dryRun(toolkit, body.request, normaliseEnvironment(body.environment), body.checkov);
      const prefix = `${preview.directory}/`;
      return c.json(
        {
          parsed_requirements: preview.requirements,
          terraform_files: Object.fromEntries(
            preview.files.map((f) => [f.path.startsWith(prefix) ? f.path.slice(prefix.length) : f.path, f.content]),
          ),
          directory: preview.directory,
          findings: preview.findings,
        },
        200,
      );
    },
  );

  return app;
}
