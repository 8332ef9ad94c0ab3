import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { IncidentActivities } from '../../activities/incident/index.js';
import {
  LEASE_RENEW_STEP,
  LEASE_WAIT_STEP,
  LLM_STEP,
  LOCAL_STORE_STEP,
  NOTIFY_STEP,
  SSH_CHANGE_STEP,
  SSH_REMEDIATION_READ_STEP,
  STORE_STEP,
} from '../activity-options.js';

// The incident run's activities, each with the preset that fits what it touches. Only types of the
// activities are imported: the workflow bundle never loads activity code.

/** Store reads and writes: the incident row, its statuses, leases released, notifiers listed. */
export const storeSteps = proxyActivities<IncidentActivities>(STORE_STEP);
/**
 * The same store steps as local activities: run by the worker that runs the workflow, inside its
 * workflow task, with no task-queue round trip and no extra workflow task per step. Runs recorded
 * before the 'local-store-steps' patch replay with `storeSteps` (`IncidentRun.store` picks).
 */
export const localStoreSteps = proxyLocalActivities<IncidentActivities>(LOCAL_STORE_STEP);
/** Planning and analysis may ask the LLM: they get its patience (and its retry of rate limits). */
export const reasoningSteps = proxyActivities<IncidentActivities>(LLM_STEP);
/** Read-only commands on the host: diagnostics and verification. */
export const hostReadSteps = proxyActivities<IncidentActivities>(SSH_REMEDIATION_READ_STEP);
/** A change on the host: one fix, heartbeating. */
export const hostChangeSteps = proxyActivities<IncidentActivities>(SSH_CHANGE_STEP);
/** Waiting for the host's lease while another run holds it. */
export const leaseWaitSteps = proxyActivities<IncidentActivities>(LEASE_WAIT_STEP);
/** Renewing the host's lease while this run works on the host. */
export const leaseRenewSteps = proxyActivities<IncidentActivities>(LEASE_RENEW_STEP);
/** Posting the outcome to a ticketing or paging tool. */
export const notifySteps = proxyActivities<IncidentActivities>(NOTIFY_STEP);
