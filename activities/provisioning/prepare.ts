import type { ProvisionPolicyFinding } from '../../core/provisioning/types.js';
import { PROVISION_ENVIRONMENTS, type ProvisionEnvironment } from '../../core/provisioning/types.js';
import { missing, requestOf, toolkitOf, type ProvisioningActivityDeps, type ProvisionRef } from './deps.js';

// Parse → generate → validate → policy: the pure core (the toolkit) on the request's row. Each step
// reads what it needs from the row and stores what it made there; only summaries travel through
// the workflow's history (file contents stay in the store).

/** What the request was understood as, in a few words (the full requirements are on the row). */
export type ProvisionUnderstanding =
  | { ok: true; resourceType: string; name: string; environment: string; parser: 'grammar' | 'llm' }
  | { ok: false; missing: string[]; message: string };

const dedupe = (findings: ProvisionPolicyFinding[]) => [...new Map(findings.map((f) => [JSON.stringify(f), f])).values()];

export function createProvisionPrepareActivities(deps: ProvisioningActivityDeps) {
  const { store } = deps;
  return {
    /** The request's text as requirements (stored on the row), or what is missing (nothing generated). */
    async understandProvisionRequest(ref: ProvisionRef): Promise<ProvisionUnderstanding> {
      const toolkit = toolkitOf(deps);
      const request = await requestOf(deps, ref);
      const environment = (PROVISION_ENVIRONMENTS as readonly string[]).includes(request.environment ?? '')
        ? (request.environment as ProvisionEnvironment)
        : undefined;
      const outcome = await toolkit.parse(request.request, { environment, requester: request.requester });
      if (!outcome.ok) {
        await store.provisioning.update(ref.tenantId, ref.requestId, { stage: 'understandProvisionRequest' });
        return { ok: false, missing: outcome.missing, message: outcome.message };
      }
      const { requirements, parser } = outcome;
      await store.provisioning.update(ref.tenantId, ref.requestId, { stage: 'understandProvisionRequest', requirements, parser });
      return { ok: true, resourceType: requirements.resourceType, name: requirements.name, environment: requirements.environment, parser };
    },

    /** The Terraform files of the stored requirements, stored with their directory. */
    async generateProvisionFiles(ref: ProvisionRef): Promise<{ directory: string; paths: string[] }> {
      const toolkit = toolkitOf(deps);
      const request = await requestOf(deps, ref);
      const requirements = request.requirements ?? missing('requirements', ref.requestId);
      const files = await toolkit.render(requirements);
      const directory = toolkit.directory(requirements);
      await store.provisioning.update(ref.tenantId, ref.requestId, { stage: 'generateProvisionFiles', files, directory });
      return { directory, paths: files.map((f) => f.path) };
    },

    /** HCL validation of the stored files; its findings replace the row's. */
    async validateProvisionHcl(ref: ProvisionRef): Promise<{ findings: ProvisionPolicyFinding[] }> {
      const toolkit = toolkitOf(deps);
      const request = await requestOf(deps, ref);
      const files = request.files ?? missing('files', ref.requestId);
      const findings = await toolkit.validate(files);
      await store.provisioning.update(ref.tenantId, ref.requestId, { stage: 'validateProvisionHcl', findings });
      return { findings };
    },

    /** The policy (rules and Checkov) on the stored files; its findings join the validation's on the row. */
    async checkProvisionPolicy(ref: ProvisionRef): Promise<{ findings: ProvisionPolicyFinding[] }> {
      const toolkit = toolkitOf(deps);
      const request = await requestOf(deps, ref);
      const files = request.files ?? missing('files', ref.requestId);
      const requirements = request.requirements ?? missing('requirements', ref.requestId);
      const findings = await toolkit.policy(files, requirements);
      // A retried step finds its own findings already stored: kept once.
      await store.provisioning.update(ref.tenantId, ref.requestId, {
        stage: 'checkProvisionPolicy',
        findings: dedupe([...request.findings, ...findings]),
      });
      return { findings };
    },
  };
}
