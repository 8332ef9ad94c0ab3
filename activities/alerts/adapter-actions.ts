import { ApplicationFailure } from '@temporalio/activity';
import { KubernetesUnavailableError } from '../../adapters/kubernetes/port.js';
import { NotifierError, notServedReason } from '../../adapters/notify/port.js';
import { VsphereUnavailableError, type VmRestartMode } from '../../adapters/vsphere/port.js';
import { FAILURE } from '../../core/contracts/failures.js';
import { redactText, truncateText } from '../../core/redact.js';
import type { AlertActivityDeps } from './deps.js';

// Action step group of the actions that do not run on a host: restart_pod and scale_deployment
// (KubernetesActions), restart_vm (VmActions), notify (the notifiers' alert notices). An adapter
// that is not configured, or that refuses the action (not found, forbidden, out of range), fails
// the step for good with its reason; one that is unreachable is retried.

export interface ActionOutcome {
  /** What happened, for the job's detail. */
  detail: string;
}

/** An adapter's failure as Temporal sees it: unavailable is retried, anything else is final. */
function actionFailure(err: unknown, unavailable: boolean): never {
  const message = err instanceof Error ? err.message : String(err);
  if (unavailable) throw ApplicationFailure.retryable(message, FAILURE.PolicyActionUnavailable);
  throw ApplicationFailure.nonRetryable(message, FAILURE.PolicyActionRefused);
}

function notConfigured(what: string): never {
  throw ApplicationFailure.nonRetryable(`${what} is not configured on this worker`, FAILURE.PolicyActionRefused);
}

const VM_MODES: readonly VmRestartMode[] = ['guest_reboot', 'reset'];

export function createAlertAdapterActivities({
  store,
  kubernetesActions,
  vmActions,
  notifiers = [],
  notifyTenants = [],
  publicUrl = null,
}: AlertActivityDeps) {
  return {
    async restartPodForAlert({ namespace, pod }: { namespace: string; pod: string }): Promise<ActionOutcome> {
      if (!kubernetesActions) notConfigured('Kubernetes (INFRAAI_KUBECONFIG)');
      try {
        const done = await kubernetesActions.restartPod(namespace, pod);
        return { detail: `deleted pod ${namespace}/${pod} (uid ${done.uid}); ${done.owner.kind} ${done.owner.name} recreates it` };
      } catch (err) {
        return actionFailure(err, err instanceof KubernetesUnavailableError);
      }
    },

    async scaleDeploymentForAlert(input: { namespace: string; deployment: string; replicas: number }): Promise<ActionOutcome> {
      if (!kubernetesActions) notConfigured('Kubernetes (INFRAAI_KUBECONFIG)');
      try {
        const done = await kubernetesActions.scaleDeployment(input.namespace, input.deployment, input.replicas);
        return { detail: `scaled deployment ${input.namespace}/${input.deployment} from ${done.previousReplicas} to ${done.replicas}` };
      } catch (err) {
        return actionFailure(err, err instanceof KubernetesUnavailableError);
      }
    },

    async restartVmForAlert({ vm, mode }: { vm: string; mode: string | null }): Promise<ActionOutcome> {
      if (!vmActions) notConfigured('vSphere (INFRAAI_VSPHERE_URL)');
      const chosen = (mode ?? 'guest_reboot') as VmRestartMode;
      if (!VM_MODES.includes(chosen)) notConfiguredMode(mode!);
      try {
        const done = await vmActions.restartVm(vm, { mode: chosen });
        return {
          detail: `${done.action === 'reset' ? 'reset' : 'rebooted the guest of'} VM ${done.name} (${done.vmId}, was ${done.powerStateBefore})`,
        };
      } catch (err) {
        return actionFailure(err, err instanceof VsphereUnavailableError);
      }
    },

    /**
     * Sends the notice to the named notifier, or to every configured one. Succeeds when at least one
     * delivered it; a notifier that only takes incident notices says so in the detail. A tenant the
     * notifiers do not serve is refused: they would open tickets and pages in another tenant's tools.
     */
    async notifyForAlert(input: {
      /** The alert's tenant; absent only in a step scheduled before it was passed (then served only under `*`). */
      tenantId?: string;
      key: string;
      notifier: string | null;
      title: string;
      message: string;
      labels: Record<string, string>;
      jobPath: string | null;
    }): Promise<ActionOutcome & { delivered: number }> {
      const chosen = input.notifier ? notifiers.filter((n) => n.name === input.notifier) : [...notifiers];
      if (chosen.length === 0) notConfigured(input.notifier ? `The notifier '${input.notifier}'` : 'No notifier');
      const notServed =
        input.tenantId !== undefined
          ? await notServedReason(notifyTenants, input.tenantId, store.tenants)
          : notifyTenants === '*'
            ? null
            : "the step names no tenant, and the deployment's notifiers do not serve every tenant";
      if (notServed) throw ApplicationFailure.nonRetryable(notServed, FAILURE.PolicyActionRefused);
      const results: string[] = [];
      let delivered = 0;
      for (const notifier of chosen) {
        if (!notifier.notifyAlert) {
          results.push(`${notifier.name}: takes incident notices only`);
          continue;
        }
        try {
          const result = await notifier.notifyAlert({
            key: input.key,
            title: truncateText(redactText(input.title), 200),
            summary: truncateText(redactText(input.message), 4000),
            severity: input.labels.severity ?? null,
            labels: input.labels,
            url: publicUrl && input.jobPath ? `${publicUrl.replace(/\/$/, '')}${input.jobPath}` : null,
          });
          if (result.delivered) delivered += 1;
          results.push(`${notifier.name}: ${result.detail}`);
        } catch (err) {
          // One tool down must not hide that another took it: retried only when none delivered.
          if (err instanceof NotifierError && err.retryable && chosen.length === 1) actionFailure(err, true);
          results.push(`${notifier.name}: ${(err as Error).message}`);
        }
      }
      const detail = results.join('; ');
      if (delivered === 0)
        throw ApplicationFailure.nonRetryable(`No notifier delivered the notice (${detail})`, FAILURE.PolicyActionRefused);
      return { detail, delivered };
    },
  };
}

function notConfiguredMode(mode: string): never {
  throw ApplicationFailure.nonRetryable(`restart_vm mode '${mode}' is not one of ${VM_MODES.join(', ')}`, FAILURE.PolicyActionRefused);
}
