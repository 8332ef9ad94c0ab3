import { provisionBranch } from '../../core/contracts/provisioning.js';
import type { PullRequestState } from '../../adapters/git-host/port.js';
import type { ProvisionRequestRecord } from '../../adapters/store/port.js';
import { gitHostOf, missing, onGitHost, requestOf, type ProvisioningActivityDeps, type ProvisionRef } from './deps.js';

// The git host's steps: the branch `infraai/provision-<id>` with one commit of the stored files, the
// pull request from it, and a read of its state (the polling fallback). Every step is idempotent by
// those names: a retried or crashed step finds the branch, commit and pull request it made.

function pullRequestBody(request: ProvisionRequestRecord): string {
  const warnings = request.findings.filter((f) => f.severity === 'warning');
  return [
    `Requested by ${request.requester} through InfraAI (request ${request.number}, \`${request.id}\`):`,
    '',
    `> ${request.request.replace(/\n/g, '\n> ')}`,
    '',
    `Files in \`${request.directory ?? '?'}\`: ${(request.files ?? []).map((f) => `\`${f.path}\``).join(', ')}.`,
    ...(warnings.length > 0 ? ['', 'Policy warnings:', ...warnings.map((f) => `- ${f.rule} (${f.file}): ${f.message}`)] : []),
    '',
    'Merging this pull request completes the request; closing it cancels the request.',
  ].join('\n');
}

export function createProvisionGitActivities(deps: ProvisioningActivityDeps) {
  const { store } = deps;
  return {
    /** The request's branch from the default branch, and the stored files on it as one commit. */
    async pushProvisionBranch(
      ref: ProvisionRef,
    ): Promise<{ branch: string; commitSha: string; createdBranch: boolean; createdCommit: boolean }> {
      const git = await gitHostOf(deps, ref.tenantId);
      const request = await requestOf(deps, ref);
      const files = request.files ?? missing('files', ref.requestId);
      const branch = provisionBranch(ref.requestId);
      const made = await onGitHost(`the branch ${branch}`, () => git.ensureBranch(branch));
      // The branch is on the row before the commit: the webhook can find the request from here on.
      await store.provisioning.update(ref.tenantId, ref.requestId, { stage: 'pushProvisionBranch', branch });
      const commit = await onGitHost(`the commit on ${branch}`, () =>
        git.commitFiles({
          branch,
          requestId: ref.requestId,
          message: `Provision ${request.directory ?? 'infrastructure'} (InfraAI request ${request.number})`,
          files,
        }),
      );
      await store.provisioning.update(ref.tenantId, ref.requestId, { commitSha: commit.sha });
      return { branch, commitSha: commit.sha, createdBranch: made.created, createdCommit: commit.created };
    },

    /** The pull request from the request's branch into the default branch (or the one already open from it). */
    async openProvisionPullRequest(ref: ProvisionRef): Promise<{ number: number; url: string; state: PullRequestState; created: boolean }> {
      const git = await gitHostOf(deps, ref.tenantId);
      const request = await requestOf(deps, ref);
      const branch = request.branch ?? missing('branch', ref.requestId);
      const title = `InfraAI: ${request.directory ?? request.request.slice(0, 60)}`;
      const pr = await onGitHost(`the pull request from ${branch}`, () =>
        git.openPullRequest({ branch, title, body: pullRequestBody(request) }),
      );
      await store.provisioning.update(ref.tenantId, ref.requestId, {
        stage: 'openProvisionPullRequest',
        prNumber: pr.number,
        prUrl: pr.url,
        prState: pr.state,
      });
      return { number: pr.number, url: pr.url, state: pr.state, created: pr.created };
    },

    /** The pull request's state now, read from the git host (when no webhook told the run). */
    async readProvisionPullRequest(input: ProvisionRef & { number: number }): Promise<{ state: PullRequestState }> {
      const git = await gitHostOf(deps, input.tenantId);
      const pr = await onGitHost(`a read of pull request ${input.number}`, () => git.pullRequest(input.number));
      return { state: pr.state };
    },
  };
}
