import { labTestProblems } from './prerequisites.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { planHashOf } from '../../activities/incident/analysis.js';
import { loadRunbooks } from '../../adapters/knowledge/runbook-files.js';
import { cmdbItemFor } from '../../lab/cli.js';
import { FAULT_SPECS, checkHost, resetHost, type FaultName } from '../../lab/faults.js';
import { execInHost, startCount, startLab, type Lab, type LabHost } from '../../lab/lab.js';
import { combineAnalyses, type CauseLink } from '../../core/planner.js';
import type { Runbook } from '../../core/runbook.js';
import { followCauseChain } from '../support/cause-chain.js';
import { ssh } from './ssh.js';

// Compound faults on real hosts, followed by hand: the incident's runbook's diagnostics over SSH,
// the planner names the runbook of the cause, its diagnostics over SSH, one combined plan; its
// actions (guard first, as the workflow runs them) and checks typed over SSH; then the lab's own
// check, not the product, says whether the host is healthy.

const problems = labTestProblems();
if (problems.length > 0) console.warn(`lab tests skipped: ${problems.join('; ')}`);

interface Step {
  kind: 'diagnostic' | 'guard' | 'fix' | 'verification';
  runbookId: string | null;
  id: string;
  command: string;
  code: number | null;
  output: string;
}

describe.skipIf(problems.length > 0)('compound faults on lab hosts, followed by hand', () => {
  let lab: Lab;
  let root: string;
  let runbooks: Runbook[];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'infraai-lab-compound-'));
    lab = await startLab({ hosts: 2, root });
    runbooks = await loadRunbooks();
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  }, 60_000);

  afterEach(async () => {
    await Promise.all(lab.hosts.map((h) => resetHost(h)));
  }, 60_000);

  /** The chain and its combined plan, run on the host; every command's step recorded. */
  async function remediateByHand(target: LabHost, first: string) {
    const steps: Step[] = [];
    const exec = async (kind: Step['kind'], runbookId: string | null, id: string, command: string) => {
      const result = await ssh(target, command, { keyPath: lab.clientKeyPath });
      const step = { kind, runbookId, id, command, code: result.code, output: `${result.stdout}${result.stderr}`.trim() };
      steps.push(step);
      return step;
    };
    const item = cmdbItemFor(target);
    const chain: CauseLink[] = await followCauseChain({
      runbooks,
      item,
      first,
      diagnose: async (runbookId, diagnostics) => {
        const outputs: Record<string, string> = {};
        for (const d of diagnostics) outputs[d.id] = (await exec('diagnostic', runbookId, d.id, d.command)).output;
        return outputs;
      },
    });
    const plan = combineAnalyses(chain, planHashOf);
    const outcomes: Record<string, 'applied' | 'already-in-place' | 'failed'> = {};
    for (const action of plan.actions) {
      if (action.guard && (await exec('guard', null, action.id, action.guard)).code === 0) {
        outcomes[action.id] = 'already-in-place';
        continue;
      }
      const fix = await exec('fix', null, action.id, action.command);
      outcomes[action.id] = fix.code === 0 ? 'applied' : 'failed';
      if (fix.code !== 0) break;
    }
    const failures: string[] = [];
    for (const check of plan.verification) {
      const step = await exec('verification', null, check.id, check.command);
      // As verifyRemediation matches: exit 0 and the expectation over the output (flags im).
      if (step.code !== 0 || !new RegExp(check.expect, 'im').test(step.output)) failures.push(`${check.id}: ${step.output}`);
    }
    const transcript = steps
      .map(
        (s) =>
          `[${s.kind} ${s.runbookId ?? ''} ${s.id}] $ ${s.command}\n  exit ${s.code}: ${s.output.split('\n').slice(0, 6).join('\n  ')}`,
      )
      .join('\n');
    return { chain, plan, steps, outcomes, failures, transcript };
  }

  const findingsOf = (chain: CauseLink[]) => Object.fromEntries(chain.map((l) => [l.runbookId, l.analysis.findings.map((f) => f.finding)]));

  async function injectAndExpectBroken(target: LabHost, fault: FaultName) {
    const spec = FAULT_SPECS[fault];
    const before = await spec.check(target);
    expect(before.healthy, before.detail).toBe(true);
    await spec.inject(target);
    const broken = await spec.check(target);
    expect(broken.healthy, broken.detail).toBe(false);
    return broken;
  }

  async function expectHealed(target: LabHost, fault: FaultName) {
    const healed = await FAULT_SPECS[fault].check(target);
    expect(healed.healthy, healed.detail).toBe(true);
    const host = await checkHost(target);
    expect(host.healthy, host.detail).toBe(true);
  }

  it('disk full because a log grew: disk-full finds the full log filesystem, log-growth cuts the log, both verify', async () => {
    const target = lab.hosts[0]!;
    const broken = await injectAndExpectBroken(target, 'disk-full-by-log');
    expect(broken.detail).toMatch(/\/var\/log\/labsvc at 9[5-9]%/);
    // The disk-full runbook alone (as before this change) has nothing to delete.
    expect((await execInHost(target, "find /var/lib/labsvc /var/log/labsvc -name '*.tmp' -o -name '*.dump'")).stdout.trim()).toBe('');

    const run = await remediateByHand(target, 'disk-full');
    console.log(`--- disk-full-by-log on ${target.name} ---\n${run.transcript}`);
    expect(
      run.chain.map((l) => l.runbookId),
      run.transcript,
    ).toEqual(['disk-full', 'log-growth']);
    expect(findingsOf(run.chain)).toEqual({ 'disk-full': ['log-filesystem-full'], 'log-growth': ['oversized-log', 'no-rotation'] });
    expect(run.chain[1]!.via).toMatchObject({
      fromRunbookId: 'disk-full',
      finding: 'log-filesystem-full',
      parameters: { logDir: '/var/log/labsvc' },
    });
    expect(run.plan.rootCause).toMatch(
      /^The filesystem holding the logs in \/var\/log\/labsvc is full\. Because: \[Log file growing without bound\] /,
    );
    expect(run.plan.actions.map((a) => [a.id, a.risk])).toEqual([['log-growth:truncate-oversized-logs', 'low']]);
    expect(run.outcomes).toEqual({ 'log-growth:truncate-oversized-logs': 'applied' });
    expect(run.failures, run.transcript).toEqual([]);
    expect(run.plan.verification.map((v) => v.id)).toEqual(['verify-1', 'verify-2', 'log-growth:verify-1']);
    await expectHealed(target, 'disk-full-by-log');
    // The last lines are kept beside the truncated log (log-growth's rollback note).
    expect((await execInHost(target, 'ls /var/log/labsvc')).stdout).toMatch(/debug\.log\.\d+\.tail\.gz/);
  });

  it('service down because its disk is full: service-down finds ENOSPC, disk-full removes the old files, then the service starts', async () => {
    const target = lab.hosts[1]!;
    const broken = await injectAndExpectBroken(target, 'service-down-by-disk-full');
    expect(broken.detail).toMatch(/FATAL/);
    const starts = await startCount(target);

    const run = await remediateByHand(target, 'service-down');
    console.log(`--- service-down-by-disk-full on ${target.name} ---\n${run.transcript}`);
    expect(
      run.chain.map((l) => l.runbookId),
      run.transcript,
    ).toEqual(['service-down', 'disk-full']);
    expect(findingsOf(run.chain)).toEqual({
      'service-down': ['service-stopped', 'no-space-left'],
      'disk-full': ['filesystem-full', 'disposable-files'],
    });
    expect(run.plan.actions.map((a) => [a.id, a.risk])).toEqual([
      ['disk-full:remove-disposable-files', 'low'],
      ['start-service', 'low'],
    ]);
    expect(run.outcomes).toEqual({ 'disk-full:remove-disposable-files': 'applied', 'start-service': 'applied' });
    expect(run.failures, run.transcript).toEqual([]);
    await expectHealed(target, 'service-down-by-disk-full');
    expect(await startCount(target)).toBe(starts + 1);
  });

  it('service down because an old instance never stopped: port-in-use stops it and starts the service; the start is then in place', async () => {
    const target = lab.hosts[0]!;
    const broken = await injectAndExpectBroken(target, 'service-down-by-old-instance');
    // The old copy answers /health: only the port's owner shows the fault.
    expect(broken.detail).toMatch(/port 8080 held by node \(pid (\d+)\); labsvc pid 0/);
    const oldPid = /held by node \(pid (\d+)\)/.exec(broken.detail)![1]!;
    const starts = await startCount(target);

    const run = await remediateByHand(target, 'service-down');
    console.log(`--- service-down-by-old-instance on ${target.name} ---\n${run.transcript}`);
    expect(
      run.chain.map((l) => l.runbookId),
      run.transcript,
    ).toEqual(['service-down', 'port-in-use']);
    expect(findingsOf(run.chain)).toEqual({
      'service-down': ['service-stopped', 'port-conflict'],
      'port-in-use': ['port-taken', 'service-stopped'],
    });
    expect(run.plan.actions.map((a) => [a.id, a.risk, a.command])).toEqual([
      ['port-in-use:stop-port-holder-and-start', 'high', `kill -TERM ${oldPid} ; sleep 2 ; supervisorctl start labsvc`],
      ['start-service', 'low', 'supervisorctl start labsvc'],
    ]);
    expect(run.outcomes).toEqual({ 'port-in-use:stop-port-holder-and-start': 'applied', 'start-service': 'already-in-place' });
    expect(run.failures, run.transcript).toEqual([]);
    await expectHealed(target, 'service-down-by-old-instance');
    expect(await startCount(target)).toBe(starts + 1);
    expect((await execInHost(target, `test -d /proc/${oldPid}`)).code).toBe(1);
  });

  it('a crash with an old ENOSPC line in its log: disk-full is followed, finds its cause absent, only the start runs', async () => {
    const target = lab.hosts[1]!;
    // What an earlier full disk leaves in stderr.log (supervisorctl tail shows it for as long as it is recent).
    await execInHost(
      target,
      "echo 'labsvc: cannot write /var/lib/labsvc/state.json: No space left on device (ENOSPC)' >> /var/log/labsvc/stderr.log",
    );
    await injectAndExpectBroken(target, 'service-crashed');
    const run = await remediateByHand(target, 'service-down');
    expect(
      run.chain.map((l) => l.runbookId),
      run.transcript,
    ).toEqual(['service-down', 'disk-full']);
    expect(findingsOf(run.chain)).toEqual({ 'service-down': ['service-stopped', 'no-space-left'], 'disk-full': [] });
    // No finding of disk-full: the chain's root cause is the symptom's alone.
    expect(run.plan.rootCause).not.toMatch(/Because/);
    expect(run.plan.actions.map((a) => a.id)).toEqual(['start-service']);
    expect(run.outcomes).toEqual({ 'start-service': 'applied' });
    expect(run.failures, run.transcript).toEqual([]);
    await expectHealed(target, 'service-crashed');
  });
});
