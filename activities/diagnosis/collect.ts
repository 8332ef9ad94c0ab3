import { baselineDiagnostics, classify, planFromRunbook } from '../../core/planner.js';
import { classifyCommand } from '../../core/command-policy.js';
import { CredentialNotFoundError } from '../../adapters/ssh/port.js';
import { HostKeyMismatchError, SshAuthenticationError, SshConnectionError, type SshSession } from '../../adapters/ssh/port.js';
import { redactText } from '../../core/redact.js';
import type { CollectedFacts, DiagnoseErrorInput, HostFacts } from '../../core/contracts/diagnosis.js';
import { KubernetesUnavailableError, type KubernetesCluster } from '../../adapters/kubernetes/port.js';
import { truncateText } from '../../core/redact.js';
import type { DiagnosisActivityDeps } from './deps.js';
import { planContext } from './plan-context.js';

// Collect step group: read-only facts from the cluster and from the CMDB item's host.

/** Per-command bounds for diagnostics: a stuck command must not hold the diagnosis. */
const HOST_COMMAND_TIMEOUT_MS = 15_000;
const HOST_OUTPUT_CAP_BYTES = 64 * 1024;
/** What of each output is kept in the facts (and so in workflow history and the API answer). */
const HOST_OUTPUT_KEPT_CHARS = 4000;

export function createDiagnosisCollectActivities({ store, runbooks, kubernetes, hostAccess }: DiagnosisActivityDeps) {
  return {
    /**
     * Read-only facts from the CMDB item's host over SSH: the matched runbook's diagnostics plus a
     * baseline, each checked by the command policy (only `read-only` runs). Unreachable hosts,
     * missing credentials and changed host keys degrade the diagnosis with a note instead of failing it.
     */
    async collectHostFacts(input: DiagnoseErrorInput): Promise<{ host: HostFacts | null; notes: string[] }> {
      if (!input.tagId) return { host: null, notes: ['no CMDB item given: no host consulted'] };
      const item = await store.cmdb.get(input.tenantId, input.tagId);
      if (!item) return { host: null, notes: [`CMDB item '${input.tagId}' not found: no host consulted`] };
      if (!hostAccess) return { host: null, notes: ['host access over SSH is not configured'] };
      if (!item.sshCredential) return { host: null, notes: [`CMDB item '${item.tagId}' names no SSH credential: host not consulted`] };

      const text = redactText(input.errorMessage).slice(0, 20_000);
      const match = classify(text, runbooks)[0];
      const runbook = match ? runbooks.find((r) => r.id === match.runbookId && r.kind !== 'kubernetes') : undefined;
      const planned = runbook ? planFromRunbook(runbook, planContext(item, match!.parameters, input)).diagnostics : [];
      const notes: string[] = [];
      const commands: { id: string; command: string }[] = [];
      for (const candidate of [
        ...planned.map((d) => ({ id: d.id, command: d.command, unresolved: d.unresolved })),
        ...baselineDiagnostics(item).map((b) => ({ id: b.id, command: b.command, unresolved: [] as string[] })),
      ]) {
        if (!candidate.command || commands.some((c) => c.command === candidate.command)) continue;
        if (candidate.unresolved.length) {
          notes.push(`diagnostic ${candidate.id} skipped: no value for ${candidate.unresolved.join(', ')}`);
          continue;
        }
        const verdict = classifyCommand(candidate.command);
        if (verdict.risk !== 'read-only') {
          notes.push(`diagnostic ${candidate.id} refused (${verdict.risk}: ${verdict.reasons.join('; ')})`);
          continue;
        }
        commands.push({ id: candidate.id, command: candidate.command });
      }

      let session: SshSession;
      try {
        session = await hostAccess.connect(input.tenantId, item);
      } catch (err) {
        if (
          err instanceof HostKeyMismatchError ||
          err instanceof SshAuthenticationError ||
          err instanceof SshConnectionError ||
          err instanceof CredentialNotFoundError
        ) {
          return { host: null, notes: [...notes, `host ${item.address}:${item.port} not consulted: ${err.message}`] };
        }
        throw err;
      }
      try {
        const outcomes = await session.run(
          commands.map((c) => c.command),
          { timeoutMs: HOST_COMMAND_TIMEOUT_MS, maxOutputBytes: HOST_OUTPUT_CAP_BYTES, concurrency: 4 },
        );
        return {
          host: {
            tagId: item.tagId,
            address: item.address,
            runbookId: runbook?.id ?? null,
            hostKeyFingerprint: session.hostKeyFingerprint,
            commands: outcomes.map((outcome, i) => ({
              id: commands[i]!.id,
              command: outcome.command,
              exitCode: outcome.exitCode,
              output: truncateText(redactText([outcome.stdout, outcome.stderr].filter(Boolean).join('\n')), HOST_OUTPUT_KEPT_CHARS),
              truncated: outcome.truncated,
              timedOut: outcome.timedOut,
              durationMs: outcome.durationMs,
            })),
          },
          notes,
        };
      } catch (err) {
        if (err instanceof SshConnectionError)
          return { host: null, notes: [...notes, `host ${item.address}:${item.port}: ${err.message}`] };
        throw err;
      } finally {
        session.close();
      }
    },

    /** Read-only collection: the pod's state and its recent events, when a cluster is configured. */
    async collectKubernetesFacts(input: DiagnoseErrorInput): Promise<CollectedFacts> {
      if (!input.namespace) return { kubernetes: null, notes: ['no namespace given: Kubernetes not consulted'] };
      if (!kubernetes) return { kubernetes: null, notes: ['no Kubernetes cluster configured (INFRAAI_KUBECONFIG)'] };
      let pods: Awaited<ReturnType<KubernetesCluster['listPods']>>;
      let events: Awaited<ReturnType<KubernetesCluster['listEvents']>>;
      try {
        [pods, events] = await Promise.all([kubernetes.listPods(input.namespace), kubernetes.listEvents(input.namespace, input.pod)]);
      } catch (err) {
        // A diagnosis degrades to the error text alone rather than failing when the cluster is unreachable.
        if (err instanceof KubernetesUnavailableError) return { kubernetes: null, notes: [err.message] };
        throw err;
      }
      const pod = input.pod ? (pods.find((p) => p.name === input.pod) ?? null) : (pods.find((p) => !p.ready) ?? null);
      return {
        kubernetes: {
          pod: pod && {
            name: pod.name,
            phase: pod.phase,
            ready: pod.ready,
            restarts: pod.restarts,
            reason: pod.reason,
            exitCode: pod.exitCode,
          },
          events: events
            .slice(0, 20)
            .map((e) => ({ type: e.type, reason: e.reason, message: truncateText(redactText(e.message), 500), count: e.count })),
        },
        notes: pod || !input.pod ? [] : [`pod ${input.pod} not found in ${input.namespace}`],
      };
    },
  };
}
