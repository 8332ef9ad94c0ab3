import { ApplicationFailure } from '@temporalio/activity';
import { randomUUID } from 'node:crypto';
import { FAILURE } from '../../core/contracts/failures.js';
import { SEVERITIES, type Severity } from '../../core/incident.js';
import type { AlertActivityDeps } from './deps.js';

// Record step group of the runs an alert hands on to: an incident row (a breaker that opened, an
// unmatched alert escalated, a remediate_incident action) and an automation row (run_playbook). The
// workflow then starts their runs as children; each row is keyed, so a retried step finds the first.

/** An alert's severity label as an incident severity (Alertmanager's `warning` is medium, `page` critical). */
export function incidentSeverity(label: string | null | undefined, fallback: Severity = 'high'): Severity {
  const value = (label ?? '').trim().toLowerCase();
  if ((SEVERITIES as readonly string[]).includes(value)) return value as Severity;
  if (value === 'page' || value === 'error' || value === 'fatal') return 'critical';
  if (value === 'warning' || value === 'warn') return 'medium';
  if (value === 'none' || value === 'debug') return 'info';
  return fallback;
}

export function createAlertRaiseActivities({ store }: AlertActivityDeps) {
  return {
    /** The incident row for a CMDB item (status `open`), once per key. */
    async raiseAlertIncident(input: {
      tenantId: string;
      tagId: string;
      title: string;
      description: string;
      severity: string | null;
      source: 'policy' | 'alert';
      idempotencyKey: string;
      createdBy: string;
    }): Promise<{ incidentId: string; number: number; severity: Severity; hostname: string }> {
      const item = await store.cmdb.get(input.tenantId, input.tagId);
      if (!item) throw ApplicationFailure.nonRetryable(`CMDB item '${input.tagId}' no longer exists`, FAILURE.TargetGone);
      const { incident } = await store.incidents.create(input.tenantId, {
        id: randomUUID(),
        title: input.title.slice(0, 200),
        description: input.description.slice(0, 4000),
        severity: incidentSeverity(input.severity),
        tagId: input.tagId,
        source: input.source,
        createdBy: input.createdBy,
        idempotencyKey: input.idempotencyKey,
      });
      return { incidentId: incident.id, number: incident.number, severity: incident.severity, hostname: item.hostname };
    },

    /** The automation row of a run_playbook action (status `queued`), once per key. */
    async createAlertAutomationRun(input: {
      tenantId: string;
      tagId: string;
      request: string;
      checkMode: boolean;
      idempotencyKey: string;
      createdBy: string;
    }): Promise<{ runId: string; number: number }> {
      const { run } = await store.automation.create(input.tenantId, {
        id: randomUUID(),
        request: input.request,
        targets: [input.tagId],
        checkMode: input.checkMode,
        createdBy: input.createdBy,
        idempotencyKey: input.idempotencyKey,
      });
      return { runId: run.id, number: run.number };
    },
  };
}
