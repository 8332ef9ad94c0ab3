import { ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import { DEFAULT_AUTOMATION_SETTINGS, type AutomationWorkflowState, type RunAutomationInput } from '../../core/contracts/automation.js';
import { FAILURE } from '../../core/contracts/failures.js';
import { failureMessage, failureType } from '../runs/failures.js';
import { playbookSteps, prepareSteps, storeSteps } from './activities.js';
import { awaitApproval, installApprovalHandler } from './approval-gate.js';
import { withHostLeases } from './host-leases.js';
import { AutomationRun } from './run-state.js';
import { summariseOutcome } from './summarise.js';

/** Failures of the run step that mean nothing was started: the run failed, it was not lost. */
const REFUSED_BEFORE_RUNNING: readonly string[] = [
  FAILURE.AutomationNotApproved,
  FAILURE.CredentialNotFound,
  FAILURE.HostKeyUnknown,
  FAILURE.AutomationUnavailable,
  FAILURE.AutomationRunNotFound,
  FAILURE.NotInWorkflow,
];

/**
 * An Ansible automation run: record → resolve targets (CMDB) → generate → validate → approval
 * (check mode runs without) → host leases → run → collect and summarise → result write → runner
 * cleanup. A playbook with any finding never runs; a cancellation stops a running playbook before
 * the hosts are released, and every ending writes its result.
 */
export async function runAutomation(input: RunAutomationInput): Promise<AutomationWorkflowState> {
  const run = new AutomationRun(input);
  const { state } = run;
  const settings = input.settings ?? DEFAULT_AUTOMATION_SETTINGS;
  installApprovalHandler(run);
  let ranPlaybook = false;
  try {
    await run.step('recordAutomationRun', () => storeSteps.recordAutomationRun(run.ref));
    run.setStatus('generating');
    const resolved = await run.step('resolveAutomationTargets', () =>
      storeSteps.resolveAutomationTargets({ tenantId: input.tenantId, targets: input.targets }),
    );
    state.hosts = resolved.hosts;
    if (resolved.findings.length > 0) {
      state.findings = resolved.findings;
      await run.finish('invalid', `Targets cannot be used: ${resolved.findings.map((f) => f.message).join(' ')} Nothing was run.`);
      return state;
    }

    const generated = await run.step('generateAutomation', () =>
      prepareSteps.generateAutomation({ ...run.ref, request: input.request, hosts: state.hosts, checkMode: input.checkMode }),
    );
    if (!generated.ok) {
      state.understood = generated.understood;
      await run.finish('not_understood', `${generated.message} Nothing was run.`);
      return state;
    }
    Object.assign(state, { artifacts: generated.artifacts, generation: generated.generation, artifactsHash: generated.artifactsHash });

    run.setStatus('validating');
    const { findings } = await run.step('validateAutomation', () => prepareSteps.validateAutomation({ ...run.ref, hosts: state.hosts }));
    state.findings = findings;
    if (findings.length > 0) {
      await run.finish('invalid', `Validation found ${findings.length} problem${findings.length > 1 ? 's' : ''}; nothing was run.`);
      return state;
    }

    if (!(await awaitApproval(run, generated.artifactsHash, settings))) return state;

    await withHostLeases(run, async () => {
      run.setStatus('running');
      ranPlaybook = true;
      let outcome;
      try {
        outcome = await run.step('runPlaybook', () =>
          playbookSteps(settings.runTimeoutMs).runPlaybook({
            ...run.ref,
            artifactsHash: generated.artifactsHash,
            checkMode: input.checkMode,
            timeoutMs: settings.runTimeoutMs,
          }),
        );
      } catch (err) {
        if (isCancellation(err) || REFUSED_BEFORE_RUNNING.includes(failureType(err) ?? '')) throw err;
        // Every attempt lost the runner (or its worker): the playbook may have run, or may still run.
        state.error = failureMessage(err);
        await run.finish('lost', `The runner could not be followed to the end (${state.error}); the outcome is unknown: check the hosts.`);
        return;
      }
      const { progress, ...kept } = outcome;
      state.progress = progress;
      state.outcome = kept;
      const { status, summary } = summariseOutcome(kept, { checkMode: input.checkMode, hostLeaseLost: run.hostLeaseLost });
      await run.finish(status, summary);
    });
    return state;
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() =>
        run.finish(
          'cancelled',
          ranPlaybook ? 'Cancelled by request; the running playbook was stopped.' : 'Cancelled by request; nothing was run.',
        ),
      );
      throw err;
    }
    state.error = failureMessage(err);
    run.failedRun = true;
    await CancellationScope.nonCancellable(() => run.finish('failed', `Run failed: ${state.error}`)).catch(() => undefined);
    throw ApplicationFailure.nonRetryable(`Automation run failed: ${state.error}`, FAILURE.AutomationRunFailed);
  } finally {
    await CancellationScope.nonCancellable(async () => {
      // The runner's workspace goes once the result is recorded: a retried run step needed it until then.
      if (ranPlaybook && run.ended) await run.step('cleanupAutomationRun', () => storeSteps.cleanupAutomationRun()).catch(() => undefined);
      await run.end();
    });
  }
}
