import { mergeActivities } from '../merge.js';
import type { ProvisioningActivityDeps } from './deps.js';
import { createProvisionGitActivities } from './git.js';
import { createProvisionPrepareActivities } from './prepare.js';
import { createProvisionRecordActivities } from './record.js';

export type { ProvisioningActivityDeps, ProvisioningToolkit } from './deps.js';

/** The provisioning run's activities, one step group per file (workflows/provisioning/README.md maps step → file). */
export function createProvisioningActivities(deps: ProvisioningActivityDeps) {
  return mergeActivities('provisioning', {
    record: createProvisionRecordActivities(deps),
    prepare: createProvisionPrepareActivities(deps),
    git: createProvisionGitActivities(deps),
  });
}

export type ProvisioningActivities = ReturnType<typeof createProvisioningActivities>;
