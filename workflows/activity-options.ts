import { FAILURE } from '../core/contracts/failures.js';
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

// Named activity presets. Every preset bounds its attempts (an unbounded default retry policy would
// retry a broken step forever) and lists the failure types that no retry can fix.

/** Short reads and writes against the store. A worker crash is noticed after startToClose. */
export const STORE_STEP: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 12,
    nonRetryableErrorTypes: [FAILURE.IncidentNotFound, FAILURE.NotInWorkflow],
  },
};

/**
 * The store steps as local activities (see localStoreSteps): the same bounds as STORE_STEP. Backoffs
 * stay under the SDK's local retry threshold (1 minute), so retries sleep in the worker.
 */
export const LOCAL_STORE_STEP: LocalActivityOptions = {
  startToCloseTimeout: STORE_STEP.startToCloseTimeout!,
  retry: STORE_STEP.retry!,
};

/** An LLM call: slower than a store step; provider rate limits (429 with Retry-After) are retried. */
export const LLM_STEP: ActivityOptions = {
  startToCloseTimeout: '90 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow],
  },
};

/**
 * Read-only commands over SSH. The activity degrades on unreachable hosts itself, so retries here
 * only cover a worker lost mid-step; per-command timeouts (15 s) sit well inside startToClose.
 */
export const SSH_READ_STEP: ActivityOptions = {
  startToCloseTimeout: '90 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow],
  },
};

/** A change on a host. Fix commands get two minutes each; guards make a retry apply nothing twice. */
export const SSH_CHANGE_STEP: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  // The fix activity heartbeats every 5 s: a lost worker is noticed in 20 s, not 5 minutes.
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [
      FAILURE.NotInWorkflow,
      FAILURE.HostKeyMismatch,
      FAILURE.SshAuthenticationFailed,
      FAILURE.CredentialNotFound,
      FAILURE.CommandRefused,
      FAILURE.ApprovalRequired,
      FAILURE.FixOutcomeUnknown,
      FAILURE.TargetGone,
      FAILURE.HostAccessUnavailable,
    ],
  },
};

/** Read-only remediation steps on a host; the same final failures as a change. */
export const SSH_REMEDIATION_READ_STEP: ActivityOptions = {
  retry: SSH_CHANGE_STEP.retry,
  startToCloseTimeout: '2 minutes',
};

/**
 * Waiting for a host lease: retried every few seconds while another run changes the host or the
 * tenant is at its cap, for at most 30 minutes (then the incident escalates).
 */
export const LEASE_WAIT_STEP: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 1.5,
    maximumInterval: '15 seconds',
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow],
  },
};

/**
 * Renewing a held lease, every third of its TTL: a few quick attempts, all well inside one renewal
 * interval; a renewal that still fails is tried again at the next interval. A lost lease is final.
 */
export const LEASE_RENEW_STEP: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '2 seconds',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow, FAILURE.HostLeaseLost],
  },
};

/** Posting an outcome to ServiceNow / PagerDuty: rate limits and outages are retried for a while. */
export const NOTIFY_STEP: ActivityOptions = {
  startToCloseTimeout: '45 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 6,
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow, FAILURE.IncidentNotFound, FAILURE.NotificationRejected],
  },
};

/**
 * A run's projection write, as a local activity: one store statement done by the worker that runs
 * the workflow, with no task queue round trip. Retried for up to a minute (a store restart); after
 * that the run goes on and its next write carries the events this one could not store.
 */
export const PROJECTION_STEP: LocalActivityOptions = {
  startToCloseTimeout: '5 seconds',
  scheduleToCloseTimeout: '60 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
};

/** The automation run's store steps: its row, its targets, its result; a run whose row is gone ends. */
export const AUTOMATION_STORE_STEP: ActivityOptions = {
  ...STORE_STEP,
  retry: {
    ...STORE_STEP.retry,
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow, FAILURE.AutomationRunNotFound, FAILURE.AutomationUnavailable],
  },
};

/**
 * Generating a playbook (templates, or the LLM with its patience) and validating it (syntax check
 * and lint run ansible tools: tens of seconds on a cold start).
 */
export const AUTOMATION_PREPARE_STEP: ActivityOptions = {
  startToCloseTimeout: '3 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow, FAILURE.AutomationRunNotFound, FAILURE.AutomationUnavailable],
  },
};

/**
 * One playbook run on the runner. Its start-to-close is the run's own timeout plus a margin (set by
 * the workflow from its settings); heartbeats every 5 s notice a lost worker in 10 s (and bring a
 * cancellation to the activity within a few seconds: the SDK throttles them to 80% of it), and the retry
 * re-attaches to the first execution (the runner's key is the workflow id), so the playbook runs
 * once. The workflow waits for a cancelled run to stop before it releases the hosts.
 */
export const PLAYBOOK_STEP: ActivityOptions = {
  startToCloseTimeout: '35 minutes',
  heartbeatTimeout: '10 seconds',
  cancellationType: 'WAIT_CANCELLATION_COMPLETED',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: [
      FAILURE.NotInWorkflow,
      FAILURE.AutomationRunNotFound,
      FAILURE.AutomationUnavailable,
      FAILURE.AutomationNotApproved,
      FAILURE.CredentialNotFound,
      FAILURE.HostKeyUnknown,
    ],
  },
};

/**
 * The PagerDuty run's store steps (its target, its incident row). A PagerDuty run is started once per
 * incident (a repeat of the trigger joins it), so a store outage is waited out, for up to 30
 * minutes, rather than ending the run after a few attempts.
 */
export const PAGERDUTY_STORE_STEP: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow],
  },
};

/** The alert run's store steps: the decision, the job log, the CMDB, the rows of incidents and playbooks it hands on to. */
export const ALERT_STORE_STEP: ActivityOptions = {
  ...STORE_STEP,
  retry: {
    ...STORE_STEP.retry,
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow, FAILURE.PolicyJobNotFound, FAILURE.TargetGone],
  },
};

/** The same, as local activities (run by the worker that runs the workflow: no task-queue round trip). */
export const LOCAL_ALERT_STORE_STEP: LocalActivityOptions = {
  startToCloseTimeout: ALERT_STORE_STEP.startToCloseTimeout!,
  retry: ALERT_STORE_STEP.retry!,
};

/**
 * Ending an alert's job. A job left queued or running would hold its policy's concurrency and the
 * host (host_busy) for good, so this is retried for a day, through any store outage.
 */
export const ALERT_FINISH_STEP: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow],
  },
};

/** An ssh_command's verification: retried inside the activity until it passes or its time is up (heartbeating). */
export const ALERT_VERIFY_STEP: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: SSH_CHANGE_STEP.retry,
};

/** Kubernetes, vSphere and notifier calls of an alert's action: unavailable is retried for a while, a refusal is final. */
export const ALERT_ACTION_STEP: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow, FAILURE.PolicyActionRefused],
  },
};

/** The chat conversation's store steps (session, transcript, stream events, jobs); a session that is gone is final. */
export const CHAT_STORE_STEP: ActivityOptions = {
  ...STORE_STEP,
  retry: { ...STORE_STEP.retry, nonRetryableErrorTypes: [FAILURE.NotInWorkflow, FAILURE.ChatSessionNotFound] },
};

/**
 * The same, as local activities (run by the worker that runs the conversation, inside its workflow
 * task: no task-queue round trip, no extra workflow task). Backoffs stay under the SDK's local retry
 * threshold (1 minute), so retries sleep in the worker.
 */
export const LOCAL_CHAT_STORE_STEP: LocalActivityOptions = {
  startToCloseTimeout: CHAT_STORE_STEP.startToCloseTimeout!,
  retry: CHAT_STORE_STEP.retry!,
};

/**
 * One chat model step (LLM streaming, or the offline planner): a minute and a half like any LLM call,
 * rate limits retried with Retry-After; no model configured, or a refused request, is final.
 */
export const CHAT_MODEL_STEP: ActivityOptions = {
  ...LLM_STEP,
  // The step heartbeats every 5 s (activities/chat/heartbeat.ts): a lost worker is noticed in 30 s, not 90.
  heartbeatTimeout: '30 seconds',
  retry: {
    ...LLM_STEP.retry,
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow, FAILURE.ChatModelUnavailable, FAILURE.ChatSessionNotFound],
  },
};

/**
 * Watching a chat's child run for its next status: the activity polls the run's row and answers on
 * a change or after five quiet minutes, heartbeating so a lost worker is noticed in half a minute.
 */
export const CHAT_WATCH_STEP: ActivityOptions = {
  startToCloseTimeout: '6 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
};

/**
 * One chat tool call. Three attempts: the activity tells the agent about a failure on its last
 * attempt itself (runChatTool's TOOL_ATTEMPTS), so a flaky service gets two retries first.
 */
export const CHAT_TOOL_STEP: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  // The call heartbeats every 5 s (activities/chat/heartbeat.ts): a worker lost mid-call is noticed in
  // 30 s and the call retried elsewhere, instead of the turn stalling for the whole 2 minutes.
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [FAILURE.NotInWorkflow, FAILURE.ChatSessionNotFound],
  },
};

/**
 * A chat tool that only reads the store (ChatTool.readsStoreOnly: CMDB, incidents), as a local
 * activity: the same attempts as CHAT_TOOL_STEP, bounded like a store step, no heartbeat (the worker
 * running it is the conversation's own).
 */
export const LOCAL_CHAT_READ_TOOL_STEP: LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: CHAT_TOOL_STEP.retry!,
};

/** The provisioning request's row: its status and stage, the reminder, the result. */
export const PROVISION_STORE_STEP: ActivityOptions = {
  ...STORE_STEP,
  retry: {
    ...STORE_STEP.retry,
    nonRetryableErrorTypes: [FAILURE.ProvisionRequestNotFound, FAILURE.ProvisionStateMissing],
  },
};

/** Parsing (the grammar, or an LLM), rendering, HCL validation and the policy (Checkov runs a process). */
export const PROVISION_PREPARE_STEP: ActivityOptions = {
  startToCloseTimeout: '3 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: [FAILURE.ProvisionRequestNotFound, FAILURE.ProvisionStateMissing, FAILURE.ProvisioningUnavailable],
  },
};

/**
 * Branch, commit and pull request on the git host. Each is idempotent by names derived from the
 * request id, so a retry (or a worker lost mid-step) finds what the first attempt made. A host down
 * or rate limiting is waited out for up to 30 minutes; a refusal (credentials, repository) ends it.
 */
export const GIT_HOST_STEP: ActivityOptions = {
  // A worker lost mid-step is noticed after this: a commit through GitHub's API is a few calls of at
  // most its 15 s timeout each.
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '30 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [
      FAILURE.ProvisionRequestNotFound,
      FAILURE.ProvisionStateMissing,
      FAILURE.ProvisioningUnavailable,
      FAILURE.GitHostRefused,
    ],
  },
};

/** One poll of the pull request's state while no webhook arrives: a failed poll waits for the next interval. */
export const GIT_POLL_STEP: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [FAILURE.ProvisionRequestNotFound, FAILURE.ProvisioningUnavailable, FAILURE.GitHostRefused],
  },
};
