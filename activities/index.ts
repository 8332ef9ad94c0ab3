import { createAlertActivities, type AlertActivityDeps } from './alerts/index.js';
import { createAutomationActivities, type AutomationActivityDeps } from './automation/index.js';
import { createChatActivities, type ChatActivityDeps } from './chat/index.js';
import { createDiagnosisActivities, type DiagnosisActivityDeps } from './diagnosis/index.js';
import { createIncidentActivities, type IncidentActivityDeps } from './incident/index.js';
import { createKnowledgeActivities, type KnowledgeActivityDeps } from './knowledge/ingestion.js';
import { mergeActivities } from './merge.js';
import { createPagerDutyActivities, type PagerDutyActivityDeps } from './pagerduty/index.js';
import { createProvisioningActivities, type ProvisioningActivityDeps } from './provisioning/index.js';
import { createRunProjectionActivities, type RunProjectionDeps } from './runs/projection.js';

export type ActivityDeps = IncidentActivityDeps &
  DiagnosisActivityDeps &
  KnowledgeActivityDeps &
  AutomationActivityDeps &
  PagerDutyActivityDeps &
  AlertActivityDeps &
  ChatActivityDeps &
  ProvisioningActivityDeps &
  Pick<RunProjectionDeps, 'events'>;

/**
 * Every activity the worker registers, one family per folder, built from its ports so tests can pass
 * their own. A name defined by two families fails the worker's start (DuplicateActivityError).
 */
export function createActivities(deps: ActivityDeps) {
  return mergeActivities('activities', {
    incident: createIncidentActivities(deps),
    diagnosis: createDiagnosisActivities(deps),
    knowledge: createKnowledgeActivities(deps),
    automation: createAutomationActivities(deps),
    pagerduty: createPagerDutyActivities(deps),
    alerts: createAlertActivities(deps),
    chat: createChatActivities(deps),
    provisioning: createProvisioningActivities(deps),
    runs: createRunProjectionActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
