import { ApplicationFailure } from '@temporalio/activity';
import { GitHostRefusedError, GitHostUnavailableError, type GitHost } from '../../adapters/git-host/port.js';
import type { ProvisionRequestRecord, Store } from '../../adapters/store/port.js';
import { FAILURE } from '../../core/contracts/failures.js';
import type {
  ProvisionEnvironment,
  ProvisionFile,
  ProvisionParseOutcome,
  ProvisionPolicyFinding,
  ProvisionRequirements,
} from '../../core/provisioning/types.js';

// What the provisioning activities need, as injected dependencies: the store, the provisioning
// toolkit (the pure core: grammar, templates, HCL validation, policy, with the tenant's conventions
// bound in) and the git host. wiring.ts builds both (`provisioning`, `gitHost`); tests pass doubles
// typed against these interfaces.

/**
 * The pure provisioning core, conventions already applied (core/provisioning/*: parseProvisionRequest,
 * renderProvisionFiles, provisionDirectory, validateProvisionFiles, evaluateProvisionPolicy). The
 * API uses the same toolkit for its synchronous parse (422) and for dry runs.
 */
export interface ProvisioningToolkit {
  /** The request's text as requirements, or what is missing. */
  parse(
    text: string,
    context: { environment?: ProvisionEnvironment | undefined; requester?: string | undefined },
  ): ProvisionParseOutcome | Promise<ProvisionParseOutcome>;
  /** The Terraform files of the requirements, paths relative to the repository root. */
  render(requirements: ProvisionRequirements): ProvisionFile[] | Promise<ProvisionFile[]>;
  /** Where the files go: `terraform/<env>/<type>/<name>`. */
  directory(requirements: ProvisionRequirements): string;
  /** HCL syntax and structure of the files; an `error` finding means they cannot be pushed. */
  validate(files: ProvisionFile[]): Promise<ProvisionPolicyFinding[]>;
  /**
   * The tenant's rules and Checkov; an `error` finding blocks the pull request. `checkov: false`
   * leaves Checkov out (a dry run answers at once; Checkov takes tens of seconds).
   */
  policy(files: ProvisionFile[], requirements: ProvisionRequirements, options?: { checkov?: boolean }): Promise<ProvisionPolicyFinding[]>;
}

export interface ProvisioningActivityDeps {
  store: Store;
  /** Null or absent: provisioning runs end `failed` with ProvisioningUnavailable. */
  provisioning?: ProvisioningToolkit | null;
  /**
   * Where branches, commits and pull requests go: one host, or the tenant's (each tenant its own
   * local repository). Null or absent: runs that pass the policy end `failed`.
   */
  gitHost?: GitHost | ((tenantId: string) => Promise<GitHost>) | null;
}

/** Which request a step works on. */
export interface ProvisionRef {
  tenantId: string;
  requestId: string;
}

export async function requestOf(deps: ProvisioningActivityDeps, ref: ProvisionRef): Promise<ProvisionRequestRecord> {
  const request = await deps.store.provisioning.get(ref.tenantId, ref.requestId);
  if (!request) {
    throw ApplicationFailure.nonRetryable(`Provisioning request ${ref.requestId} no longer exists.`, FAILURE.ProvisionRequestNotFound);
  }
  return request;
}

export function toolkitOf(deps: ProvisioningActivityDeps): ProvisioningToolkit {
  if (!deps.provisioning) {
    throw ApplicationFailure.nonRetryable(
      'This worker has no provisioning toolkit (templates, validation, policy).',
      FAILURE.ProvisioningUnavailable,
    );
  }
  return deps.provisioning;
}

export async function gitHostOf(deps: ProvisioningActivityDeps, tenantId: string): Promise<GitHost> {
  if (!deps.gitHost) {
    throw ApplicationFailure.nonRetryable('This worker has no git host (GitHub or the local repository).', FAILURE.ProvisioningUnavailable);
  }
  return typeof deps.gitHost === 'function' ? deps.gitHost(tenantId) : deps.gitHost;
}

export function missing(what: string, requestId: string): never {
  throw ApplicationFailure.nonRetryable(`Provisioning request ${requestId} has no ${what} stored.`, FAILURE.ProvisionStateMissing);
}

/** A git host error as the failure type the presets know: unavailable is retried, refused is not. */
export async function onGitHost<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof GitHostRefusedError) {
      throw ApplicationFailure.create({
        message: `The git host refused ${what}: ${err.message}`,
        type: FAILURE.GitHostRefused,
        nonRetryable: true,
      });
    }
    if (err instanceof GitHostUnavailableError) {
      throw ApplicationFailure.create({
        message: `The git host is unavailable (${what}): ${err.message}`,
        type: FAILURE.GitHostUnavailable,
        ...(err.retryAfterMs ? { nextRetryDelay: err.retryAfterMs } : {}),
      });
    }
    throw err;
  }
}
