import { proxyActivities } from '@temporalio/workflow';
import type { PagerDutyActivities } from '../../activities/pagerduty/index.js';
import { PAGERDUTY_STORE_STEP } from '../activity-options.js';

// The PagerDuty run's activities with their preset. Only their types are imported: the workflow
// bundle never loads activity code.

/** Store steps: the CMDB item of the PagerDuty service, the InfraAI incident row. */
export const pagerDutySteps = proxyActivities<PagerDutyActivities>(PAGERDUTY_STORE_STEP);
