import { createAnalysisActivities } from './analysis.js';
import type { IncidentRunDeps } from './deps.js';
import { createHostSessions } from './host-session.js';
import { createHostStepActivities } from './host-steps.js';
import { createLeaseActivities } from './leases.js';
import { createNotifyActivities, type NotifyActivityDeps } from './notify.js';
import { createPlanActivities } from './plan.js';
import { createIncidentRecordActivities } from './record.js';
import { mergeActivities } from '../merge.js';

export type IncidentActivityDeps = IncidentRunDeps & NotifyActivityDeps;

/** The incident run's activities, one step group per file (the family's README maps step → file). */
export function createIncidentActivities(deps: IncidentActivityDeps) {
  const sessions = createHostSessions(deps);
  return mergeActivities('incident', {
    record: createIncidentRecordActivities(deps),
    plan: createPlanActivities(deps, sessions),
    hostSteps: createHostStepActivities(deps, sessions),
    analysis: createAnalysisActivities(deps, sessions),
    leases: createLeaseActivities(deps),
    notify: createNotifyActivities(deps),
  });
}

export type IncidentActivities = ReturnType<typeof createIncidentActivities>;
