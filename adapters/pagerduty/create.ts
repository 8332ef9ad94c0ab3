import type { IntegrationSettings } from '../../tools/integrations.js';
import type { PagerDutyIncidents } from './port.js';
import { PagerDutyRestV2 } from './rest-v2.js';

/** A REST API v2 client for one caller's PagerDuty settings. */
export function createPagerDutyClient(
  settings: IntegrationSettings<'pagerduty'>,
  options: { timeoutMs?: number } = {},
): PagerDutyIncidents {
  return new PagerDutyRestV2({ ...settings, timeoutMs: options.timeoutMs });
}
