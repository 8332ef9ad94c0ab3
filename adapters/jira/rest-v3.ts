import { createHash } from 'node:crypto';
import { createAtlassianHttp, type HttpFailure } from '../atlassian/http.js';
import { adfToText, textToAdf } from './adf.js';
import {
  JiraAuthError,
  JiraError,
  JiraInvalidRequestError,
  JiraNotFoundError,
  JiraRateLimitError,
  JiraUnavailableError,
  type JiraClient,
  type JiraConfig,
  type JiraIssueSummary,
} from './port.js';

// Jira Cloud's REST API v3. Search uses POST /rest/api/3/search/jql, the endpoint that replaced
// /rest/api/3/search: it pages with nextPageToken (no startAt, no total) and returns only the
// fields asked for.

const SUMMARY_FIELDS = ['summary', 'status', 'issuetype', 'priority', 'assignee', 'labels', 'created', 'updated'];
const DETAIL_FIELDS = [...SUMMARY_FIELDS, 'project', 'reporter', 'resolution', 'components', 'description', 'comment'];
const ISSUE_KEY = /^[A-Z][A-Z0-9_]{0,49}-\d{1,12}$/;
const PROJECT_KEY = /^[A-Z][A-Z0-9_]{0,49}$/;

export function createRestV3JiraClient(config: JiraConfig): JiraClient {
  const site = config.baseUrl.replace(/\/+$/, '');
  const request = createAtlassianHttp(config, 'Jira', toJiraError);

  async function search(jql: string, maxResults: number, nextPageToken: string | undefined, signal: AbortSignal | undefined) {
    return request<SearchBody>({
      operation: 'search issues',
      method: 'POST',
      path: '/rest/api/3/search/jql',
      body: { jql, maxResults, fields: SUMMARY_FIELDS, ...(nextPageToken ? { nextPageToken } : {}) },
      signal,
    });
  }

  return {
    async searchIssues(jql, options) {
      const trimmed = jql.trim();
      if (trimmed === '') throw new JiraInvalidRequestError('The JQL query is empty', null, false);
      const maxResults = options?.maxResults ?? 20;
      if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100)
        throw new JiraInvalidRequestError(`maxResults must be from 1 to 100 (got ${maxResults})`, null, false);
      const body = await search(trimmed, maxResults, options?.nextPageToken, options?.signal);
      return {
        jql: trimmed,
        issues: (body.issues ?? []).map((issue) => toSummary(issue, site)),
        nextPageToken: body.isLast === false && body.nextPageToken ? body.nextPageToken : null,
      };
    },

    async getIssue(key, options) {
      const normalized = key.trim().toUpperCase();
      if (!ISSUE_KEY.test(normalized)) throw new JiraInvalidRequestError(`"${key}" is not a Jira issue key (PROJ-123)`, null, false);
      const issue = await request<IssueBody>({
        operation: `get issue ${normalized}`,
        method: 'GET',
        path: `/rest/api/3/issue/${encodeURIComponent(normalized)}`,
        query: { fields: DETAIL_FIELDS.join(',') },
        signal: options?.signal,
      });
      const fields = issue.fields ?? {};
      const maxChars = options?.maxDescriptionChars ?? 6_000;
      const description = adfToText(fields.description);
      const comments = fields.comment?.comments ?? [];
      return {
        ...toSummary(issue, site),
        project: fields.project?.key ?? null,
        reporter: fields.reporter?.displayName ?? null,
        resolution: fields.resolution?.name ?? null,
        components: (fields.components ?? []).map((c) => c.name ?? '').filter(Boolean),
        description: description.slice(0, maxChars),
        descriptionTruncated: description.length > maxChars,
        commentCount: fields.comment?.total ?? comments.length,
        comments: comments.slice(-(options?.maxComments ?? 5)).map((c) => ({
          author: c.author?.displayName ?? null,
          created: c.created ?? null,
          body: adfToText(c.body).slice(0, 1_000),
        })),
      };
    },

    async createIssue(issue, options) {
      const projectKey = issue.projectKey.trim().toUpperCase();
      if (!PROJECT_KEY.test(projectKey)) throw new JiraInvalidRequestError(`"${issue.projectKey}" is not a Jira project key`, null, false);
      const label = idempotencyLabel(issue.idempotencyKey);
      // A retry of a call that created the issue finds it by its label. Jira's search index trails
      // a create by moments, so a retry within that window could still miss it; the chat's retry
      // policy waits seconds between attempts.
      const earlier = await search(`project = "${projectKey}" AND labels = "${label}" ORDER BY created ASC`, 1, undefined, options?.signal);
      const found = earlier.issues?.[0];
      if (found) return { key: found.key, id: found.id, url: `${site}/browse/${found.key}`, created: false };

      const labels = [...new Set([...(issue.labels ?? []).map((l) => l.replace(/\s+/g, '-')), 'infraai', label])];
      const created = await request<{ id: string; key: string }>({
        operation: `create issue in ${projectKey}`,
        method: 'POST',
        path: '/rest/api/3/issue',
        body: {
          fields: {
            project: { key: projectKey },
            summary: issue.summary,
            issuetype: { name: issue.issueType },
            description: textToAdf(issue.description),
            labels,
            ...(issue.priority ? { priority: { name: issue.priority } } : {}),
          },
        },
        signal: options?.signal,
      });
      return { key: created.key, id: created.id, url: `${site}/browse/${created.key}`, created: true };
    },
  };
}

/** The label an issue created for an idempotency key carries (Jira labels allow no spaces). */
export function idempotencyLabel(idempotencyKey: string): string {
  return `infraai-call-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 20)}`;
}

interface IssueFields {
  summary?: string;
  status?: { name?: string; statusCategory?: { key?: string } };
  issuetype?: { name?: string };
  priority?: { name?: string } | null;
  assignee?: { displayName?: string } | null;
  reporter?: { displayName?: string } | null;
  labels?: string[];
  created?: string;
  updated?: string;
  project?: { key?: string };
  resolution?: { name?: string } | null;
  components?: { name?: string }[];
  description?: unknown;
  comment?: { total?: number; comments?: { author?: { displayName?: string }; created?: string; body?: unknown }[] };
}

interface IssueBody {
  id: string;
  key: string;
  fields?: IssueFields;
}

interface SearchBody {
  issues?: IssueBody[];
  nextPageToken?: string;
  isLast?: boolean;
}

function toSummary(issue: IssueBody, site: string): JiraIssueSummary {
  const f = issue.fields ?? {};
  return {
    key: issue.key,
    id: issue.id,
    summary: f.summary ?? '',
    status: f.status?.name ?? 'unknown',
    statusCategory: f.status?.statusCategory?.key ?? null,
    issueType: f.issuetype?.name ?? null,
    priority: f.priority?.name ?? null,
    assignee: f.assignee?.displayName ?? null,
    labels: f.labels ?? [],
    created: f.created ?? null,
    updated: f.updated ?? null,
    url: `${site}/browse/${issue.key}`,
  };
}

function toJiraError(failure: HttpFailure): JiraError {
  const { message, status } = failure;
  switch (failure.kind) {
    case 'auth':
      return new JiraAuthError(message, status, false);
    case 'not_found':
      return new JiraNotFoundError(message, status, false);
    case 'invalid':
      return new JiraInvalidRequestError(message, status, false);
    case 'rate_limited':
      return new JiraRateLimitError(message, status, true, failure.retryAfterMs);
    case 'unavailable':
      return new JiraUnavailableError(message, status, true, failure.retryAfterMs);
    default:
      return new JiraError(message, status, false);
  }
}
