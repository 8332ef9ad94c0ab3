import { describe, expect, it } from 'vitest';
import { loadRunbooks } from '../../adapters/knowledge/runbook-files.js';
import { classifyCommand, maxRisk, policyForItem, type CommandPolicy } from '../../core/command-policy.js';
import type { CmdbItem } from '../../core/incident.js';
import { baselineDiagnostics, planContextFor, planFromRunbook } from '../../core/planner.js';
import { SERVICE_MANAGERS } from '../../core/runbook.js';
import { cmdbItemFor } from '../../lab/cli.js';
import { LAB_CONFIG_PATH, LAB_DATA_PATH, LAB_LOG_PATH, LAB_SERVICE_PORT } from '../../lab/lab.js';

// Every bundled runbook, rendered by the planner for the CMDB items the lab registers (and the
// same item under each service manager): diagnostics, verification and guards must stay
// read-only, and every fix must keep the rating its runbook gives it once the policy knows the
// item's data and log paths (a low fix stays low, a high one high, none becomes forbidden).

const labItem = cmdbItemFor({
  name: 'lab1',
  address: '10.77.1.2',
  port: 22,
  service: 'labsvc',
  dataPath: LAB_DATA_PATH,
  logPath: LAB_LOG_PATH,
  configPath: LAB_CONFIG_PATH,
  servicePort: LAB_SERVICE_PORT,
});

/** Values a run captures from diagnostics or takes from the incident (no CMDB tag carries them). */
const captured = {
  pid: '4242',
  namespace: 'default',
  pod: 'web-7d4b9c-x2x9q',
  deployment: 'web',
  memoryLimit: '768Mi',
  lockId: '0b3c6d6e-1234-4abc-8def-0123456789ab',
  certFile: '/etc/labsvc/tls/server.pem',
  hostname: 'db.internal',
};

const items = SERVICE_MANAGERS.map((serviceManager) => ({ ...labItem, serviceManager }) as Pick<CmdbItem, 'serviceManager' | 'tags'>);

describe('command policy on the bundled runbooks, rendered for the lab', async () => {
  const runbooks = await loadRunbooks();
  const policy: CommandPolicy = policyForItem({}, labItem);

  it('derives the lab item data and log paths', () => {
    expect(policy.writablePaths).toEqual([LAB_DATA_PATH, LAB_LOG_PATH]);
  });

  it('rates diagnostics, verification and guards read-only, with and without the item paths', () => {
    let checked = 0;
    for (const item of items) {
      for (const runbook of runbooks) {
        const plan = planFromRunbook(runbook, planContextFor(item, captured));
        const commands = [...plan.diagnostics, ...plan.verification].map((c) => c.command);
        commands.push(...plan.fixes.map((f) => f.guard));
        for (const command of commands) {
          if (command === null) continue;
          expect([runbook.id, command, classifyCommand(command, policy).risk]).toEqual([runbook.id, command, 'read-only']);
          expect([runbook.id, command, classifyCommand(command).risk]).toEqual([runbook.id, command, 'read-only']);
          checked++;
        }
      }
      for (const baseline of baselineDiagnostics(item))
        expect([baseline.command, classifyCommand(baseline.command).risk]).toEqual([baseline.command, 'read-only']);
    }
    expect(checked).toBeGreaterThan(80);
  });

  it('keeps every fix at the rating its runbook gives it', () => {
    const seen: string[] = [];
    for (const item of items) {
      for (const runbook of runbooks) {
        const plan = planFromRunbook(runbook, planContextFor(item, captured));
        for (const fix of plan.fixes) {
          expect(fix.command, `${runbook.id}/${fix.id} renders`).not.toBeNull();
          expect(fix.unresolved).toEqual([]);
          const verdict = classifyCommand(fix.command!, policy);
          // As the remediation activity rates a fix: the riskier of the runbook's rating and the policy's.
          const effective = maxRisk(fix.risk, verdict.risk === 'read-only' ? 'low' : verdict.risk);
          expect([runbook.id, fix.command, effective, verdict.reasons]).toEqual([runbook.id, fix.command, fix.risk, verdict.reasons]);
          if (fix.rollback) expect([fix.rollback, classifyCommand(fix.rollback, policy).risk]).not.toContainEqual('forbidden');
          seen.push(`${runbook.id}:${fix.risk}`);
        }
      }
    }
    // The low fixes are the ones the lab runs without approval: they must be among them.
    expect(seen).toEqual(expect.arrayContaining(['disk-full:low', 'log-growth:low', 'service-down:low', 'time-drift:low']));
  });

  it('does not let a low fix write outside the item paths', () => {
    const other = planFromRunbook(
      runbooks.find((r) => r.id === 'disk-full')!,
      planContextFor({ ...labItem, tags: { dataPath: '/srv/other' } }, {}),
    );
    expect(classifyCommand(other.fixes[0]!.command!, policy).risk).toBe('high');
    const logs = planFromRunbook(
      runbooks.find((r) => r.id === 'log-growth')!,
      planContextFor({ ...labItem, tags: { logDir: '/var/log' } }, {}),
    );
    expect(classifyCommand(logs.fixes[0]!.command!, policy).risk).toBe('forbidden');
  });
});
