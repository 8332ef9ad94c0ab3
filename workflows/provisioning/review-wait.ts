import { condition, setHandler } from '@temporalio/workflow';
import { FAILURE } from '../../core/contracts/failures.js';
import { pullRequestReviewedSignal, type ProvisionSettings, type PullRequestReview } from '../../core/contracts/provisioning.js';
import { failureType } from '../runs/failures.js';
import { pollSteps, storeSteps } from './activities.js';
import type { ProvisionRun } from './provision-run.js';

/** Listens for the pull request's end (the GitHub webhook, or the local review route) from the run's start. */
export function installReviewHandler(run: ProvisionRun): { review: PullRequestReview | null } {
  const box: { review: PullRequestReview | null } = { review: null };
  setHandler(pullRequestReviewedSignal, (review) => {
    // Only the run's own pull request, and only its first end, counts. One may arrive before the run
    // has the pull request step's answer (the row had it first): awaitReview checks the number then.
    const known = run.state.pullRequest?.number;
    if (box.review || (known !== undefined && known !== review.number)) return;
    if (review.state !== 'merged' && review.state !== 'closed') return;
    box.review = review;
    if (run.state.review) run.state.review.via ??= 'signal';
  });
  return box;
}

/**
 * Waits on durable timers for the pull request to be merged or closed: the signal ends the wait at
 * once; without one, the git host is polled every `pollIntervalMs`. A reminder is recorded once,
 * `reminderBeforeMs` before the deadline. Returns the review, or null when the deadline passed.
 */
export async function awaitReview(
  run: ProvisionRun,
  box: { review: PullRequestReview | null },
  settings: ProvisionSettings,
): Promise<PullRequestReview | null> {
  const pr = run.state.pullRequest!;
  if (box.review && box.review.number !== pr.number) box.review = null;
  const start = Date.now();
  const deadline = start + settings.reviewTimeoutMs;
  const reminderAt = settings.reminderBeforeMs > 0 ? deadline - settings.reminderBeforeMs : Number.POSITIVE_INFINITY;
  run.state.review = { deadline: new Date(deadline).toISOString(), remindedAt: null, polls: 0, via: null };
  await run.setStatus('awaiting_review', { reviewDeadline: run.state.review.deadline });
  let nextPoll = start + settings.pollIntervalMs;
  for (;;) {
    if (box.review) break;
    const now = Date.now();
    if (now >= deadline) return null;
    const wakeAt = Math.min(deadline, nextPoll, run.state.review.remindedAt ? Number.POSITIVE_INFINITY : reminderAt);
    if (await condition(() => box.review !== null, Math.max(1, wakeAt - now))) break;
    if (!run.state.review.remindedAt && Date.now() >= reminderAt && Date.now() < deadline) {
      const { remindedAt } = await run.step('remindProvisionReview', () => storeSteps.remindProvisionReview(run.ref));
      run.state.review.remindedAt = remindedAt;
    }
    if (Date.now() >= nextPoll && Date.now() < deadline) {
      nextPoll = Date.now() + settings.pollIntervalMs;
      run.state.review.polls += 1;
      try {
        const { state } = await run.step('readProvisionPullRequest', () =>
          pollSteps.readProvisionPullRequest({ ...run.ref, number: pr.number }),
        );
        if ((state === 'merged' || state === 'closed') && !box.review) {
          box.review = { number: pr.number, state };
          run.state.review.via = 'poll';
        }
      } catch (err) {
        // A refusal (credentials revoked) will not heal: the signal is the only way left. Anything else: next interval.
        if (failureType(err) === FAILURE.GitHostRefused) nextPoll = Number.POSITIVE_INFINITY;
      }
    }
  }
  run.state.review.via ??= 'signal';
  return box.review;
}
