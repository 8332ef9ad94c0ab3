import { z } from 'zod';
import { JiraError, type JiraClient, type JiraConfig, type JiraIssueDetail, type JiraIssueSummary } from '../adapters/jira/port.js';
import { integrationClients } from './integration-clients.js';
import { IntegrationNotConfiguredError } from './integrations.js';
import { ToolFailedError, ToolRefusedError, type ChatTool, type ToolRunContext } from './tool.js';
import { boundedBlock, boundedLines, day } from './text-budget.js';

// The chat agent's Jira tools: search by JQL and read an issue (read), create an issue (change:
// proposed, runs after a confirmation of the exact call, and at most once per call key). Each call
// uses the caller's own Jira settings (`context.integration('jira')`).

export interface JiraToolDeps {
  /** Builds a client for one caller's settings; the REST v3 adapter by default. */
  connect?: (config: JiraConfig) => Promise<JiraClient>;
}

const SEARCH_CONTENT_CHARS = 3_500;
const ISSUE_CONTENT_CHARS = 6_000;

const searchInput = z.strictObject({
  jql: z
    .string()
    .trim()
    .min(1)
    .max(4_000)
    .describe('JQL with at least one restriction, e.g. project = OPS AND statusCategory != Done ORDER BY updated DESC'),
  maxResults: z.number().int().min(1).max(50).default(10),
  pageToken: z.string().min(1).max(2_000).optional().describe('nextPageToken from the previous result, for the next page'),
});

const getInput = z.strictObject({
  key: z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,49}-\d{1,12}$/, 'an issue key such as OPS-123')
    .transform((key) => key.toUpperCase()),
});

const createInput = z.strictObject({
  project: z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,49}$/, 'a project key such as OPS')
    .transform((key) => key.toUpperCase())
    .optional()
    .describe('Project key; the configured default project when absent'),
  summary: z.string().trim().min(1).max(255),
  description: z.string().trim().max(20_000).default('').describe('Plain text; blank lines separate paragraphs'),
  issueType: z.string().trim().min(1).max(60).default('Task'),
  labels: z
    .array(z.string().regex(/^[^\s]{1,100}$/, 'a label without spaces'))
    .max(10)
    .optional(),
  priority: z.enum(['Highest', 'High', 'Medium', 'Low', 'Lowest']).optional(),
});

export function createJiraTools(deps: JiraToolDeps = {}): ChatTool[] {
  const connect = deps.connect ?? integrationClients.jira;

  async function client(context: ToolRunContext) {
    let settings;
    try {
      settings = await context.integration('jira');
    } catch (err) {
      if (err instanceof IntegrationNotConfiguredError) throw new ToolRefusedError(err.message, 'not_configured');
      throw err;
    }
    return { jira: await connect({ baseUrl: settings.baseUrl, email: settings.email, apiToken: settings.apiToken }), settings };
  }

  const search: ChatTool<z.output<typeof searchInput>> = {
    name: 'jira_search_issues',
    description:
      'Search Jira issues with JQL (needs at least one restriction such as project = OPS). Returns key, summary, status, type, ' +
      'priority and assignee; when there are more, pass the returned pageToken to get the next page.',
    input: searchInput,
    integration: 'jira',
    role: 'viewer',
    risk: () => 'read',
    async run(args, context) {
      const { jira } = await client(context);
      const result = await guarded(() =>
        jira.searchIssues(args.jql, {
          maxResults: args.maxResults,
          ...(args.pageToken ? { nextPageToken: args.pageToken } : {}),
          signal: context.signal,
        }),
      );
      const header =
        result.issues.length === 0
          ? `No Jira issues match \`${result.jql}\`.`
          : `Jira issues matching \`${result.jql}\` (${result.issues.length} on this page):`;
      const { text } = boundedLines(header, result.issues.map(issueLine), SEARCH_CONTENT_CHARS, 'Narrow the JQL or lower maxResults.');
      const more = result.nextPageToken ? `More: call again with pageToken "${result.nextPageToken}", or narrow the JQL.` : '';
      return {
        content: more ? `${text}\n${more}` : text,
        data: result,
        links: result.issues.map((issue) => ({ title: `${issue.key} ${issue.summary}`, url: issue.url })),
      };
    },
  };

  const get: ChatTool<z.output<typeof getInput>> = {
    name: 'jira_get_issue',
    description:
      'One Jira issue by key: summary, status, type, priority, people, labels, its description as plain text and the latest comments.',
    input: getInput,
    integration: 'jira',
    role: 'viewer',
    risk: () => 'read',
    async run(args, context) {
      const { jira } = await client(context);
      const issue = await guarded(() => jira.getIssue(args.key, { signal: context.signal }));
      return { content: describeIssue(issue), data: issue, links: [{ title: `${issue.key} ${issue.summary}`, url: issue.url }] };
    },
  };

  const create: ChatTool<z.output<typeof createInput>> = {
    name: 'jira_create_issue',
    description:
      'Create a Jira issue (needs confirmation). Give a summary and a plain-text description; the project defaults to the configured one. ' +
      'A retried call returns the issue the first attempt created.',
    input: createInput,
    integration: 'jira',
    role: 'operator',
    risk: () => 'change',
    async run(args, context) {
      const { jira, settings } = await client(context);
      const projectKey = args.project ?? settings.defaultProject;
      if (!projectKey) throw new ToolRefusedError('Name the Jira project: no default project is configured', 'invalid_arguments');
      const created = await guarded(() =>
        jira.createIssue(
          {
            projectKey,
            summary: args.summary,
            description: args.description,
            issueType: args.issueType,
            ...(args.labels ? { labels: args.labels } : {}),
            ...(args.priority ? { priority: args.priority } : {}),
            idempotencyKey: context.callKey,
          },
          { signal: context.signal },
        ),
      );
      return {
        content: created.created
          ? `Created Jira issue ${created.key}: ${created.url}`
          : `Jira issue ${created.key} already existed for this request: ${created.url}`,
        data: created,
        links: [{ title: `${created.key} ${args.summary}`, url: created.url }],
      };
    },
  };

  return [search, get, create];
}

async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof JiraError) {
      const wait = err.retryAfterMs !== undefined ? ` Retry after ${Math.ceil(err.retryAfterMs / 1000)} s.` : '';
      throw new ToolFailedError(`${err.message}${wait}`, err.retryable, err.status ?? undefined);
    }
    throw err;
  }
}

function issueLine(issue: JiraIssueSummary): string {
  return `- ${issue.key} [${issue.status}] ${issue.summary} — ${issue.issueType ?? 'issue'}, ${issue.priority ?? 'no'} priority, ${issue.assignee ?? 'unassigned'}, updated ${day(issue.updated)}`;
}

function describeIssue(issue: JiraIssueDetail): string {
  const lines = [
    `${issue.key} (${issue.issueType ?? 'issue'}, ${issue.status}${issue.resolution ? `, ${issue.resolution}` : ''}): ${issue.summary}`,
    `Priority ${issue.priority ?? 'none'}; assignee ${issue.assignee ?? 'none'}; reporter ${issue.reporter ?? 'unknown'}; created ${day(issue.created)}, updated ${day(issue.updated)}.`,
  ];
  if (issue.labels.length) lines.push(`Labels: ${issue.labels.join(', ')}`);
  if (issue.components.length) lines.push(`Components: ${issue.components.join(', ')}`);
  lines.push(`URL: ${issue.url}`, '', issue.description || '(no description)');
  if (issue.descriptionTruncated) lines.push('[the description is longer than shown]');
  if (issue.commentCount > 0) {
    lines.push(
      '',
      `Comments (${issue.commentCount}${issue.comments.length < issue.commentCount ? `, latest ${issue.comments.length}` : ''}):`,
    );
    for (const c of issue.comments) lines.push(`- ${c.author ?? 'someone'}, ${day(c.created)}: ${c.body.replace(/\n+/g, ' ')}`);
  }
  return boundedBlock(lines.join('\n'), ISSUE_CONTENT_CHARS, 'open the issue in Jira for the rest').text;
}
