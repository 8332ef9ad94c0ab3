import { ProtocolServer, ReplyError, basicCredentials, type RecordedRequest, type Reply } from './protocol-server.js';

// A local stand-in for Jira Cloud's REST API v3, for exactly the calls the Jira adapter makes:
//   POST /rest/api/3/search/jql   { jql, maxResults, fields, nextPageToken } → { issues, nextPageToken?, isLast }
//   GET  /rest/api/3/issue/{key}?fields=…                                    → { id, key, self, fields }
//   POST /rest/api/3/issue        { fields: { project, summary, issuetype, description (ADF), labels, priority } }
//                                                                            → 201 { id, key, self }
// JQL covers what the adapter and tests send: conditions joined by AND over project, labels,
// status, statusCategory, issuetype, assignee (=, !=, IN) and text/summary (~), then ORDER BY
// created|updated|key ASC|DESC. As on Jira Cloud, a query with no condition is "unbounded" (400),
// an unknown field is a 400 naming it, and only requested fields come back. Errors are Jira's
// { errorMessages, errors }; 401 is Jira's plain-text answer. Basic auth (email:apiToken) on every call.

export interface FakeJiraIssue {
  id: string;
  key: string;
  project: string;
  summary: string;
  /** ADF document, or null. */
  description: unknown;
  status: string;
  statusCategory: 'new' | 'indeterminate' | 'done';
  issueType: string;
  priority: string | null;
  assignee: string | null;
  reporter: string | null;
  labels: string[];
  components: string[];
  resolution: string | null;
  created: string;
  updated: string;
  comments: { author: string; body: unknown; created: string }[];
}

export interface FakeJiraProject {
  key: string;
  name: string;
  issueTypes: string[];
}

const FIELDS = new Set([
  'project',
  'labels',
  'status',
  'statuscategory',
  'issuetype',
  'type',
  'assignee',
  'text',
  'summary',
  'key',
  'created',
  'updated',
  'priority',
]);

export class FakeJira {
  readonly issues: FakeJiraIssue[] = [];
  readonly projects: FakeJiraProject[] = [];
  private nextId = 10_000;

  private constructor(
    readonly server: ProtocolServer,
    private readonly account: { email: string; apiToken: string },
  ) {}

  static async start(account: { email: string; apiToken: string }): Promise<FakeJira> {
    const routeTo: { fake?: FakeJira } = {};
    const server = await ProtocolServer.start((request) => routeTo.fake!.route(request));
    routeTo.fake = new FakeJira(server, account);
    return routeTo.fake;
  }

  get baseUrl(): string {
    return this.server.url;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  addProject(key: string, name: string, issueTypes = ['Task', 'Bug', 'Story']): void {
    this.projects.push({ key, name, issueTypes });
  }

  addIssue(fields: Partial<FakeJiraIssue> & Pick<FakeJiraIssue, 'project' | 'summary'>): FakeJiraIssue {
    const number = this.issues.filter((i) => i.project === fields.project).length + 1;
    const issue: FakeJiraIssue = {
      id: String(this.nextId++),
      key: `${fields.project}-${number}`,
      description: null,
      status: 'To Do',
      statusCategory: 'new',
      issueType: 'Task',
      priority: 'Medium',
      assignee: null,
      reporter: 'Ops Bot',
      labels: [],
      components: [],
      resolution: null,
      created: `2026-11-${String((number % 28) + 1).padStart(2, '0')}T09:00:00.000+0000`,
      updated: `2026-11-${String((number % 28) + 1).padStart(2, '0')}T10:00:00.000+0000`,
      comments: [],
      ...fields,
    };
    this.issues.push(issue);
    return issue;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  private route(request: RecordedRequest): Reply {
    const credentials = basicCredentials(request.headers.authorization);
    if (credentials?.user !== this.account.email || credentials.password !== this.account.apiToken) {
      throw new ReplyError({ status: 401, body: 'Client must be authenticated to access this resource.' });
    }
    if (request.method === 'POST' && request.path === '/rest/api/3/search/jql') return this.search(request.body);
    if (request.method === 'POST' && request.path === '/rest/api/3/issue') return this.create(request);
    const one = /^\/rest\/api\/3\/issue\/([^/]+)$/.exec(request.path);
    if (request.method === 'GET' && one) {
      const key = decodeURIComponent(one[1]!);
      const issue = this.issues.find((i) => i.key === key || i.id === key);
      if (!issue) throw jiraError(404, ['Issue does not exist or you do not have permission to see it.']);
      const fields = request.query.fields ? request.query.fields.split(',') : ['*all'];
      return { status: 200, body: this.issueJson(issue, fields) };
    }
    throw jiraError(404, [`No resource for ${request.method} ${request.path}`]);
  }

  private search(body: unknown): Reply {
    const b = (body ?? {}) as { jql?: unknown; maxResults?: unknown; fields?: unknown; nextPageToken?: unknown };
    if (typeof b.jql !== 'string') throw jiraError(400, ['The request body must include jql.']);
    const { conditions, order } = parseJql(b.jql);
    if (conditions.length === 0)
      throw jiraError(400, ['Unbounded JQL queries are not allowed here. Please add a search restriction to your query.']);
    let matches = this.issues.filter((issue) => conditions.every((c) => c(issue)));
    if (order) {
      matches = [...matches].sort(
        (x, y) => order.direction * String(x[order.field]).localeCompare(String(y[order.field]), 'en', { numeric: true }),
      );
    }
    const maxResults = typeof b.maxResults === 'number' ? Math.min(b.maxResults, 5000) : 50;
    let offset = 0;
    if (b.nextPageToken !== undefined) {
      const decoded = /^offset:(\d+)$/.exec(Buffer.from(String(b.nextPageToken), 'base64url').toString('utf8'));
      if (!decoded) throw jiraError(400, ['The provided next page token is invalid or expired.']);
      offset = Number(decoded[1]);
    }
    const fields = Array.isArray(b.fields) ? (b.fields as string[]) : ['id'];
    const page = matches.slice(offset, offset + maxResults);
    const isLast = offset + maxResults >= matches.length;
    return {
      status: 200,
      body: {
        issues: page.map((issue) => this.issueJson(issue, fields)),
        ...(isLast ? {} : { nextPageToken: Buffer.from(`offset:${offset + maxResults}`).toString('base64url') }),
        isLast,
      },
    };
  }

  private create(request: RecordedRequest): Reply {
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) throw jiraError(415, ['Unsupported Media Type']);
    const fields = ((request.body ?? {}) as { fields?: Record<string, unknown> }).fields ?? {};
    const errors: Record<string, string> = {};
    const projectKey = (fields.project as { key?: unknown } | undefined)?.key;
    const project = this.projects.find((p) => p.key === projectKey);
    if (!project) errors.project = 'valid project is required';
    const issueType = (fields.issuetype as { name?: unknown } | undefined)?.name;
    if (project && !project.issueTypes.includes(String(issueType))) errors.issuetype = 'Specify a valid issue type';
    const summary = fields.summary;
    if (typeof summary !== 'string' || summary.trim() === '') errors.summary = 'You must specify a summary of the issue.';
    else if (summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
    const description = fields.description as { type?: unknown; version?: unknown } | undefined;
    if (description !== undefined && (description?.type !== 'doc' || description.version !== 1))
      errors.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
    const labels = (fields.labels ?? []) as unknown[];
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string' || /\s/.test(l)))
      errors.labels = 'The label must not contain spaces.';
    const priority = (fields.priority as { name?: unknown } | undefined)?.name;
    if (priority !== undefined && !['Highest', 'High', 'Medium', 'Low', 'Lowest'].includes(String(priority)))
      errors.priority = 'Specify a valid priority';
    if (Object.keys(errors).length) throw new ReplyError({ status: 400, body: { errorMessages: [], errors } });
    const created = this.addIssue({
      project: project!.key,
      summary: summary as string,
      description: description ?? null,
      issueType: String(issueType),
      labels: labels as string[],
      priority: priority === undefined ? 'Medium' : String(priority),
      reporter: 'InfraAI integration',
      created: new Date().toISOString().replace('Z', '+0000'),
      updated: new Date().toISOString().replace('Z', '+0000'),
    });
    return { status: 201, body: { id: created.id, key: created.key, self: `${this.baseUrl}/rest/api/3/issue/${created.id}` } };
  }

  private issueJson(issue: FakeJiraIssue, requested: string[]): Record<string, unknown> {
    const user = (name: string | null) =>
      name ? { accountId: `5b10ac8d82e05b22cc7d4e${name.length}`, displayName: name, active: true } : null;
    const all: Record<string, unknown> = {
      summary: issue.summary,
      status: {
        name: issue.status,
        statusCategory: {
          key: issue.statusCategory,
          name: { new: 'To Do', indeterminate: 'In Progress', done: 'Done' }[issue.statusCategory],
        },
      },
      issuetype: { name: issue.issueType, subtask: false },
      priority: issue.priority ? { name: issue.priority } : null,
      assignee: user(issue.assignee),
      reporter: user(issue.reporter),
      labels: issue.labels,
      created: issue.created,
      updated: issue.updated,
      project: { key: issue.project, name: this.projects.find((p) => p.key === issue.project)?.name ?? issue.project },
      resolution: issue.resolution ? { name: issue.resolution } : null,
      components: issue.components.map((name) => ({ name })),
      description: issue.description,
      comment: {
        comments: issue.comments.map((c, i) => ({
          id: String(i + 1),
          author: user(c.author),
          body: c.body,
          created: c.created,
          updated: c.created,
        })),
        maxResults: issue.comments.length,
        total: issue.comments.length,
        startAt: 0,
      },
    };
    const fields = requested.includes('*all') ? all : Object.fromEntries(requested.filter((f) => f in all).map((f) => [f, all[f]]));
    return {
      expand: 'renderedFields,names,schema',
      id: issue.id,
      self: `${this.baseUrl}/rest/api/3/issue/${issue.id}`,
      key: issue.key,
      fields,
    };
  }
}

type Condition = (issue: FakeJiraIssue) => boolean;

function parseJql(jql: string): { conditions: Condition[]; order: { field: keyof FakeJiraIssue; direction: number } | null } {
  const [where = '', orderBy] = jql.split(/(?:^|\s+)ORDER\s+BY\s+/i);
  let order: { field: keyof FakeJiraIssue; direction: number } | null = null;
  if (orderBy) {
    const m = /^(created|updated|key)\s*(ASC|DESC)?$/i.exec(orderBy.trim());
    if (!m) throw jiraError(400, [`Error in the JQL Query: Not able to sort using field '${orderBy.trim().split(/\s/)[0]}'.`]);
    order = { field: m[1]!.toLowerCase() as keyof FakeJiraIssue, direction: m[2]?.toUpperCase() === 'DESC' ? -1 : 1 };
  }
  const text = where.trim();
  if (text === '') return { conditions: [], order };
  const conditions = text.split(/\s+AND\s+/i).map((clause): Condition => {
    const m = /^(\w+)\s*(=|!=|~|IN)\s*(.+)$/i.exec(clause.trim());
    if (!m) throw jiraError(400, [`Error in the JQL Query: Expecting operator but got '${clause.trim()}'.`]);
    const field = m[1]!.toLowerCase();
    if (!FIELDS.has(field)) throw jiraError(400, [`Field '${m[1]}' does not exist or you do not have permission to view it.`]);
    const op = m[2]!.toUpperCase();
    const values =
      op === 'IN'
        ? m[3]!
            .replace(/^\(|\)$/g, '')
            .split(',')
            .map(unquote)
        : [unquote(m[3]!)];
    const valueOf = (issue: FakeJiraIssue): string[] =>
      field === 'project'
        ? [issue.project]
        : field === 'labels'
          ? issue.labels
          : field === 'status'
            ? [issue.status]
            : field === 'statuscategory'
              ? [{ new: 'To Do', indeterminate: 'In Progress', done: 'Done' }[issue.statusCategory]]
              : field === 'issuetype' || field === 'type'
                ? [issue.issueType]
                : field === 'assignee'
                  ? [issue.assignee ?? 'EMPTY']
                  : field === 'priority'
                    ? [issue.priority ?? '']
                    : field === 'key'
                      ? [issue.key]
                      : [issue.summary, JSON.stringify(issue.description ?? '')];
    if (op === '~') return (issue) => valueOf(issue).some((v) => v.toLowerCase().includes(values[0]!.toLowerCase()));
    const hit = (issue: FakeJiraIssue) => valueOf(issue).some((v) => values.some((x) => v.toLowerCase() === x.toLowerCase()));
    return op === '!=' ? (issue) => !hit(issue) : hit;
  });
  return { conditions, order };
}

function unquote(value: string): string {
  return value
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .replace(/^'(.*)'$/, '$1');
}

function jiraError(status: number, errorMessages: string[], errors: Record<string, string> = {}): ReplyError {
  return new ReplyError({ status, body: { errorMessages, errors } });
}
