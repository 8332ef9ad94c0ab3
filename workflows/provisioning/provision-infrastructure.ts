import { ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import { FAILURE } from '../../core/contracts/failures.js';
import {
  DEFAULT_PROVISION_SETTINGS,
  type ProvisionInfrastructureInput,
  type ProvisionWorkflowState,
} from '../../core/contracts/provisioning.js';
import { failureMessage } from '../runs/failures.js';
import { gitSteps, prepareSteps } from './activities.js';
import { ProvisionRun } from './provision-run.js';
import { awaitReview, installReviewHandler } from './review-wait.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * An infrastructure provisioning request: parse → generate → validate → policy → branch and commit →
 * pull request → wait for its review (signal, or polling; a reminder, then expiry) → completed. A
 * request with a policy error is `blocked` and nothing is pushed; a closed pull request cancels it.
 */
export async function provisionInfrastructure(input: ProvisionInfrastructureInput): Promise<ProvisionWorkflowState> {
  const run = new ProvisionRun(input);
  const { state } = run;
  const settings = input.settings ?? DEFAULT_PROVISION_SETTINGS;
  const reviewed = installReviewHandler(run);
  try {
    await run.setStatus('parsing');
    const understood = await run.step('understandProvisionRequest', () => prepareSteps.understandProvisionRequest(run.ref));
    if (!understood.ok) {
      state.error = understood.message;
      await run.finish(
        'not_understood',
        `The request was not understood (missing: ${understood.missing.join(', ')}); nothing was generated.`,
      );
      return state;
    }

    await run.setStatus('generating');
    const generated = await run.step('generateProvisionFiles', () => prepareSteps.generateProvisionFiles(run.ref));
    Object.assign(state, { directory: generated.directory, files: generated.paths });

    await run.setStatus('validating');
    const validation = await run.step('validateProvisionHcl', () => prepareSteps.validateProvisionHcl(run.ref));
    state.findings = validation.findings;
    const invalid = validation.findings.filter((f) => f.severity === 'error');
    if (invalid.length > 0) {
      state.error = invalid.map((f) => `${f.file}: ${f.message}`).join('; ');
      await run.finish('failed', `The generated Terraform is not valid (${plural(invalid.length, 'error')}); nothing was pushed.`);
      return state;
    }

    await run.setStatus('policy_check');
    const policy = await run.step('checkProvisionPolicy', () => prepareSteps.checkProvisionPolicy(run.ref));
    state.findings = [...state.findings, ...policy.findings];
    const violations = policy.findings.filter((f) => f.severity === 'error');
    if (violations.length > 0) {
      const rules = [...new Set(violations.map((f) => f.rule))].join(', ');
      await run.finish(
        'blocked',
        `The policy refused the files (${plural(violations.length, 'violation')}: ${rules}); nothing was pushed.`,
      );
      return state;
    }

    await run.setStatus('creating_pr');
    const pushed = await run.step('pushProvisionBranch', () => gitSteps.pushProvisionBranch(run.ref));
    Object.assign(state, { branch: pushed.branch, commitSha: pushed.commitSha });
    const pr = await run.step('openProvisionPullRequest', () => gitSteps.openProvisionPullRequest(run.ref));
    state.pullRequest = { number: pr.number, url: pr.url, state: pr.state };

    // A pull request found already merged or closed (a retried run) needs no wait.
    if (pr.state !== 'open') reviewed.review ??= { number: pr.number, state: pr.state };
    const review = await awaitReview(run, reviewed, settings);
    if (!review) {
      await run.finish('expired', `Pull request #${pr.number} was neither merged nor closed before its review deadline.`);
      return state;
    }
    state.pullRequest.state = review.state;
    if (review.state === 'merged') await run.finish('completed', `Pull request #${pr.number} was merged: ${pr.url}`);
    else await run.finish('cancelled', `Pull request #${pr.number} was closed without merging; the request is cancelled.`);
    return state;
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => run.finish('cancelled', 'Cancelled by request.'));
      throw err;
    }
    state.error = failureMessage(err);
    await CancellationScope.nonCancellable(() => run.finish('failed', `Provisioning failed: ${state.error}`)).catch(() => undefined);
    throw ApplicationFailure.nonRetryable(`Provisioning failed: ${state.error}`, FAILURE.ProvisionRunFailed);
  }
}
