import { proxyActivities } from '@temporalio/workflow';
import type { ProvisioningActivities } from '../../activities/provisioning/index.js';
import { GIT_HOST_STEP, GIT_POLL_STEP, PROVISION_PREPARE_STEP, PROVISION_STORE_STEP } from '../activity-options.js';

// The provisioning run's activities, each with the preset that fits what it touches. Only types of
// the activities are imported: the workflow bundle never loads activity code.

/** The request's row: status, reminder, result. */
export const storeSteps = proxyActivities<ProvisioningActivities>(PROVISION_STORE_STEP);
/** Parse, render, validate, policy (the pure core; Checkov runs a process). */
export const prepareSteps = proxyActivities<ProvisioningActivities>(PROVISION_PREPARE_STEP);
/** Branch with its commit, and the pull request (idempotent by names from the request id). */
export const gitSteps = proxyActivities<ProvisioningActivities>(GIT_HOST_STEP);
/** One poll of the pull request's state (a failed poll waits for the next interval). */
export const pollSteps = proxyActivities<ProvisioningActivities>(GIT_POLL_STEP);
