import { createDiagnosisActivities, type DiagnosisActivityDeps } from './diagnosis.js';
import { createIncidentActivities, type IncidentActivityDeps } from './incident.js';
import { createKnowledgeActivities, type KnowledgeActivityDeps } from './knowledge.js';
import { createNotifyActivities, type NotifyActivityDeps } from './notify.js';
import { createRemediationActivities, type RemediationActivityDeps } from './remediation.js';

export type ActivityDeps = IncidentActivityDeps &
  DiagnosisActivityDeps &
  KnowledgeActivityDeps &
  RemediationActivityDeps &
  NotifyActivityDeps;

/** Every activity the worker registers, built from its ports so tests can pass their own. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createIncidentActivities(deps),
    ...createDiagnosisActivities(deps),
    ...createKnowledgeActivities(deps),
    ...createRemediationActivities(deps),
    ...createNotifyActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
