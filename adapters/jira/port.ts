// The Jira port: search by JQL, read an issue, create an issue, for the chat agent's Jira tools.
// rest-v3.ts speaks Jira Cloud's REST API v3 with an account email and API token. Each call is one
// attempt; failures are classified here (retryable or not) and the caller decides what comes next.

export interface JiraConfig {
  /** https://<site>.atlassian.net */
  baseUrl: string;
  email: string;
  apiToken: string;
  timeoutMs?: number;
}

export interface JiraIssueSummary {
  key: string;
  id: string;
  summary: string;
  status: string;
  /** Jira's status category: `new` (to do), `indeterminate` (in progress), `done`. */
  statusCategory: string | null;
  issueType: string | null;
  priority: string | null;
  assignee: string | null;
  labels: string[];
  created: string | null;
  updated: string | null;
  /** The issue in Jira's web UI (<site>/browse/KEY-1). */
  url: string;
}

export interface JiraSearchResult {
  jql: string;
  issues: JiraIssueSummary[];
  /** Pass back to get the next page; null on the last page. */
  nextPageToken: string | null;
}

export interface JiraComment {
  author: string | null;
  created: string | null;
  /** Rendered from Atlassian Document Format to plain text. */
  body: string;
}

export interface JiraIssueDetail extends JiraIssueSummary {
  project: string | null;
  reporter: string | null;
  resolution: string | null;
  components: string[];
  /** The description rendered from Atlassian Document Format to plain text, cut at maxDescriptionChars. */
  description: string;
  descriptionTruncated: boolean;
  commentCount: number;
  /** The latest comments, oldest first. */
  comments: JiraComment[];
}

export interface NewJiraIssue {
  projectKey: string;
  summary: string;
  /** Plain text; paragraphs separated by blank lines. Sent as Atlassian Document Format. */
  description: string;
  issueType: string;
  labels?: string[];
  priority?: string;
  /**
   * Stable across retries of the same request (the chat's call key). The issue is labelled with a
   * key derived from it and looked up by it first, so a retry finds the issue instead of opening another.
   */
  idempotencyKey: string;
}

export interface CreatedJiraIssue {
  key: string;
  id: string;
  url: string;
  /** False when an earlier attempt with the same idempotency key had created it. */
  created: boolean;
}

export interface JiraClient {
  /** POST /rest/api/3/search/jql; page with the nextPageToken of the previous result. */
  searchIssues(jql: string, options?: { maxResults?: number; nextPageToken?: string; signal?: AbortSignal }): Promise<JiraSearchResult>;
  /** GET /rest/api/3/issue/{key}. */
  getIssue(key: string, options?: { maxDescriptionChars?: number; maxComments?: number; signal?: AbortSignal }): Promise<JiraIssueDetail>;
  /** POST /rest/api/3/issue, once per idempotency key. */
  createIssue(issue: NewJiraIssue, options?: { signal?: AbortSignal }): Promise<CreatedJiraIssue>;
}

/** A Jira call failed; `status` is Jira's HTTP status when it answered. Never carries the token. */
export class JiraError extends Error {
  override readonly name: string = 'JiraError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** 401 or 403: the email and token are rejected, or the account may not do this. Not retryable. */
export class JiraAuthError extends JiraError {
  override readonly name = 'JiraAuthError';
}

/** 404: no such issue or project, or the account may not see it. */
export class JiraNotFoundError extends JiraError {
  override readonly name = 'JiraNotFoundError';
}

/** 400: a JQL error, an unknown field, project or issue type; Jira's message says which. */
export class JiraInvalidRequestError extends JiraError {
  override readonly name = 'JiraInvalidRequestError';
}

/** 429: retryable after `retryAfterMs` when Jira sent Retry-After. */
export class JiraRateLimitError extends JiraError {
  override readonly name = 'JiraRateLimitError';
}

/** 5xx, a timeout or a network failure: retryable. */
export class JiraUnavailableError extends JiraError {
  override readonly name = 'JiraUnavailableError';
}
