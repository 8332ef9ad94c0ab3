import type { AutomationHost, HostRecap, ValidationFinding } from '../../core/automation.js';
import { isFinalAutomationStatus, type AutomationApproval, type FinalAutomationStatus } from '../../core/contracts/automation.js';
import { redactText, truncateText } from '../../core/redact.js';
import type { AutomationActivityDeps, AutomationRunRef } from './deps.js';
import { runOf } from './toolkit.js';

// The run's row: checked at the start, its targets resolved from the CMDB, its result written at the end.

export function createAutomationRecordActivities(deps: AutomationActivityDeps) {
  const { store } = deps;
  return {
    /** The run's row exists (the API wrote it before starting the workflow). */
    async recordAutomationRun(ref: AutomationRunRef): Promise<{ number: number }> {
      return { number: (await runOf(deps, ref)).number };
    },

    /**
     * The inventory's hosts, from the tenant's CMDB items only (never from the request's text). An
     * item that is missing (or another tenant's), or that names no SSH user or credential, is a
     * finding: the run ends invalid before anything is generated for it.
     */
    async resolveAutomationTargets({
      tenantId,
      targets,
    }: {
      tenantId: string;
      targets: string[];
    }): Promise<{ hosts: AutomationHost[]; findings: ValidationFinding[] }> {
      const hosts: AutomationHost[] = [];
      const findings: ValidationFinding[] = [];
      for (const tagId of [...new Set(targets)]) {
        const item = await store.cmdb.get(tenantId, tagId);
        if (!item) {
          findings.push({ check: 'hosts', task: null, message: `No CMDB item '${tagId}' in this tenant: it cannot be a target.` });
          continue;
        }
        const missing = [!item.sshUser && 'SSH user', !item.sshCredential && 'SSH credential'].filter(Boolean);
        if (missing.length > 0) {
          findings.push({
            check: 'hosts',
            task: null,
            message: `CMDB item '${tagId}' (${item.hostname}) names no ${missing.join(' and no ')}: set them on the item to target it.`,
          });
          continue;
        }
        hosts.push({
          tagId,
          hostname: item.hostname,
          address: item.address,
          port: item.port,
          user: item.sshUser!,
          credential: item.sshCredential!,
          serviceManager: item.serviceManager,
        });
      }
      return { hosts, findings };
    },

    /** The outcome on the row (its final status, summary, recap and approval); a repeat writes the same. */
    async writeAutomationResult(
      input: AutomationRunRef & {
        status: FinalAutomationStatus;
        summary: string;
        recap: Record<string, HostRecap> | null;
        approval: AutomationApproval | null;
        error: string | null;
      },
    ): Promise<void> {
      const before = await runOf(deps, input);
      const updated = await store.automation.update(input.tenantId, input.runId, {
        status: input.status,
        summary: truncateText(redactText(input.summary), 4000),
        recap: input.recap,
        approval: input.approval,
        error: input.error === null ? null : truncateText(redactText(input.error), 4000),
      });
      // Counted by the attempt that moved the row to its final status: a retry finds it there already.
      if (deps.telemetry && updated && !isFinalAutomationStatus(before.status)) {
        deps.telemetry.runEnded('ansible', input.status, (Date.now() - Date.parse(before.createdAt)) / 1000);
      }
    },
  };
}
