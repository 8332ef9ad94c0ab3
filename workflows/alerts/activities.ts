import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { AlertActivities } from '../../activities/alerts/index.js';
import type { IncidentActivities } from '../../activities/incident/index.js';
import {
  ALERT_ACTION_STEP,
  ALERT_FINISH_STEP,
  ALERT_VERIFY_STEP,
  LEASE_RENEW_STEP,
  LOCAL_ALERT_STORE_STEP,
  LEASE_WAIT_STEP,
  SSH_CHANGE_STEP,
} from '../activity-options.js';

// The alert run's activities, each with the preset that fits what it touches. Only types of the
// activities are imported: the workflow bundle never loads activity code. The host lease steps are
// the incident run's own (the same leases, the same cap), so a policy and a remediation never work
// on one host at once.

/**
 * Decision, job log, CMDB lookups, command rating, incident and automation rows: local activities
 * (one store statement or two each, on the worker that runs the workflow), so an alert reaches its
 * action without a task-queue round trip per step. `AlertRun.store` runs them one at a time.
 */
export const localStoreSteps = proxyLocalActivities<AlertActivities>(LOCAL_ALERT_STORE_STEP);
/** The job's end: retried for a day through a store outage (a job left running blocks its policy). */
export const localFinishSteps = proxyLocalActivities<AlertActivities>(ALERT_FINISH_STEP);
/** Giving the host's lease back (the incident run's step), as a local activity. */
export const localLeaseReleaseSteps = proxyLocalActivities<IncidentActivities>(LOCAL_ALERT_STORE_STEP);
/** One try at the host's lease, as a local activity: a free host is taken without a task-queue round trip. */
export const localLeaseTrySteps = proxyLocalActivities<IncidentActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});
/** The command on the host: once, heartbeating. */
export const commandSteps = proxyActivities<AlertActivities>(SSH_CHANGE_STEP);
/** The command's verification, retried inside the step for up to its timeout. */
export const verifySteps = proxyActivities<AlertActivities>(ALERT_VERIFY_STEP);
/** Kubernetes, vSphere, notifiers. */
export const actionSteps = proxyActivities<AlertActivities>(ALERT_ACTION_STEP);
/**
 * Waiting for the host's lease. A cancelled wait (the alert resolved meanwhile) waits for an attempt
 * in flight to answer, so a lease it took is released afterwards rather than left to its TTL.
 */
export const leaseWaitSteps = proxyActivities<IncidentActivities>({ ...LEASE_WAIT_STEP, cancellationType: 'WAIT_CANCELLATION_COMPLETED' });
export const leaseRenewSteps = proxyActivities<IncidentActivities>(LEASE_RENEW_STEP);
