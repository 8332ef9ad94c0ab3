import { mergeActivities } from '../merge.js';
import type { AutomationActivityDeps } from './deps.js';
import { createAutomationGenerationActivities } from './generate.js';
import { createAutomationLeaseActivities } from './leases.js';
import { createPlaybookActivities } from './run-playbook.js';
import { createAutomationRecordActivities } from './record.js';

export type { AutomationActivityDeps } from './deps.js';

/** The automation run's activities, one step group per file (workflows/automation/README.md maps step → file). */
export function createAutomationActivities(deps: AutomationActivityDeps) {
  return mergeActivities('automation', {
    record: createAutomationRecordActivities(deps),
    generation: createAutomationGenerationActivities(deps),
    leases: createAutomationLeaseActivities(deps),
    playbook: createPlaybookActivities(deps),
  });
}

export type AutomationActivities = ReturnType<typeof createAutomationActivities>;
