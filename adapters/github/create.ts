import type { GitHubClient, GitHubConfig } from './port.js';

/** A GitHub client for one token and API root; @octokit/rest loads on the first call. */
export async function createGitHubClient(config: GitHubConfig): Promise<GitHubClient> {
  const { createOctokitGitHubClient } = await import('./octokit.js');
  return createOctokitGitHubClient(config);
}
