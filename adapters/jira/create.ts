import type { JiraClient, JiraConfig } from './port.js';

/** A Jira Cloud client (REST API v3) for one site and account. */
export async function createJiraClient(config: JiraConfig): Promise<JiraClient> {
  const { createRestV3JiraClient } = await import('./rest-v3.js');
  return createRestV3JiraClient(config);
}
