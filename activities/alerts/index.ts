import { mergeActivities } from '../merge.js';
import { createAlertAdapterActivities } from './adapter-actions.js';
import { createAlertDecisionActivities } from './decide.js';
import type { AlertActivityDeps } from './deps.js';
import { createAlertHostActivities } from './host-command.js';
import { createAlertRaiseActivities } from './raise.js';
import { createAlertVerifyActivities } from './verify.js';

export type { AlertActivityDeps } from './deps.js';

/** The alert run's activities, one step group per file (workflows/alerts/README.md maps step → file). */
export function createAlertActivities(deps: AlertActivityDeps) {
  return mergeActivities('alerts', {
    decision: createAlertDecisionActivities(deps),
    host: createAlertHostActivities(deps),
    verify: createAlertVerifyActivities(deps),
    adapters: createAlertAdapterActivities(deps),
    raise: createAlertRaiseActivities(deps),
  });
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;
