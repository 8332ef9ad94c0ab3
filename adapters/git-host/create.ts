import { z } from 'zod';
import type { GitHost, PullRequestRecords } from './port.js';

// Picks the git host from config: the embedded local repository (the default; pull-request records
// from the store) or GitHub. Implementations load on first use, so a deployment on the local host
// never loads @octokit/rest. `gitHostConfigFromEnv` reads the INFRAAI_GIT_HOST* variables for
// config.ts; `gitHostConfigSchema` validates the parsed object.

const branchName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'must be a branch name');

export const gitHostConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('local'),
    repoPath: z.string().trim().min(1),
    defaultBranch: branchName.default('main'),
  }),
  z.strictObject({
    kind: z.literal('github'),
    token: z.string().trim().min(1, 'a GitHub token is required'),
    owner: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, 'must be a GitHub user or organisation'),
    repo: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._-]+$/, 'must be a repository name'),
    baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
    timeoutMs: z.number().int().positive().default(15_000),
  }),
]);

export type GitHostConfig = z.infer<typeof gitHostConfigSchema>;

/** The git host the config names. `records` keeps the local host's pull requests (unused for GitHub). */
export async function createGitHost(config: GitHostConfig, deps: { records: PullRequestRecords }): Promise<GitHost> {
  if (config.kind === 'github') {
    const { GitHubGitHost } = await import('./github.js');
    return new GitHubGitHost(config);
  }
  const { LocalGitHost } = await import('./local.js');
  return new LocalGitHost({ repoPath: config.repoPath, defaultBranch: config.defaultBranch, records: deps.records });
}

const envSchema = z
  .object({
    INFRAAI_GIT_HOST: z.enum(['local', 'github']).default('local'),
    INFRAAI_GIT_LOCAL_REPO: z.string().default('.data/provisioning-repo'),
    INFRAAI_GIT_DEFAULT_BRANCH: z.string().optional(),
    INFRAAI_GITHUB_TOKEN: z.string().optional(),
    INFRAAI_GITHUB_REPO: z.string().optional(),
    INFRAAI_GITHUB_API_URL: z.string().optional(),
  })
  .transform((env, ctx): unknown => {
    if (env.INFRAAI_GIT_HOST === 'local') {
      return {
        kind: 'local',
        repoPath: env.INFRAAI_GIT_LOCAL_REPO,
        ...(env.INFRAAI_GIT_DEFAULT_BRANCH ? { defaultBranch: env.INFRAAI_GIT_DEFAULT_BRANCH } : {}),
      };
    }
    const [owner, repo, ...rest] = (env.INFRAAI_GITHUB_REPO ?? '').split('/');
    if (!owner || !repo || rest.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['INFRAAI_GITHUB_REPO'], message: "must be 'owner/name' when INFRAAI_GIT_HOST=github" });
      return z.NEVER;
    }
    if (!env.INFRAAI_GITHUB_TOKEN) {
      ctx.addIssue({ code: 'custom', path: ['INFRAAI_GITHUB_TOKEN'], message: 'is required when INFRAAI_GIT_HOST=github' });
      return z.NEVER;
    }
    return {
      kind: 'github',
      token: env.INFRAAI_GITHUB_TOKEN,
      owner,
      repo,
      ...(env.INFRAAI_GITHUB_API_URL ? { baseUrl: env.INFRAAI_GITHUB_API_URL } : {}),
    };
  })
  .pipe(gitHostConfigSchema);

/** The variable each config field comes from, for messages. */
const ENV_NAME_OF: Record<string, string> = {
  kind: 'INFRAAI_GIT_HOST',
  repoPath: 'INFRAAI_GIT_LOCAL_REPO',
  defaultBranch: 'INFRAAI_GIT_DEFAULT_BRANCH',
  token: 'INFRAAI_GITHUB_TOKEN',
  owner: 'INFRAAI_GITHUB_REPO',
  repo: 'INFRAAI_GITHUB_REPO',
  baseUrl: 'INFRAAI_GITHUB_API_URL',
};

/**
 * The git host config from the environment: INFRAAI_GIT_HOST=local (default) with
 * INFRAAI_GIT_LOCAL_REPO (`.data/provisioning-repo`) and INFRAAI_GIT_DEFAULT_BRANCH (`main`), or
 * INFRAAI_GIT_HOST=github with INFRAAI_GITHUB_TOKEN, INFRAAI_GITHUB_REPO=owner/name and
 * INFRAAI_GITHUB_API_URL (https://api.github.com; https://<host>/api/v3 for GitHub Enterprise
 * Server). Blank values count as unset. Throws an Error naming each wrong variable.
 */
export function gitHostConfigFromEnv(env: Record<string, string | undefined>): GitHostConfig {
  const keys = [
    'INFRAAI_GIT_HOST',
    'INFRAAI_GIT_LOCAL_REPO',
    'INFRAAI_GIT_DEFAULT_BRANCH',
    'INFRAAI_GITHUB_TOKEN',
    'INFRAAI_GITHUB_REPO',
    'INFRAAI_GITHUB_API_URL',
  ] as const;
  const set: Record<string, string> = {};
  for (const key of keys) {
    const value = env[key]?.trim();
    if (value) set[key] = value;
  }
  const parsed = envSchema.safeParse(set);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '');
    return `${ENV_NAME_OF[field] ?? (field || 'INFRAAI_GIT_HOST')}: ${issue.message}`;
  });
  throw new Error(`invalid git host configuration: ${problems.join('; ')}`);
}
