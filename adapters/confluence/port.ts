// The Confluence port: search by CQL and read a page as plain text, for the chat agent's Confluence
// tools. rest.ts speaks Confluence Cloud's REST APIs (v1 search, v2 pages) with an account email and
// API token. Each call is one attempt; failures are classified here (retryable or not).

export interface ConfluenceConfig {
  /** The site, https://<site>.atlassian.net; the APIs live under /wiki. */
  baseUrl: string;
  email: string;
  apiToken: string;
  timeoutMs?: number;
}

export interface ConfluenceHit {
  /** Content id (a page's id for get). */
  id: string;
  /** page, blogpost, attachment, comment… */
  type: string;
  title: string;
  /** The space (or other container) the content lives in. */
  space: string | null;
  /** Search excerpt with the match highlighting removed. */
  excerpt: string;
  lastModified: string | null;
  url: string;
}

export interface ConfluenceSearchResult {
  cql: string;
  results: ConfluenceHit[];
  /** Matches in all, when Confluence says. */
  totalSize: number | null;
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface ConfluencePage {
  id: string;
  title: string;
  status: string;
  spaceId: string | null;
  version: number | null;
  lastModified: string | null;
  /** The body (storage format) as plain text, cut at maxChars. */
  text: string;
  truncated: boolean;
  url: string;
}

export interface ConfluenceClient {
  /** GET /wiki/rest/api/search?cql=…; pages with the cursor of the previous result. */
  searchPages(cql: string, options?: { limit?: number; cursor?: string; signal?: AbortSignal }): Promise<ConfluenceSearchResult>;
  /** GET /wiki/api/v2/pages/{id}?body-format=storage. */
  getPage(id: string, options?: { maxChars?: number; signal?: AbortSignal }): Promise<ConfluencePage>;
}

/** A Confluence call failed; `status` is Confluence's HTTP status when it answered. Never carries the token. */
export class ConfluenceError extends Error {
  override readonly name: string = 'ConfluenceError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** 401 or 403: the email and token are rejected, or the account may not see this. Not retryable. */
export class ConfluenceAuthError extends ConfluenceError {
  override readonly name = 'ConfluenceAuthError';
}

/** 404: no such page, or the account may not see it. */
export class ConfluenceNotFoundError extends ConfluenceError {
  override readonly name = 'ConfluenceNotFoundError';
}

/** 400: a CQL error or a bad parameter; Confluence's message says which. */
export class ConfluenceInvalidRequestError extends ConfluenceError {
  override readonly name = 'ConfluenceInvalidRequestError';
}

/** 429: retryable after `retryAfterMs` when Confluence sent Retry-After. */
export class ConfluenceRateLimitError extends ConfluenceError {
  override readonly name = 'ConfluenceRateLimitError';
}

/** 5xx, a timeout or a network failure: retryable. */
export class ConfluenceUnavailableError extends ConfluenceError {
  override readonly name = 'ConfluenceUnavailableError';
}
