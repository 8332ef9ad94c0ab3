import type { ConfluenceClient, ConfluenceConfig } from '../adapters/confluence/port.js';
import type { GitHubClient, GitHubConfig } from '../adapters/github/port.js';
import type { JiraClient, JiraConfig } from '../adapters/jira/port.js';
import { createPrometheusClient } from '../adapters/metrics/create.js';
import type { MetricsQueries } from '../adapters/metrics/port.js';
import { createPagerDutyClient } from '../adapters/pagerduty/create.js';
import type { PagerDutyIncidents } from '../adapters/pagerduty/port.js';
import type { IntegrationSettings } from './integrations.js';

// How a client is built from one caller's integration settings, in one place for the chat tools
// and the direct integration endpoints (api/routes/integration-direct.ts): both take the caller's
// resolved settings and get the same adapter. GitHub, Jira and Confluence load their client module
// on first use (GitHub's loads @octokit/rest), so importing this file loads no vendor SDK.

export interface IntegrationClients {
  github(config: GitHubConfig): Promise<GitHubClient>;
  jira(config: JiraConfig): Promise<JiraClient>;
  confluence(config: ConfluenceConfig): Promise<ConfluenceClient>;
  pagerduty(settings: IntegrationSettings<'pagerduty'>): PagerDutyIncidents;
  prometheus(settings: IntegrationSettings<'prometheus'>): MetricsQueries;
}

export const integrationClients: IntegrationClients = {
  async github(config) {
    const { createGitHubClient } = await import('../adapters/github/create.js');
    return createGitHubClient({ token: config.token, baseUrl: config.baseUrl, defaultOwner: config.defaultOwner });
  },
  async jira(config) {
    const { createJiraClient } = await import('../adapters/jira/create.js');
    return createJiraClient({ baseUrl: config.baseUrl, email: config.email, apiToken: config.apiToken });
  },
  async confluence(config) {
    const { createConfluenceClient } = await import('../adapters/confluence/create.js');
    return createConfluenceClient({ baseUrl: config.baseUrl, email: config.email, apiToken: config.apiToken });
  },
  pagerduty: (settings) => createPagerDutyClient(settings),
  prometheus: (settings) => createPrometheusClient(settings),
};
