import type { AutomationArtifacts, AutomationGeneration, AutomationHost, ValidationFinding } from '../../core/automation.js';
import type { AutomationActivityDeps, AutomationRunRef } from './deps.js';
import { runOf, toolkitOf } from './toolkit.js';

// Generation and validation: what the request becomes, and every reason it may not run. Both store
// what they found on the run's row, so the API shows it whatever the workflow does next.

export type GenerateAutomationResult =
  | { ok: true; artifacts: AutomationArtifacts; generation: AutomationGeneration; artifactsHash: string }
  | { ok: false; understood: Record<string, string>; message: string };

export function createAutomationGenerationActivities(deps: AutomationActivityDeps) {
  const { store } = deps;
  return {
    /** Templates or the LLM write the artifacts for the resolved hosts; the artifacts and their hash are stored. */
    async generateAutomation(
      input: AutomationRunRef & { request: string; hosts: AutomationHost[]; checkMode: boolean },
    ): Promise<GenerateAutomationResult> {
      const toolkit = toolkitOf(deps);
      await runOf(deps, input);
      const outcome = await toolkit.generate(input.request, input.hosts, { checkMode: input.checkMode });
      if (!outcome.ok) return { ok: false, understood: outcome.understood, message: outcome.message };
      const artifactsHash = toolkit.hash(outcome.artifacts);
      await store.automation.update(input.tenantId, input.runId, {
        generation: outcome.generation,
        artifacts: outcome.artifacts,
        artifactsHash,
      });
      return { ok: true, artifacts: outcome.artifacts, generation: outcome.generation, artifactsHash };
    },

    /**
     * Every check over the stored artifacts: the static ones (YAML, modules, commands, become, hosts),
     * `--syntax-check` and `ansible-lint`; plus: the inventory holds the resolved hosts and no other.
     * The findings are stored; any finding means the playbook never runs.
     */
    async validateAutomation(input: AutomationRunRef & { hosts: AutomationHost[] }): Promise<{ findings: ValidationFinding[] }> {
      const toolkit = toolkitOf(deps);
      const run = await runOf(deps, input);
      const artifacts = run.artifacts;
      const findings: ValidationFinding[] = [];
      if (!artifacts) {
        findings.push({ check: 'yaml', task: null, message: 'No artifacts were generated for this run.' });
      } else {
        const allowed = new Set(input.hosts.map((h) => `${h.tagId}|${h.address}|${h.port}`));
        for (const host of artifacts.hosts) {
          if (!allowed.has(`${host.tagId}|${host.address}|${host.port}`))
            findings.push({
              check: 'hosts',
              task: null,
              message: `Host ${host.tagId} (${host.address}) is not one of the run's CMDB targets.`,
            });
        }
        findings.push(
          ...(await toolkit.validateStatic(artifacts, {
            tenantId: input.tenantId,
            hosts: input.hosts,
            commandPolicy: deps.commandPolicy ?? {},
            become: run.generation?.become ?? false,
          })),
        );
        // The external checks only when the file parses: their output on broken YAML says nothing more.
        if (!findings.some((f) => f.check === 'yaml')) {
          findings.push(...(await toolkit.checker.syntaxCheck(artifacts)));
          if (!findings.some((f) => f.check === 'syntax-check')) findings.push(...(await toolkit.checker.lint(artifacts)));
        }
      }
      await store.automation.update(input.tenantId, input.runId, { findings });
      return { findings };
    },
  };
}
