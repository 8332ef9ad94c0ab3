import { GitHostRefusedError, type PullRequestState } from '../../adapters/git-host/port.js';
import type { FinalProvisionStatus, ProvisionStatus } from '../../core/contracts/provisioning.js';
import { redactText, truncateText } from '../../core/redact.js';
import { gitHostOf, onGitHost, requestOf, type ProvisioningActivityDeps, type ProvisionRef } from './deps.js';

// The request's row: its status as the run moves, the review reminder, the result at the end.

/**
 * A refusal (no permission to comment, a pull request merged at the last moment) does not stop the
 * request from being recorded: the row says what happened. Unavailability is still retried.
 */
async function refusalIgnored<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (err) {
    if (!(err instanceof GitHostRefusedError)) throw err;
    return null;
  }
}

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

    /**
     * The review is about to expire: a comment on the pull request where the host has comments
     * (GitHub), then recorded once on the row (GET shows `remindedAt`). The comment comes first: a
     * retry after it failed comments again; once recorded, nothing is repeated.
     */
    async remindProvisionReview(ref: ProvisionRef): Promise<{ remindedAt: string }> {
      const request = await requestOf(deps, ref);
      if (request.remindedAt) return { remindedAt: request.remindedAt };
      if (request.prNumber !== null && request.reviewDeadline) {
        const git = await gitHostOf(deps, ref.tenantId);
        const number = request.prNumber;
        const body = `InfraAI: this pull request (request ${request.number}) expires on ${request.reviewDeadline} unless it is merged or closed before; after that the request ends \`expired\` and the pull request is closed.`;
        if (git.comment) await onGitHost(`a reminder on pull request #${number}`, () => refusalIgnored(git.comment!(number, body)));
      }
      const remindedAt = new Date().toISOString();
      await store.provisioning.update(ref.tenantId, ref.requestId, { stage: 'remindProvisionReview', remindedAt });
      return { remindedAt };
    },

    /** The final status, summary and error on the row; a repeat writes the same. */
    async writeProvisionResult(
      input: ProvisionRef & { status: FinalProvisionStatus; summary: string; error: string | null; prState: PullRequestState | null },
    ): Promise<void> {
      const request = await requestOf(deps, input);
      // An expired request's pull request is closed, so nobody merges what InfraAI no longer tracks.
      let prState = input.prState;
      if (input.status === 'expired' && request.prNumber !== null) {
        const git = await gitHostOf(deps, input.tenantId);
        const number = request.prNumber;
        const closed = await onGitHost(`closing pull request #${number}`, () => refusalIgnored(git.close(number)));
        if (closed) prState = closed.state;
      }
      await store.provisioning.update(input.tenantId, input.requestId, {
        status: input.status,
        stage: 'writeProvisionResult',
        summary: truncateText(redactText(input.summary), 4000),
        error: input.error === null ? null : truncateText(redactText(input.error), 4000),
        ...(prState ? { prState } : {}),
      });
    },
  };
}
