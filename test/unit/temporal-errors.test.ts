import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { mapTemporalError } from '../../api/temporal-gateway.js';
import { ProblemError } from '../../api/problem.js';

const mapped = (err: unknown): ProblemError => {
  try {
    mapTemporalError(err);
  } catch (thrown) {
    if (thrown instanceof ProblemError) return thrown;
    throw thrown;
  }
  throw new Error('mapTemporalError returned');
};

describe('Temporal errors as HTTP problems', () => {
  it('a run the API waited on that failed is a 502 naming the cause (secrets redacted); one that timed out a 504', () => {
    const failed = mapped(
      new WorkflowFailedError(
        'Workflow execution failed',
        ApplicationFailure.nonRetryable('model refused: token=sk-live-abcdef1234567890'),
        RetryState.NON_RETRYABLE_FAILURE,
      ),
    );
    expect([failed.status, failed.kind]).toEqual([502, 'workflow-failed']);
    expect(failed.message).toMatch(/^The workflow run failed: model refused/);
    expect(failed.message).not.toContain('sk-live-abcdef1234567890');
    const timedOut = mapped(
      new WorkflowFailedError(
        'Workflow execution timed out',
        new TimeoutFailure('timed out', undefined, TimeoutType.START_TO_CLOSE),
        RetryState.TIMEOUT,
      ),
    );
    expect([timedOut.status, timedOut.kind]).toEqual([504, 'workflow-timed-out']);
  });

  it('keeps the mappings it had: not found 404, anything unknown rethrown as is', () => {
    expect(mapped(new WorkflowNotFoundError('gone', 'wf', undefined)).status).toBe(404);
    const unknown = new RangeError('a bug');
    expect(() => mapTemporalError(unknown)).toThrow(unknown);
  });
});
