import type { IntegrationSettings } from '../../tools/integrations.js';
import type { ServiceNowIncidents } from './port.js';
import { ServiceNowTableApi } from './table-api.js';

/** A client for one caller's ServiceNow settings (a token wins over a username and a password). */
export function createServiceNowClient(
  settings: IntegrationSettings<'servicenow'>,
  options: { timeoutMs?: number } = {},
): ServiceNowIncidents {
  const credentials =
    settings.token !== undefined ? { token: settings.token } : { username: settings.username ?? '', password: settings.password ?? '' };
  return new ServiceNowTableApi({ instanceUrl: settings.instanceUrl, credentials, timeoutMs: options.timeoutMs });
}
