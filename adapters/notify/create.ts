// Builds the configured notifiers from a plain object (config parsing lives elsewhere). Nothing
// configured means no notifiers. A present but incomplete section throws a NotifierError
// (retryable: false) naming what is missing, never echoing a secret.

import type { Notifier } from './port.js';
import { PagerDutyNotifier, type PagerDutyConfig } from './pagerduty.js';
import { ServiceNowNotifier, type ServiceNowConfig } from './servicenow.js';

export interface NotifiersConfig {
  servicenow?: ServiceNowConfig | undefined;
  pagerduty?: PagerDutyConfig | undefined;
}

export function createNotifiers(config: NotifiersConfig = {}): Notifier[] {
  const notifiers: Notifier[] = [];
  if (config.servicenow) notifiers.push(new ServiceNowNotifier(config.servicenow));
  if (config.pagerduty) notifiers.push(new PagerDutyNotifier(config.pagerduty));
  return notifiers;
}
