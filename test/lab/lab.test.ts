import { labTestProblems } from './prerequisites.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CmdbCreateSchema } from '../../api/schemas.js';
import { cmdbItemFor, labSummary } from '../../lab/cli.js';
import { FAULT_SPECS, checkHost, checkService, resetHost } from '../../lab/faults.js';
import { execInHost, startCount, startLab, type Lab, type LabHost } from '../../lab/lab.js';
import { fill, parameterValues, readRunbook, supervisorVariant } from './runbooks.js';
import { ssh } from './ssh.js';

// A lab of two real hosts (network + mount + PID namespaces, sshd, supervisord, labsvc) and, for
// each fault, the runbook a human would follow: inject → the lab's independent check says unhealthy
// → the runbook's supervisor-variant diagnostics, fix and verification typed over SSH → healthy.

const problems = labTestProblems();
if (problems.length > 0) console.warn(`lab tests skipped: ${problems.join('; ')}`);

let lab: Lab;
let root: string;

const host = (index: number): LabHost => lab.hosts[index - 1]!;
const onHost = (target: LabHost, command: string) => ssh(target, command, { keyPath: lab.clientKeyPath });

interface Step {
  kind: 'diagnostic' | 'guard' | 'fix' | 'verification';
  id: string;
  command: string;
  code: number | null;
  output: string;
}

interface RunbookRun {
  steps: Step[];
  findings: Set<string>;
  captured: Record<string, string>;
}

/** Follows a runbook by hand on a lab host: its supervisor-variant commands over SSH. */
async function followRunbook(target: LabHost, runbookId: string): Promise<RunbookRun> {
  const runbook = readRunbook(runbookId);
  const tags = cmdbItemFor(target).tags;
  const values = parameterValues(runbook, tags);
  const steps: Step[] = [];
  const exec = async (kind: Step['kind'], id: string, command: string): Promise<Step> => {
    const result = await onHost(target, command);
    const step = { kind, id, command, code: result.code, output: `${result.stdout}${result.stderr}`.trim() };
    steps.push(step);
    return step;
  };

  const findings = new Set<string>();
  const captured: Record<string, string> = {};
  for (const diagnostic of runbook.diagnostics) {
    const template = supervisorVariant(diagnostic.command);
    if (!template) continue;
    const step = await exec('diagnostic', diagnostic.id, fill(template, values));
    for (const signal of diagnostic.signals ?? []) {
      // As the product's planner matches signals: case-insensitive, multi-line.
      const found = new RegExp(signal.pattern, 'im').exec(step.output);
      if (signal.absent ? found : !found) continue;
      findings.add(signal.finding);
      for (const [name, value] of Object.entries(found?.groups ?? {})) if (value && !captured[name]) captured[name] = value;
    }
  }

  const withCaptured = { ...captured, ...values };
  for (const fix of runbook.fixes.filter((f) => f.when.some((finding) => findings.has(finding)))) {
    const guard = supervisorVariant(fix.guard);
    if (guard) {
      // A guard that already holds means there is nothing to fix.
      const check = await exec('guard', fix.id, fill(guard, withCaptured));
      if (check.code === 0) continue;
    }
    await exec('fix', fix.id, fill(supervisorVariant(fix.command)!, withCaptured));
  }

  for (const [i, verification] of runbook.verification.entries()) {
    await exec('verification', `verify-${i + 1}`, fill(supervisorVariant(verification.command)!, withCaptured));
  }
  return { steps, findings, captured };
}

function transcript(run: RunbookRun): string {
  return run.steps
    .map((s) => `[${s.kind} ${s.id}] $ ${s.command}\n  exit ${s.code}: ${s.output.split('\n').slice(0, 8).join('\n  ')}`)
    .join('\n');
}

describe.skipIf(problems.length > 0)('lab of real target hosts', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'infraai-lab-test-'));
    lab = await startLab({ hosts: 2, root });
    console.log(`lab: 2 hosts up in ${lab.startMs} ms`);
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  }, 60_000);

  it('serves every host over SSH as root with the lab key: supervisor shows labsvc RUNNING', async () => {
    for (const target of lab.hosts) {
      const status = await ssh(target, 'supervisorctl status labsvc', { keyPath: lab.clientKeyPath });
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/^labsvc\s+RUNNING\s+pid \d+/);
    }
    // The system client as in the brief, host keys unchecked.
    const plain = await onHost(host(1), 'hostname; id -un; supervisorctl status labsvc');
    expect(plain.stdout).toMatch(/^lab1\nroot\nlabsvc\s+RUNNING/);
    // The fingerprints startLab reports are the keys the hosts present: strict checking passes.
    const strict = await ssh(host(2), 'hostname', { keyPath: lab.clientKeyPath, knownHostsPath: lab.knownHostsPath });
    expect(strict.code, strict.stderr).toBe(0);
    expect(strict.stdout.trim()).toBe('lab2');
    expect(host(1).hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(host(1).hostKeyFingerprint).not.toBe(host(2).hostKeyFingerprint);
    // Key authentication only: no password prompt is offered.
    const password = await ssh(host(1), 'true', { keyPath: '/dev/null' });
    expect(password.code).toBe(255);
    expect(password.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('describes each host as the API expects and prints how to register it', () => {
    for (const target of lab.hosts) {
      expect(target).toMatchObject({
        port: 22,
        serviceManager: 'supervisor',
        service: 'labsvc',
        dataPath: '/var/lib/labsvc',
        servicePort: 8080,
      });
      expect(CmdbCreateSchema.safeParse(cmdbItemFor(target)).success).toBe(true);
    }
    expect(host(1).address).toBe('10.77.1.2');
    expect(lab.clientPrivateKey).toContain('BEGIN OPENSSH PRIVATE KEY');
    const summary = labSummary(lab);
    expect(summary).toContain(host(2).hostKeyFingerprint);
    expect(summary).toContain(lab.clientKeyPath);
    expect(summary).toContain('/api/v1/cmdb');
  });

  it('isolates the hosts: own data tmpfs, processes, hostname and supervisor', async () => {
    const marker = `isolation-${Date.now()}`;
    expect((await onHost(host(1), `echo ${marker} > /var/lib/labsvc/${marker}`)).code).toBe(0);
    expect((await onHost(host(1), `cat /var/lib/labsvc/${marker}`)).stdout.trim()).toBe(marker);
    expect((await onHost(host(2), `test -e /var/lib/labsvc/${marker}`)).code).toBe(1);
    await onHost(host(1), `rm -f /var/lib/labsvc/${marker}`);

    const df = await onHost(host(1), 'df -P /var/lib/labsvc /var/log/labsvc');
    expect(df.stdout).toMatch(/^tmpfs\s+16384\s.*\/var\/lib\/labsvc$/m);
    // The logs have a filesystem of their own, which this machine sees in the lab root too.
    expect(df.stdout).toMatch(/^tmpfs\s+163840\s.*\/var\/log\/labsvc$/m);
    const marker2 = `log-${Date.now()}`;
    expect((await onHost(host(1), `echo ${marker2} > /var/log/labsvc/${marker2}`)).code).toBe(0);
    expect((await readFile(join(host(1).dir, 'log', marker2), 'utf8')).trim()).toBe(marker2);
    await onHost(host(1), `rm -f /var/log/labsvc/${marker2}`);
    // Its own PID namespace: PID 1 is the host's init, and only its own processes are visible.
    expect((await onHost(host(1), 'ps -o comm= -p 1')).stdout.trim()).toBe('init');
    const ps = await onHost(host(2), 'ps -eo comm --no-headers');
    expect(ps.stdout).toContain('supervisord');
    expect(ps.stdout).not.toMatch(/vitest|temporal/);
  });

  afterEach(async () => {
    await Promise.all(lab.hosts.map((h) => resetHost(h)));
  }, 60_000);

  // `findings`: exactly what the runbook's diagnostics establish; `mayAlsoFind`: what depends on the
  // machine rather than the fault (the load average is the machine's, whatever the namespace).
  const cases: {
    fault: 'service-crashed' | 'disk-full' | 'runaway-cpu' | 'log-growth' | 'bad-config' | 'port-in-use';
    runbook: string;
    findings: string[];
    mayAlsoFind?: string[];
    fixes: string[];
    host: number;
  }[] = [
    { fault: 'service-crashed', runbook: 'service-down', findings: ['service-stopped'], fixes: ['start-service'], host: 1 },
    {
      fault: 'disk-full',
      runbook: 'disk-full',
      findings: ['filesystem-full', 'disposable-files'],
      fixes: ['remove-disposable-files'],
      host: 2,
    },
    { fault: 'runaway-cpu', runbook: 'runaway-cpu', findings: ['cpu-hog'], mayAlsoFind: ['high-load'], fixes: ['stop-cpu-hog'], host: 1 },
    { fault: 'log-growth', runbook: 'log-growth', findings: ['oversized-log', 'no-rotation'], fixes: ['truncate-oversized-logs'], host: 2 },
    {
      fault: 'bad-config',
      runbook: 'bad-config',
      findings: ['service-stopped', 'backup-available', 'config-present'],
      fixes: ['restore-config-backup'],
      host: 1,
    },
    {
      fault: 'port-in-use',
      runbook: 'port-in-use',
      findings: ['port-taken', 'service-stopped'],
      fixes: ['stop-port-holder-and-start'],
      host: 2,
    },
  ];

  for (const { fault, runbook, findings, mayAlsoFind = [], fixes: fixIds, host: index } of cases) {
    it(`${fault}: injected, found unhealthy, fixed by the ${runbook} runbook over SSH, healthy again`, async () => {
      const target = host(index);
      const spec = FAULT_SPECS[fault];
      expect((await spec.check(target)).healthy).toBe(true);
      const startsBefore = await startCount(target);

      await spec.inject(target);
      const broken = await spec.check(target);
      expect(broken.healthy, broken.detail).toBe(false);

      const run = await followRunbook(target, runbook);
      const log = transcript(run);
      console.log(`--- ${fault} on ${target.name} (${runbook}) ---\n${log}`);
      expect([...run.findings].filter((f) => !mayAlsoFind.includes(f)).sort(), log).toEqual([...findings].sort());
      const fixes = run.steps.filter((s) => s.kind === 'fix');
      expect(
        fixes.map((f) => f.id),
        log,
      ).toEqual(fixIds);
      for (const fix of fixes) expect(fix.code, `${fix.command}\n${fix.output}`).toBe(0);

      const verifications = run.steps.filter((s) => s.kind === 'verification');
      const expects = readRunbook(runbook).verification.map((v) => v.expect);
      expect(verifications, log).toHaveLength(expects.length);
      for (const [i, step] of verifications.entries()) {
        expect(step.code, `${step.command}\n${step.output}`).toBe(0);
        // `expect` is matched against the whole output without the m flag: for ps that is the top line.
        expect(step.output, step.command).toMatch(new RegExp(expects[i]!, 'i'));
      }

      const healed = await spec.check(target);
      expect(healed.healthy, healed.detail).toBe(true);

      const starts = (await startCount(target)) - startsBefore;
      if (fault === 'service-crashed' || fault === 'bad-config' || fault === 'port-in-use') expect(starts).toBe(1);
      else expect(starts).toBe(0);
    }, 120_000);
  }

  it('service-crashed: the fix counter counts each start, and a repeated fix starts nothing', async () => {
    const target = host(1);
    const before = await startCount(target);
    await FAULT_SPECS['service-crashed'].inject(target);
    expect((await onHost(target, 'supervisorctl start labsvc')).stdout).toMatch(/labsvc: started/);
    const again = await onHost(target, 'supervisorctl start labsvc');
    expect(again.stdout).toMatch(/already started/);
    expect(await startCount(target)).toBe(before + 1);
    expect((await checkService(target)).healthy).toBe(true);
  }, 60_000);

  it('unknown: a fault no runbook fixes (state file unreadable) is unhealthy while supervisor says RUNNING', async () => {
    const target = host(2);
    await FAULT_SPECS.unknown.inject(target);
    const broken = await FAULT_SPECS.unknown.check(target);
    expect(broken).toMatchObject({ healthy: false });
    expect(broken.detail).toMatch(/500 unhealthy: permission denied on \/var\/lib\/labsvc\/state\.json/);
    // The service-down runbook's diagnostics see a running service: nothing for it to fix.
    const run = await followRunbook(target, 'service-down');
    expect(run.findings).toContain('service-running');
    expect(run.findings).not.toContain('service-stopped');
    expect(run.steps.filter((s) => s.kind === 'fix')).toEqual([]);
    expect((await FAULT_SPECS.unknown.check(target)).healthy).toBe(false);
    await FAULT_SPECS.unknown.clear(target);
    expect((await FAULT_SPECS.unknown.check(target)).healthy).toBe(true);
  }, 60_000);

  it('ends with every host healthy and its logs in the lab root', async () => {
    for (const target of lab.hosts) {
      const health = await checkHost(target);
      expect(health.healthy, health.detail).toBe(true);
      const appLog = await readFile(join(target.dir, 'log', 'app.log'), 'utf8');
      expect(appLog).toMatch(/"GET \/health" 200/);
    }
    const inside = await execInHost(host(1), 'cat /etc/labsvc/labsvc.conf');
    expect(inside.stdout).toContain('port=8080');
  }, 60_000);
});
