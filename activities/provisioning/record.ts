import type { PullRequestState } from '../../adapters/git-host/port.js';
import type { FinalProvisionStatus, ProvisionStatus } from '../../core/contracts/provisioning.js';
import { redactText, truncateText } from '../../core/redact.js';
import { requestOf, type ProvisioningActivityDeps, type ProvisionRef } from './deps.js';

// The request's row: its status as the run moves, the review reminder, the result at the end.

export function createProvisionRecordActivities(deps: ProvisioningActivityDeps) {
  const { store } = deps;
  return {
    /** The run's status (and the review deadline once it waits) on the row. */
    async recordProvisionStatus(input: ProvisionRef & { status: ProvisionStatus; reviewDeadline?: string | undefined }): Promise<void> {
      await requestOf(deps, input);
      await store.provisioning.update(input.tenantId, input.requestId, {
        status: input.status,
        ...(input.reviewDeadline ? { reviewDeadline: input.reviewDeadline } : {}),
      });
    },

    /** The review is about to expire: recorded once on the row (GET shows `remindedAt`). */
    async remindProvisionReview(ref: ProvisionRef): Promise<{ remindedAt: string }> {
      const request = await requestOf(deps, ref);
      if (request.remindedAt) return { remindedAt: request.remindedAt };
      const remindedAt = new Date().toISOString();
      await store.provisioning.update(ref.tenantId, ref.requestId, { stage: 'remindProvisionReview', remindedAt });
      return { remindedAt };
    },

    /** The final status, summary and error on the row; a repeat writes the same. */
    async writeProvisionResult(
      input: ProvisionRef & { status: FinalProvisionStatus; summary: string; error: string | null; prState: PullRequestState | null },
    ): Promise<void> {
      await requestOf(deps, input);
      await store.provisioning.update(input.tenantId, input.requestId, {
        status: input.status,
        stage: 'writeProvisionResult',
        summary: truncateText(redactText(input.summary), 4000),
        error: input.error === null ? null : truncateText(redactText(input.error), 4000),
        ...(input.prState ? { prState: input.prState } : {}),
      });
    },
  };
}
