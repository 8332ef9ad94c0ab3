import type { ActivityOptions } from '@temporalio/workflow';

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
    nonRetryableErrorTypes: ['IncidentNotFound', 'InvalidIncidentTransition', 'NotInWorkflow'],
  },
};

/** An LLM call: slower than a store step; provider rate limits (429 with Retry-After) are retried. */
export const LLM_STEP: ActivityOptions = {
  startToCloseTimeout: '90 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: ['NotInWorkflow'],
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
    nonRetryableErrorTypes: ['NotInWorkflow'],
  },
};
