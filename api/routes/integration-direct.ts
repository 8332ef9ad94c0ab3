import { z, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import { MAX_RANGE_POINTS, type MetricSample, type MetricSeries } from '../../adapters/metrics/port.js';
import type { PagerDutyStatus } from '../../adapters/pagerduty/port.js';
import { integrationClients, type IntegrationClients } from '../../tools/integration-clients.js';
import type { IntegrationSettingsService } from '../../tools/integration-settings.js';
import type { IntegrationName, IntegrationSettings } from '../../tools/integrations.js';
import { defaultStepSeconds, durationSeconds, resolveTime } from '../../tools/prometheus.js';
import type { AuthEnv, Principal } from '../auth.js';
import {
  ConfluencePageSearchInput,
  ConfluencePageSearchPageSchema,
  DURATION,
  GitHubCommitSearchInput,
  GitHubCommitSearchPageSchema,
  GitHubIssueSearchInput,
  GitHubIssueSearchPageSchema,
  JiraIssueSearchInput,
  JiraIssueSearchPageSchema,
  PagerDutyIncidentPageSchema,
  PagerDutyIncidentsQuery,
  PrometheusQueryInput,
  PrometheusQueryResultSchema,
  PrometheusRangeInput,
  PrometheusRangeResultSchema,
  type InputMode,
} from '../integration-direct-schemas.js';
import { DEFAULT_RETRY_AFTER_S, integrationProblem } from '../integration-failures.js';
import { ProblemError } from '../problem.js';
import { ProblemSchema } from '../schemas.js';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../validation.js';

// Reference 000's direct integration endpoints: GitHub issue and commit search, Jira and Confluence
// search, PagerDuty incidents, Prometheus instant and range queries, each on the caller's own
// settings (the user's fields over the tenant's, exactly what the chat tools' `context.integration`
// resolves) and the same clients the chat tools build (tools/integration-clients.ts). Searches take
// GET query parameters or the same fields as a POST JSON body. How failures are answered:
// api/integration-failures.ts.

const tags = ['Integrations'];

/** Series an answer carries at most (a range answer is up to 1,100 points per series). */
const MAX_SERIES = 200;

export interface IntegrationDirectDeps {
  /** Whose settings a call uses; absent: every endpoint answers 503 (no secrets store in this process). */
  settings: IntegrationSettingsService | undefined;
  /** Default: the chat tools' clients. */
  clients?: IntegrationClients;
  now?: () => Date;
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  409: 'The integration is not configured (or not completely) for the caller: PUT /api/v1/integrations/{name}/config',
  424: 'The integration refused the configured credentials (it answered 401 or 403)',
  422: 'Validation failed, or the integration refused the query (type integration-query-rejected)',
  429: 'The integration rate-limited the configured account; Retry-After says when to try again',
  502: 'The integration failed, could not be reached or did not answer in time (type integration-unavailable), or answered something else (integration-error)',
};

/** apiRoute with the integration answers documented: 409, 424, 429 (with Retry-After) and 502. */
function integrationRoute<R extends Omit<RouteConfig, 'path'> & { path: string; operationId: string }>(config: R) {
  const route = apiRoute(config, [409, 424, 429, 502]);
  const responses = route.responses as Record<string, { description: string; content?: unknown; headers?: unknown }>;
  for (const [status, description] of Object.entries(PROBLEM_DESCRIPTIONS)) {
    if (responses[status]) responses[status] = { ...responses[status], description };
  }
  responses['429'] = {
    description: PROBLEM_DESCRIPTIONS[429]!,
    content: { 'application/problem+json': { schema: ProblemSchema } },
    headers: z.object({
      'retry-after': z
        .string()
        .openapi({ description: `Seconds to wait (the integration's own, else ${DEFAULT_RETRY_AFTER_S})`, example: '30' }),
    }),
  };
  return route;
}

interface Search<I> {
  path: string;
  operationId: string;
  summary: string;
  integration: IntegrationName;
  /** The input the integration judges (named in a 422 when it refuses the query). */
  field: string;
  input: (mode: InputMode) => z.ZodType<I>;
  response: z.ZodType;
  description: string;
  /** Both methods (GET query, POST body), or GET only. */
  post: boolean;
  run(principal: Principal, input: I, signal: AbortSignal): Promise<unknown>;
}

/** Registers a search as GET (query parameters) and, when it has one, POST (the same fields as a JSON body). */
function registerSearch<I>(app: OpenAPIHono<AuthEnv>, search: Search<I>): void {
  const common = {
    path: search.path,
    tags,
    summary: search.summary,
    responses: { 200: jsonResponse(search.response, search.description) },
  };
  const get = integrationRoute({
    ...common,
    method: 'get',
    operationId: search.operationId,
    request: { query: search.input('query') as never },
  });
  app.openapi(get, async (c) => {
    const input = c.req.valid('query' as never) as I;
    return c.json((await search.run(c.get('principal'), input, c.req.raw.signal)) as never, 200);
  });
  if (!search.post) return;
  const post = integrationRoute({
    ...common,
    method: 'post',
    operationId: `${search.operationId}ByPost`,
    summary: `${search.summary} (the same, fields in a JSON body)`,
    request: { body: jsonBody(search.input('body')) },
  });
  app.openapi(post, async (c) => {
    const input = c.req.valid('json' as never) as I;
    return c.json((await search.run(c.get('principal'), input, c.req.raw.signal)) as never, 200);
  });
}

export function integrationDirectRoutes(deps: IntegrationDirectDeps) {
  const app = createRouter();
  const clients = deps.clients ?? integrationClients;
  const now = deps.now ?? (() => new Date());

  /** Runs `call` with the caller's settings of `integration`; its failures become the problems of integration-failures.ts. */
  async function withSettings<N extends IntegrationName, T>(
    principal: Principal,
    integration: N,
    field: string,
    call: (settings: IntegrationSettings<N>) => Promise<T>,
  ): Promise<T> {
    if (!deps.settings)
      throw new ProblemError(503, 'secrets-unavailable', 'Integration settings are not enabled in this API process (no secrets store).');
    try {
      const settings = await deps.settings.resolve({ tenantId: principal.tenantId, userId: principal.subject }, integration);
      return await call(settings);
    } catch (err) {
      throw integrationProblem(integration, field, err) ?? err;
    }
  }

  registerSearch(app, {
    path: '/integrations/github/issues/search',
    operationId: 'searchGitHubIssues',
    summary: 'Search GitHub issues and pull requests with the caller’s GitHub settings',
    integration: 'github',
    field: 'q',
    input: GitHubIssueSearchInput,
    response: GitHubIssueSearchPageSchema,
    description: 'One page of issues and pull requests',
    post: true,
    run: (principal, input, signal) =>
      withSettings(principal, 'github', 'q', async (settings) => {
        const github = await clients.github(settings);
        const kind = input.kind === 'pr' ? 'is:pr' : input.kind === 'issue' ? 'is:issue' : '';
        const q = kind && !new RegExp(`(^|\\s)${kind}(\\s|$)`).test(input.q) ? `${input.q} ${kind}` : input.q;
        const result = await github.searchIssues(q, {
          page: input.page,
          perPage: input.perPage,
          sort: input.sort,
          order: input.order,
          signal,
        });
        return { ...result, nextPage: result.hasMore ? result.page + 1 : null };
      }),
  });

  registerSearch(app, {
    path: '/integrations/github/commits/search',
    operationId: 'searchGitHubCommits',
    summary: 'Search GitHub commits by message with the caller’s GitHub settings',
    integration: 'github',
    field: 'q',
    input: GitHubCommitSearchInput,
    response: GitHubCommitSearchPageSchema,
    description: 'One page of commits',
    post: true,
    run: (principal, input, signal) =>
      withSettings(principal, 'github', 'q', async (settings) => {
        const github = await clients.github(settings);
        const result = await github.searchCommits(input.q, {
          page: input.page,
          perPage: input.perPage,
          sort: input.sort,
          order: input.order,
          signal,
        });
        return { ...result, nextPage: result.hasMore ? result.page + 1 : null };
      }),
  });

  registerSearch(app, {
    path: '/integrations/jira/issues/search',
    operationId: 'searchJiraIssues',
    summary: 'Search Jira issues by JQL with the caller’s Jira settings',
    integration: 'jira',
    field: 'jql',
    input: JiraIssueSearchInput,
    response: JiraIssueSearchPageSchema,
    description: 'One page of issues; pass nextPageToken back for the next',
    post: true,
    run: (principal, input, signal) =>
      withSettings(principal, 'jira', 'jql', async (settings) => {
        const jira = await clients.jira(settings);
        const result = await jira.searchIssues(input.jql, {
          maxResults: input.maxResults,
          ...(input.nextPageToken ? { nextPageToken: input.nextPageToken } : {}),
          signal,
        });
        return {
          jql: result.jql,
          maxResults: input.maxResults,
          issues: result.issues,
          nextPageToken: result.nextPageToken,
          isLast: !result.nextPageToken,
        };
      }),
  });

  registerSearch(app, {
    path: '/integrations/confluence/pages/search',
    operationId: 'searchConfluencePages',
    summary: 'Search Confluence content by CQL with the caller’s Confluence settings',
    integration: 'confluence',
    field: 'cql',
    input: ConfluencePageSearchInput,
    response: ConfluencePageSearchPageSchema,
    description: 'One page of results; pass nextCursor back as cursor for the next',
    post: true,
    run: (principal, input, signal) =>
      withSettings(principal, 'confluence', 'cql', async (settings) => {
        const confluence = await clients.confluence(settings);
        const result = await confluence.searchPages(input.cql, {
          limit: input.limit,
          ...(input.cursor ? { cursor: input.cursor } : {}),
          signal,
        });
        return { cql: result.cql, limit: input.limit, results: result.results, totalSize: result.totalSize, nextCursor: result.nextCursor };
      }),
  });

  registerSearch(app, {
    path: '/integrations/pagerduty/incidents',
    operationId: 'listPagerDutyIncidents',
    summary: 'List PagerDuty incidents by status, newest first, with the caller’s PagerDuty settings',
    integration: 'pagerduty',
    field: 'statuses[]',
    input: () => PagerDutyIncidentsQuery,
    response: PagerDutyIncidentPageSchema,
    description: 'One page of incidents',
    post: false,
    run: (principal, input, signal) =>
      withSettings(principal, 'pagerduty', 'statuses[]', async (settings) => {
        const statuses = [...new Set([input['statuses[]'], input.statuses].flat().filter((s): s is PagerDutyStatus => s !== undefined))];
        const page = await clients
          .pagerduty(settings)
          .listIncidents({ statuses: statuses.length ? statuses : undefined, limit: input.limit, offset: input.offset }, { signal });
        return { ...page, nextOffset: page.more ? page.offset + page.incidents.length : null };
      }),
  });

  registerSearch(app, {
    path: '/integrations/prometheus/query',
    operationId: 'queryPrometheus',
    summary: 'A PromQL instant query on the caller’s Prometheus',
    integration: 'prometheus',
    field: 'query',
    input: () => PrometheusQueryInput,
    response: PrometheusQueryResultSchema,
    description: 'The answer, typed as Prometheus typed it',
    post: true,
    run: (principal, input, signal) =>
      withSettings(principal, 'prometheus', 'query', async (settings) => {
        const at = input.time === undefined ? undefined : parseTime(input.time, now());
        const answer = await clients.prometheus(settings).instant(input.query, { time: at, signal });
        const all = answer.resultType === 'matrix' ? answer.series : answer.samples;
        return {
          query: input.query,
          time: at?.toISOString() ?? null,
          resultType: answer.resultType,
          samples: answer.resultType === 'matrix' ? [] : answer.samples.slice(0, MAX_SERIES).map(sampleJson),
          series: answer.resultType === 'matrix' ? answer.series.slice(0, MAX_SERIES).map(seriesJson) : [],
          totalSeries: all.length,
          truncated: all.length > MAX_SERIES,
        };
      }),
  });

  registerSearch(app, {
    path: '/integrations/prometheus/query_range',
    operationId: 'queryPrometheusRange',
    summary: 'A PromQL range query on the caller’s Prometheus',
    integration: 'prometheus',
    field: 'query',
    input: () => PrometheusRangeInput,
    response: PrometheusRangeResultSchema,
    description: 'The series over the range',
    post: true,
    run: (principal, input, signal) => {
      const clock = now();
      const start = parseTime(input.start, clock);
      const end = parseTime(input.end, clock);
      if (end.getTime() <= start.getTime())
        throw new ProblemError(422, 'validation-error', 'The range must start before it ends.', [
          { path: 'end', message: `end (${input.end}) must be after start (${input.start})`, code: 'invalid_range' },
        ]);
      const span = (end.getTime() - start.getTime()) / 1000;
      const stepSeconds =
        input.step === undefined ? defaultStepSeconds(span) : DURATION.test(input.step) ? durationSeconds(input.step) : Number(input.step);
      const points = Math.floor(span / stepSeconds) + 1;
      if (points > MAX_RANGE_POINTS)
        throw new ProblemError(422, 'validation-error', 'The range has too many points.', [
          {
            path: 'step',
            message: `${points} points per series (at most ${MAX_RANGE_POINTS}): use a step of at least ${Math.ceil(span / (MAX_RANGE_POINTS - 1))}s or a shorter range`,
            code: 'too_big',
          },
        ]);
      return withSettings(principal, 'prometheus', 'query', async (settings) => {
        const series = await clients.prometheus(settings).range(input.query, { start, end, stepSeconds }, { signal });
        return {
          query: input.query,
          start: start.toISOString(),
          end: end.toISOString(),
          stepSeconds,
          resultType: 'matrix' as const,
          series: series.slice(0, MAX_SERIES).map(seriesJson),
          totalSeries: series.length,
          truncated: series.length > MAX_SERIES,
        };
      });
    },
  });

  return app;
}

/** RFC 3339, Unix seconds, now or now-<duration> (the schema has checked which). */
function parseTime(text: string, now: Date): Date {
  return /^\d+(?:\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : resolveTime(text, now);
}

/** JSON has no NaN or ±Inf: they become null. */
const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);

function sampleJson(sample: MetricSample) {
  return { labels: sample.labels, value: finite(sample.value), timestamp: sample.timestamp ?? null };
}

function seriesJson(series: MetricSeries) {
  return { labels: series.labels, points: series.points.map(([time, value]): [number, number | null] => [time, finite(value)]) };
}
