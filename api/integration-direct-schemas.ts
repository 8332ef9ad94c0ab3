import { z } from '@hono/zod-openapi';
import { PAGERDUTY_STATUSES } from '../adapters/pagerduty/port.js';
import { text } from './schemas.js';

// Requests and answers of the direct integration endpoints (api/routes/integration-direct.ts). Each
// search takes the same fields as GET query parameters or as a POST JSON body (`Input(mode)`); the
// answers are the adapters' own result shapes, field by field. Upstream timestamps pass through as
// the service wrote them (Jira's `+0000` offsets are not RFC 3339), so they carry no date-time format.

export type InputMode = 'query' | 'body';

/** A whole number: coerced from the query string, a JSON number in a body. */
const whole = (mode: InputMode) => (mode === 'query' ? z.coerce.number().int() : z.number().int());

const upstreamTime = (description: string) => z.string().openapi({ description });
const nullableTime = (description: string) => z.string().nullable().openapi({ description });

// --- GitHub ---------------------------------------------------------------------------------------

/** GitHub serves the first 1000 results of any search. */
const GITHUB_RESULT_WINDOW = 1000;

const githubPaging = (mode: InputMode) => ({
  q: text({ min: 1, max: 256, trim: true }).openapi({
    description:
      'GitHub search syntax; qualifiers pass through (repo:owner/name, org:, is:open, label:, author:). Without repo:, org: or user: the search is scoped to the configured default owner.',
    example: 'repo:acme/payments is:open timeout',
  }),
  page: whole(mode).min(1).max(100).default(1).openapi({ description: '1-based page' }),
  perPage: whole(mode).min(1).max(100).default(30).openapi({ description: 'Results per page (page × perPage within the first 1000)' }),
  order: z.enum(['asc', 'desc']).optional(),
});

const withinGitHubWindow = (input: { page: number; perPage: number }) => (input.page - 1) * input.perPage < GITHUB_RESULT_WINDOW;
const GITHUB_WINDOW_PROBLEM = {
  message: `GitHub serves only the first ${GITHUB_RESULT_WINDOW} results of a search: lower page or perPage, or narrow q`,
  path: ['page'],
};

export const GitHubIssueSearchInput = (mode: InputMode) =>
  z
    .object({
      ...githubPaging(mode),
      kind: z.enum(['issue', 'pr']).optional().openapi({ description: 'Only issues or only pull requests (adds is:issue / is:pr)' }),
      sort: z.enum(['created', 'updated', 'comments']).optional().openapi({ description: "GitHub's best match when absent" }),
    })
    .strict()
    .refine(withinGitHubWindow, GITHUB_WINDOW_PROBLEM);

export const GitHubCommitSearchInput = (mode: InputMode) =>
  z
    .object({
      ...githubPaging(mode),
      sort: z.enum(['author-date', 'committer-date']).optional().openapi({ description: "GitHub's best match when absent" }),
    })
    .strict()
    .refine(withinGitHubWindow, GITHUB_WINDOW_PROBLEM);

const githubPage = {
  query: z.string().openapi({ description: 'The query as sent to GitHub, with the default owner added when it named none' }),
  totalCount: z.number().int().openapi({ description: 'Matches in all, as GitHub counts them' }),
  incompleteResults: z.boolean().openapi({ description: 'GitHub timed out part of the search: there may be matches it did not return' }),
  page: z.number().int(),
  perPage: z.number().int(),
  hasMore: z.boolean().openapi({ description: 'Another page exists within the 1000 results GitHub serves' }),
  nextPage: z.number().int().nullable().openapi({ description: 'The page to ask for next; null on the last one' }),
};

export const GitHubIssueSchema = z
  .object({
    repository: z.string().openapi({ description: 'owner/name', example: 'acme/payments' }),
    number: z.number().int(),
    title: z.string(),
    state: z.enum(['open', 'closed']),
    isPullRequest: z.boolean(),
    author: z.string().nullable().openapi({ description: 'Login; null for a deleted account' }),
    labels: z.array(z.string()),
    comments: z.number().int(),
    createdAt: upstreamTime('ISO 8601'),
    updatedAt: upstreamTime('ISO 8601'),
    closedAt: nullableTime('ISO 8601; null while open'),
    url: z.string().openapi({ description: 'The issue or pull request on GitHub' }),
  })
  .openapi('GitHubIssue');

export const GitHubIssueSearchPageSchema = z.object({ ...githubPage, items: z.array(GitHubIssueSchema) }).openapi('GitHubIssueSearchPage');

export const GitHubCommitSchema = z
  .object({
    repository: z.string().openapi({ description: 'owner/name' }),
    sha: z.string(),
    title: z.string().openapi({ description: 'The first line of the commit message' }),
    authorName: z.string().nullable(),
    authorLogin: z.string().nullable().openapi({ description: 'The GitHub account, when the author email maps to one' }),
    date: nullableTime('Author date (ISO 8601)'),
    url: z.string(),
  })
  .openapi('GitHubCommit');

export const GitHubCommitSearchPageSchema = z
  .object({ ...githubPage, items: z.array(GitHubCommitSchema) })
  .openapi('GitHubCommitSearchPage');

// --- Jira -----------------------------------------------------------------------------------------

export const JiraIssueSearchInput = (mode: InputMode) =>
  z
    .object({
      jql: text({ min: 1, max: 4000, trim: true }).openapi({
        description: 'JQL with at least one restriction (Jira Cloud refuses unbounded searches)',
        example: 'project = OPS AND statusCategory != Done ORDER BY updated DESC',
      }),
      maxResults: whole(mode).min(1).max(100).default(50),
      nextPageToken: z
        .string()
        .min(1)
        .max(2000)
        .optional()
        .openapi({ description: 'nextPageToken of the previous page, for the next one' }),
      startAt: whole(mode).min(0).max(0).optional().openapi({
        description:
          "Jira Cloud's search (POST /rest/api/3/search/jql) pages by nextPageToken only: startAt is accepted as 0 (the first page) for older clients",
      }),
    })
    .strict();

export const JiraIssueSchema = z
  .object({
    key: z.string().openapi({ example: 'OPS-123' }),
    id: z.string(),
    summary: z.string(),
    status: z.string(),
    statusCategory: z.string().nullable().openapi({ description: 'new (to do), indeterminate (in progress) or done' }),
    issueType: z.string().nullable(),
    priority: z.string().nullable(),
    assignee: z.string().nullable().openapi({ description: 'Display name' }),
    labels: z.array(z.string()),
    created: nullableTime('As Jira writes it (e.g. 2026-11-02T09:00:00.000+0000)'),
    updated: nullableTime('As Jira writes it'),
    url: z.string().openapi({ description: 'The issue in Jira (<site>/browse/KEY-1)' }),
  })
  .openapi('JiraIssue');

export const JiraIssueSearchPageSchema = z
  .object({
    jql: z.string(),
    maxResults: z.number().int(),
    issues: z.array(JiraIssueSchema),
    nextPageToken: z.string().nullable().openapi({ description: 'Pass back for the next page; null on the last one' }),
    isLast: z.boolean(),
  })
  .openapi('JiraIssueSearchPage');

// --- Confluence -----------------------------------------------------------------------------------

export const ConfluencePageSearchInput = (mode: InputMode) =>
  z
    .object({
      cql: text({ min: 1, max: 4000, trim: true }).openapi({
        description: 'CQL',
        example: 'type = page AND space = OPS AND text ~ "failover"',
      }),
      limit: whole(mode).min(1).max(100).default(25),
      cursor: z.string().min(1).max(2000).optional().openapi({ description: 'nextCursor of the previous page, for the next one' }),
    })
    .strict();

export const ConfluenceHitSchema = z
  .object({
    id: z.string().openapi({ description: 'Content id (a page id)' }),
    type: z.string().openapi({ description: 'page, blogpost, attachment, comment…' }),
    title: z.string(),
    space: z.string().nullable().openapi({ description: 'The space the content lives in' }),
    excerpt: z.string().openapi({ description: 'The search excerpt, highlighting removed' }),
    lastModified: nullableTime('ISO 8601'),
    url: z.string(),
  })
  .openapi('ConfluenceHit');

export const ConfluencePageSearchPageSchema = z
  .object({
    cql: z.string(),
    limit: z.number().int(),
    results: z.array(ConfluenceHitSchema),
    totalSize: z.number().int().nullable().openapi({ description: 'Matches in all, when Confluence says' }),
    nextCursor: z.string().nullable().openapi({ description: 'Pass back as cursor for the next page; null on the last one' }),
  })
  .openapi('ConfluencePageSearchPage');

// --- PagerDuty ------------------------------------------------------------------------------------

const PagerDutyStatus = z.enum(PAGERDUTY_STATUSES);
const statusList = z.union([PagerDutyStatus, z.array(PagerDutyStatus).min(1).max(3)]);

export const PagerDutyIncidentsQuery = z
  .object({
    'statuses[]': statusList.optional().openapi({
      param: { style: 'form', explode: true },
      description: "Repeat for several (PagerDuty's own spelling); default: triggered and acknowledged",
    }),
    statuses: statusList.optional().openapi({ param: { style: 'form', explode: true }, description: 'The same as statuses[]' }),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    offset: z.coerce
      .number()
      .int()
      .min(0)
      .max(10_000)
      .default(0)
      .openapi({ description: 'Skip this many; the next page starts at nextOffset' }),
  })
  .strict();

export const PagerDutyIncidentSchema = z
  .object({
    id: z.string(),
    number: z.number().int(),
    title: z.string(),
    status: PagerDutyStatus,
    urgency: z.string(),
    priority: z.string().nullable().openapi({ description: "The priority's name (P1…), when one is set" }),
    service: z.object({ id: z.string(), name: z.string() }).nullable(),
    assignees: z.array(z.string()).openapi({ description: 'Who it is assigned to now' }),
    escalationPolicy: z.string().nullable(),
    createdAt: upstreamTime('ISO 8601'),
    lastStatusChangeAt: nullableTime('ISO 8601'),
    url: z.string().openapi({ description: "The incident in PagerDuty's web UI" }),
  })
  .openapi('PagerDutyIncident');

export const PagerDutyIncidentPageSchema = z
  .object({
    incidents: z.array(PagerDutyIncidentSchema),
    limit: z.number().int(),
    offset: z.number().int(),
    more: z.boolean().openapi({ description: 'Another page follows' }),
    total: z.number().int().nullable().openapi({ description: 'Matches in all, when PagerDuty says' }),
    nextOffset: z.number().int().nullable().openapi({ description: 'The offset of the next page; null on the last one' }),
  })
  .openapi('PagerDutyIncidentPage');

// --- Prometheus -----------------------------------------------------------------------------------

export const DURATION = /^(\d{1,6})([smhdw])$/;
const RELATIVE = /^now(?:-\d{1,6}[smhdw])?$/;
const UNIX_SECONDS = /^\d{1,11}(?:\.\d{1,9})?$/;

const promTime = z
  .string()
  .trim()
  .refine(
    (value) => RELATIVE.test(value) || UNIX_SECONDS.test(value) || z.iso.datetime({ offset: true }).safeParse(value).success,
    'a time: RFC 3339, Unix seconds, now or now-<duration> (now-30m)',
  )
  .openapi({ example: 'now-1h' });

const promql = text({ min: 1, max: 4000, trim: true }).openapi({ description: 'A PromQL expression', example: 'up{job="node"}' });

export const PrometheusQueryInput = z
  .object({ query: promql, time: promTime.optional().openapi({ description: 'Evaluate at this time; default now' }) })
  .strict();

export const PrometheusRangeInput = z
  .object({
    query: promql,
    start: promTime.default('now-1h').openapi({ description: 'RFC 3339, Unix seconds or now-<duration>; default now-1h' }),
    end: promTime.default('now').openapi({ description: 'RFC 3339, Unix seconds, now or now-<duration>; default now' }),
    step: z
      .string()
      .trim()
      .refine((value) => DURATION.test(value) || (UNIX_SECONDS.test(value) && Number(value) > 0), 'a duration (15s, 1m) or seconds (15)')
      .optional()
      .openapi({ description: 'Seconds between points (15s, 1m, or 15); default about 250 points over the range', example: '1m' }),
  })
  .strict();

const LabelsSchema = z.record(z.string(), z.string()).openapi({ description: 'The series labels (__name__ included)' });
const SampleValue = z.number().nullable().openapi({ description: 'The value; null for NaN and ±Inf, which JSON cannot hold' });

export const MetricSampleSchema = z
  .object({ labels: LabelsSchema, value: SampleValue, timestamp: z.number().nullable().openapi({ description: 'Unix seconds' }) })
  .openapi('MetricSample');

export const MetricSeriesSchema = z
  .object({
    labels: LabelsSchema,
    points: z.array(z.tuple([z.number(), SampleValue])).openapi({ description: '[Unix seconds, value], oldest first' }),
  })
  .openapi('MetricSeries');

const seriesFields = {
  totalSeries: z.number().int().openapi({ description: 'Series in the answer, before the cut' }),
  truncated: z.boolean().openapi({ description: 'More series matched than are returned: narrow the query or aggregate' }),
};

export const PrometheusQueryResultSchema = z
  .object({
    query: z.string(),
    time: z.string().nullable().openapi({ description: 'The evaluation time asked for (RFC 3339); null: now' }),
    resultType: z.enum(['vector', 'scalar', 'string', 'matrix']),
    samples: z.array(MetricSampleSchema).openapi({ description: 'vector, scalar or string answers' }),
    series: z.array(MetricSeriesSchema).openapi({ description: 'A matrix answer (a range selector such as up[5m])' }),
    ...seriesFields,
  })
  .openapi('PrometheusQueryResult');

export const PrometheusRangeResultSchema = z
  .object({
    query: z.string(),
    start: z.string().openapi({ description: 'RFC 3339' }),
    end: z.string().openapi({ description: 'RFC 3339' }),
    stepSeconds: z.number(),
    resultType: z.literal('matrix'),
    series: z.array(MetricSeriesSchema),
    ...seriesFields,
  })
  .openapi('PrometheusRangeResult');
