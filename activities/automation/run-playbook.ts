import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AutomationHost, AutomationProgress } from '../../core/automation.js';
import type { AutomationOutcome } from '../../core/contracts/automation.js';
import { FAILURE } from '../../core/contracts/failures.js';
import { RunnerExecutionNotFoundError, type RunnerOutcome } from '../../adapters/ansible-runner/port.js';
import type { AutomationActivityDeps, AutomationRunRef } from './deps.js';
import { LOG_FOLLOW_MS, PlaybookLog, type StoredLog } from './playbook-log.js';
import { runOf, toolkitOf, workflowIdOf } from './toolkit.js';

// The run itself: the approved artifacts (re-read from the store and re-hashed, so what runs is
// what was approved), the keys from the vault and the trusted host keys, given to the runner with
// the workflow id as its run key (a retried attempt re-attaches to the first execution). Progress
// heartbeats (and lands on the row for the API); cancellation aborts the runner. The log goes to
// the store in lines while the playbook runs (playbook-log.ts); only its tail and its length reach
// the workflow.

const HEARTBEAT_MS = 5000;
const PROGRESS_WRITE_MS = 2000;

export function knownHostsLine(host: Pick<AutomationHost, 'address' | 'port'>, keyType: string, publicKey: string): string {
  const name = host.port === 22 ? host.address : `[${host.address}]:${host.port}`;
  return `${name} ${keyType} ${publicKey}`;
}

export function createPlaybookActivities(deps: AutomationActivityDeps) {
  const { store } = deps;

  /** Private keys by credential name, revealed here and handed to the runner only. */
  async function keysFor(tenantId: string, hosts: AutomationHost[]): Promise<Record<string, string>> {
    const keys: Record<string, string> = {};
    for (const name of [...new Set(hosts.map((h) => h.credential))]) {
      const credential = deps.vault ? await deps.vault.reveal(tenantId, name) : null;
      if (!credential) throw ApplicationFailure.nonRetryable(`SSH credential '${name}' does not exist`, FAILURE.CredentialNotFound);
      if (credential.passphrase) {
        throw ApplicationFailure.nonRetryable(
          `SSH credential '${name}' is protected by a passphrase; the Ansible runner needs a key without one`,
          FAILURE.CredentialNotFound,
        );
      }
      keys[name] = credential.privateKey;
    }
    return keys;
  }

  /**
   * A host never connected to gets its key trusted on first use, the product's rule for every host:
   * one SSH connection through the host-access adapter records it. A changed key fails that
   * connection (HostKeyMismatch) and nothing runs.
   */
  async function trustOnFirstUse(tenantId: string, host: AutomationHost): Promise<void> {
    const item = deps.hostAccess ? await store.cmdb.get(tenantId, host.tagId) : null;
    if (!item || !deps.hostAccess) return;
    try {
      const session = await deps.hostAccess.connect(tenantId, item);
      session.close();
    } catch (err) {
      throw ApplicationFailure.nonRetryable(
        `Could not connect to ${host.hostname} (${host.address}:${host.port}) to record its host key: ${(err as Error).message}`,
        FAILURE.HostKeyUnknown,
      );
    }
  }

  /** known_hosts lines from the keys trusted on first use: a host with none on record is refused. */
  async function knownHostsFor(tenantId: string, hosts: AutomationHost[]): Promise<string> {
    const lines: string[] = [];
    for (const host of hosts) {
      let trusted = await store.hostKeys.get(tenantId, host.address, host.port);
      if (!trusted?.publicKey) {
        await trustOnFirstUse(tenantId, host);
        trusted = await store.hostKeys.get(tenantId, host.address, host.port);
      }
      if (!trusted?.publicKey) {
        throw ApplicationFailure.nonRetryable(
          `No trusted host key with its public key is on record for ${host.hostname} (${host.address}:${host.port}); ` +
            'connect to it once over SSH (a diagnosis or an incident run records it) before running a playbook on it',
          FAILURE.HostKeyUnknown,
        );
      }
      lines.push(knownHostsLine(host, trusted.keyType, trusted.publicKey));
    }
    return `${lines.join('\n')}\n`;
  }

  return {
    async runPlaybook(
      input: AutomationRunRef & { artifactsHash: string; checkMode: boolean; timeoutMs: number },
    ): Promise<AutomationOutcome & { progress: AutomationProgress }> {
      const toolkit = toolkitOf(deps);
      const ctx = Context.current();
      const runKey = workflowIdOf();
      const run = await runOf(deps, input);
      if (!run.artifacts || toolkit.hash(run.artifacts) !== input.artifactsHash) {
        throw ApplicationFailure.nonRetryable(
          `The stored artifacts do not match the approved hash ${input.artifactsHash}: nothing was run`,
          FAILURE.AutomationNotApproved,
        );
      }
      const artifacts = run.artifacts;
      const keys = await keysFor(input.tenantId, artifacts.hosts);
      const knownHosts = await knownHostsFor(input.tenantId, artifacts.hosts);

      let last: AutomationProgress = { tasksDone: 0, tasksTotal: 0, currentTask: null, events: 0 };
      let written = 0;
      let writing: Promise<unknown> = Promise.resolve();
      // Lines this attempt adds to the row's count (a retry rewriting the first attempt's lines adds none).
      let counted = run.logLines;
      let warned = false;
      const log = new PlaybookLog({
        store,
        tenantId: input.tenantId,
        runId: input.runId,
        runner: toolkit.runner,
        runKey,
        secrets: Object.values(keys),
        onStored(total) {
          if (total > counted) deps.telemetry?.automationLogLinesStored(total - counted);
          counted = Math.max(counted, total);
        },
        onFollowError(err) {
          // Before the execution exists there is nothing to read; any other failure is said once.
          if (warned || err instanceof RunnerExecutionNotFoundError) return;
          warned = true;
          ctx.log.warn('The playbook log follower could not read or store events; it tries again', { error: (err as Error).message });
        },
      });
      const beat = setInterval(() => ctx.heartbeat(last), HEARTBEAT_MS);
      let result: RunnerOutcome;
      let stored: StoredLog;
      try {
        ctx.heartbeat(last);
        log.follow(Math.max(deps.automationLogFollowMs ?? LOG_FOLLOW_MS, toolkit.runner.eventsReadIntervalMs ?? 0));
        try {
          result = await toolkit.runner.run(
            { runKey, artifacts, keys, knownHosts, checkMode: input.checkMode, timeoutMs: input.timeoutMs },
            {
              signal: ctx.cancellationSignal,
              onProgress(progress) {
                last = progress;
                ctx.heartbeat(progress);
                // The row shows progress to the API; writes are spaced and never overlap.
                if (Date.now() - written >= PROGRESS_WRITE_MS) {
                  written = Date.now();
                  writing = writing.then(() => store.automation.update(input.tenantId, input.runId, { progress })).catch(() => undefined);
                }
              },
            },
          );
        } catch (err) {
          // A runner that gave up because it was told to stop: the attempt reports a cancellation.
          if (ctx.cancellationSignal.aborted) await ctx.cancelled;
          // The runner could not start or follow the run: a retry re-attaches to whatever the first attempt started.
          throw ApplicationFailure.retryable(`The Ansible runner failed: ${(err as Error).message}`, FAILURE.RunnerUnavailable);
        }
        // From the run step's first schedule: a retry that re-attached measures the whole execution.
        deps.telemetry?.playbookFinished(result.status, (Date.now() - ctx.info.scheduledTimestampMs) / 1000);
        stored = await log.finish();
      } finally {
        // Every path ends the follower before the attempt answers: nothing is written afterwards.
        clearInterval(beat);
        await log.stop();
        await writing;
      }
      await store.automation.update(input.tenantId, input.runId, { progress: result.progress, recap: result.recap });
      // A cancelled attempt reports as cancelled once the runner has stopped and the log is kept.
      if (ctx.cancellationSignal.aborted) await ctx.cancelled;
      return {
        runnerStatus: result.status,
        exitCode: result.exitCode,
        recap: result.recap,
        logLines: stored.lines,
        logTail: stored.tail,
        reattached: result.reattached,
        progress: result.progress,
      };
    },

    /** Removes the runner's workspace or task artifacts once the result is recorded (never before: a retry needs them). */
    async cleanupAutomationRun(): Promise<void> {
      await toolkitOf(deps).runner.cleanup(workflowIdOf());
    },
  };
}
