import { proxyActivities } from '@temporalio/workflow';
import type { AutomationActivities } from '../../activities/automation/index.js';
import { AUTOMATION_PREPARE_STEP, AUTOMATION_STORE_STEP, LEASE_RENEW_STEP, LEASE_WAIT_STEP, PLAYBOOK_STEP } from '../activity-options.js';

// The automation run's activities, each with the preset that fits what it touches. Only types of
// the activities are imported: the workflow bundle never loads activity code.

/** The run's row: record, targets, result, leases released, runner cleaned up. */
export const storeSteps = proxyActivities<AutomationActivities>(AUTOMATION_STORE_STEP);
/** Generation (templates or the LLM) and validation (ansible's own checks). */
export const prepareSteps = proxyActivities<AutomationActivities>(AUTOMATION_PREPARE_STEP);
/** Waiting for every target host's lease while other runs hold some. */
export const leaseWaitSteps = proxyActivities<AutomationActivities>(LEASE_WAIT_STEP);
/** Renewing the leases while the playbook runs. */
export const leaseRenewSteps = proxyActivities<AutomationActivities>(LEASE_RENEW_STEP);

/** The playbook run, bounded by the run's own timeout plus a margin for storing its log. */
export function playbookSteps(runTimeoutMs: number) {
  return proxyActivities<AutomationActivities>({ ...PLAYBOOK_STEP, startToCloseTimeout: runTimeoutMs + 5 * 60_000 });
}
