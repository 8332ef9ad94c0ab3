import { beforeAll, describe, expect, it } from 'vitest';
import { planHashOf } from '../../activities/incident/analysis.js';
import { loadRunbooks, parseRunbook, RunbookFormatError } from '../../adapters/knowledge/runbook-files.js';
import {
  analyse,
  classify,
  combineAnalyses,
  MAX_CAUSE_DEPTH,
  nextFollowUp,
  planContextFor,
  planFollowUp,
  type CauseLink,
  type FollowUp,
} from '../../core/planner.js';
import { runbookReferenceProblems, type Runbook } from '../../core/runbook.js';
import { followCauseChain } from '../support/cause-chain.js';

// Compound faults: a finding whose cause another runbook covers. Outputs below are what the lab's
// hosts print (supervisor, a 16 MiB data tmpfs, a 160 MiB log filesystem).

let runbooks: Runbook[];
const byId = (id: string) => runbooks.find((r) => r.id === id)!;
const item = {
  serviceManager: 'supervisor',
  tags: {
    service: 'labsvc',
    dataPath: '/var/lib/labsvc',
    logDir: '/var/log/labsvc',
    servicePort: '8080',
    configFile: '/etc/labsvc/labsvc.conf',
  },
};
const context = planContextFor(item);

beforeAll(async () => {
  runbooks = await loadRunbooks();
});

const DF_HEADER = 'Filesystem     1024-blocks   Used Available Capacity Mounted on';
const df = (used: number, size: number, mount: string) =>
  `${DF_HEADER}\ntmpfs              ${size}  ${used}     ${size - used}      ${Math.ceil((used / size) * 100)}% ${mount}`;

const OUTPUTS = {
  serviceDownNoSpace: {
    'service-status': 'labsvc                           FATAL     Exited too quickly (process log may have details)',
    'recent-logs': 'labsvc: cannot write /var/lib/labsvc/state.json: No space left on device (ENOSPC)\n',
  },
  serviceDownPortTaken: {
    'service-status': 'labsvc                           FATAL     Exited too quickly (process log may have details)',
    'recent-logs': 'labsvc: listen tcp 0.0.0.0:8080: bind: address already in use (EADDRINUSE)\n',
  },
  dataDiskFullOfTmp: {
    'filesystem-usage': df(16384, 16384, '/var/lib/labsvc'),
    'inode-usage': 'Filesystem Inodes IUsed IFree IUse% Mounted on\ntmpfs 3055404 520 3054884 1% /var/lib/labsvc',
    'largest-entries': '1.0M\t/var/lib/labsvc/batch-0.tmp\n1.0M\t/var/lib/labsvc/batch-2.dump\n16M\t/var/lib/labsvc',
    'log-filesystem-usage': df(2048, 163840, '/var/log/labsvc'),
  },
  logDiskFull: {
    'filesystem-usage': df(40, 16384, '/var/lib/labsvc'),
    'inode-usage': 'Filesystem Inodes IUsed IFree IUse% Mounted on\ntmpfs 3055404 3 3055401 1% /var/lib/labsvc',
    'largest-entries': '4.0K\t/var/lib/labsvc/state.json\n8.0K\t/var/lib/labsvc',
    'log-filesystem-usage': df(158900, 163840, '/var/log/labsvc'),
  },
  oversizedLog: { 'large-logs': '162529280 /var/log/labsvc/debug.log\n', 'logrotate-config': '' },
  portTaken: {
    'port-owner': 'LISTEN 0      511          0.0.0.0:8080      0.0.0.0:*    users:(("node",pid=812,fd=21))',
    'service-status': 'labsvc                           FATAL     Exited too quickly (process log may have details)',
  },
};

/** Follows a chain as the workflow will, over recorded output per runbook. */
const followChain = (first: string, outputs: Record<string, Record<string, string>>, maxDepth = MAX_CAUSE_DEPTH) =>
  followCauseChain({ runbooks, item, first, maxDepth, diagnose: async (runbookId) => outputs[runbookId] ?? {} });

describe('cause declarations', () => {
  it('name runbooks that exist, of the same kind; the loader refuses an unknown or self-naming cause', () => {
    expect(runbookReferenceProblems(runbooks)).toEqual([]);
    const causes = runbooks.flatMap((r) =>
      r.diagnostics.flatMap((d) => d.signals.filter((s) => s.cause).map((s) => `${r.id}/${s.finding} → ${s.cause}`)),
    );
    expect(causes.sort()).toEqual([
      'disk-full/log-filesystem-full → log-growth',
      'service-down/no-space-left → disk-full',
      'service-down/port-conflict → port-in-use',
    ]);

    const demo = (cause: string, pattern = 'x') => `---
id: demo
title: Demo runbook
kind: host
patterns: ["demo"]
keywords: [demo]
diagnostics:
  - { id: d1, description: d, command: { any: "uptime" }, signals: [{ pattern: "${pattern}", finding: f1, cause: ${cause} }] }
hypotheses: [{ finding: f1, rootCause: "because" }]
verification: [{ description: v, command: { any: "true" }, expect: "ok" }]
rollback: nothing
---
body`;
    // The front matter takes a kebab-case id only.
    expect(() => parseRunbook(demo('"Disk Full"'), 'bad.md')).toThrow(RunbookFormatError);
    const check = (cause: string, pattern?: string) =>
      runbookReferenceProblems([...runbooks, parseRunbook(demo(cause, pattern), 'demo.md')]);
    expect(check('disk-full')).toEqual([]);
    expect(check('disk-ful')).toEqual([`demo.md: finding 'f1' of diagnostic 'd1' names unknown cause runbook 'disk-ful'`]);
    expect(check('demo')).toEqual([`demo.md: finding 'f1' of diagnostic 'd1' names its own runbook as its cause`]);
    expect(check('oomkilled')).toEqual([
      `demo.md: finding 'f1' of diagnostic 'd1' names a kubernetes runbook ('oomkilled') as the cause of a host finding`,
    ]);
    expect(check('disk-full', '(?<pid>\\\\d+)')).toEqual([
      `demo.md: finding 'f1' of diagnostic 'd1' captures {pid}, which its cause runbook 'disk-full' does not declare`,
    ]);
    expect(check('disk-full', '(?<path>/\\\\S+)')).toEqual([]);
  });

  it('stop loadRunbooks on an unknown cause', async () => {
    const { mkdtemp, writeFile, copyFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { RUNBOOKS_DIR } = await import('../../adapters/knowledge/runbook-files.js');
    const dir = await mkdtemp(join(tmpdir(), 'runbooks-'));
    try {
      await copyFile(join(RUNBOOKS_DIR, 'disk-full.md'), join(dir, 'disk-full.md'));
      // log-growth, the cause disk-full names, is not in this directory.
      await expect(loadRunbooks(dir)).rejects.toThrow(/disk-full\.md: finding 'log-filesystem-full' .* unknown cause runbook 'log-growth'/);
      await copyFile(join(RUNBOOKS_DIR, 'log-growth.md'), join(dir, 'log-growth.md'));
      expect((await loadRunbooks(dir)).map((r) => r.id)).toEqual(['disk-full', 'log-growth']);
      await writeFile(join(dir, 'README.md'), '# not a runbook');
      expect(await loadRunbooks(dir)).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('follow-ups from diagnostic output', () => {
  it('a service down on ENOSPC names disk-full; a port conflict names port-in-use; a plain crash names none', () => {
    const noSpace = analyse(byId('service-down'), OUTPUTS.serviceDownNoSpace, context, runbooks);
    expect(noSpace.findings.map((f) => f.finding)).toEqual(['service-stopped', 'no-space-left']);
    expect(noSpace.followUps).toEqual([
      {
        runbookId: 'disk-full',
        parameters: {},
        fromRunbookId: 'service-down',
        finding: 'no-space-left',
        because: 'no-space-left (recent-logs): labsvc: cannot write /var/lib/labsvc/state.json: No space left on device (ENOSPC)',
      },
    ]);
    // Its own fix is still proposed: it runs after the cause's.
    expect(noSpace.fixes.map((f) => f.id)).toEqual(['start-service']);

    const port = analyse(byId('service-down'), OUTPUTS.serviceDownPortTaken, context, runbooks);
    // The service name travels (both runbooks read it from the `service` tag).
    expect(port.followUps).toEqual([expect.objectContaining({ runbookId: 'port-in-use', parameters: { service: 'labsvc' } })]);

    const crashed = analyse(
      byId('service-down'),
      { 'service-status': 'labsvc EXITED Nov 24 10:01 AM', 'recent-logs': '' },
      context,
      runbooks,
    );
    expect(crashed.followUps).toEqual([]);
  });

  it('a full log filesystem names log-growth with the log directory; a full data disk of tmp files names nothing', () => {
    const logs = analyse(byId('disk-full'), OUTPUTS.logDiskFull, context, runbooks);
    expect(logs.findings.map((f) => f.finding)).toEqual(['log-filesystem-full']);
    expect(logs.fixes).toEqual([]);
    expect(logs.followUps).toEqual([
      expect.objectContaining({
        runbookId: 'log-growth',
        parameters: { logDir: '/var/log/labsvc' },
        because: expect.stringMatching(/^log-filesystem-full \(log-filesystem-usage\): tmpfs .* 97% \/var\/log\/labsvc$/),
      }),
    ]);
    const data = analyse(byId('disk-full'), OUTPUTS.dataDiskFullOfTmp, context, runbooks);
    expect(data.findings.map((f) => f.finding)).toEqual(['filesystem-full', 'disposable-files']);
    expect(data.followUps).toEqual([]);
  });

  it('carries only declared, shared values: never a PID captured for another runbook’s fix', () => {
    // Without a CMDB tag the service comes from the incident text, and still reaches port-in-use.
    const bare = planContextFor({ serviceManager: 'systemd', tags: {} }, { service: 'nginx' });
    const port = analyse(
      byId('service-down'),
      { 'recent-logs': 'bind() to 0.0.0.0:80 failed (98: Address already in use)' },
      bare,
      runbooks,
    );
    expect(port.followUps[0]?.parameters).toEqual({ service: 'nginx' });
    expect(planFollowUp(byId('port-in-use'), { serviceManager: 'systemd', tags: {} }, port.followUps[0]!)).toMatchObject({
      parameters: { service: 'nginx' },
      diagnostics: [{ id: 'service-status', command: 'systemctl status nginx --no-pager --lines=20' }],
      refused: [{ id: 'port-owner', command: 'ss -ltnpH sport = :{port}', reason: 'no value for port' }],
    });
    // runaway-cpu captures a pid; port-in-use takes one: no cause links them, and if one did the pid would stay behind.
    const cpu = analyse(
      byId('runaway-cpu'),
      { 'top-processes': '  PID  PPID USER %CPU ELAPSED COMMAND\n 4242     1 app  99.0    60 burn' },
      context,
      runbooks,
    );
    expect(cpu.parameters.pid).toBe('4242');
    expect(cpu.followUps).toEqual([]);
    // Without the catalogue a follow-up is still named, carrying nothing.
    expect(analyse(byId('service-down'), OUTPUTS.serviceDownPortTaken, context).followUps[0]?.parameters).toEqual({});
  });

  it('an incident about a full filesystem classifies as disk-full, not log-growth (the chain finds the log)', () => {
    expect(classify('Filesystem at 97% on lab1\nWrites failing: No space left on device', runbooks)[0]?.runbookId).toBe('disk-full');
    expect(classify('labsvc is down on lab1\nhealth check failing: connection refused', runbooks)[0]?.runbookId).toBe('service-down');
    // The texts test/lab/compound-remediation.test.ts raises: each must reach the symptom's runbook.
    expect(classify('labsvc is down on lab1\nsupervisor reports labsvc FATAL', runbooks)[0]?.runbookId).toBe('service-down');
  });
});

describe('cause chains', () => {
  it('plans a follow-up’s diagnostics with the CMDB item and the carried values', () => {
    const plan = planFollowUp(byId('log-growth'), item, { parameters: { logDir: '/var/log/labsvc' } });
    expect(plan).toEqual({
      runbookId: 'log-growth',
      runbookTitle: 'Log file growing without bound',
      parameters: { logDir: '/var/log/labsvc' },
      diagnostics: [
        {
          id: 'large-logs',
          command: "find /var/log/labsvc -xdev -type f -size +100M -printf '%s %p\\n'",
          description: 'Log files over 100 MB.',
        },
        {
          id: 'logrotate-config',
          command: 'grep -rl /var/log/labsvc /etc/logrotate.conf /etc/logrotate.d',
          description: 'Whether logrotate covers the directory.',
        },
      ],
      refused: [],
    });
    // The CMDB item's tag wins over a carried value, as for the incident's own runbook.
    expect(planFollowUp(byId('log-growth'), item, { parameters: { logDir: '/etc' } }).parameters).toEqual({ logDir: '/var/log/labsvc' });
  });

  it('disk full because a log grew: the log is cut first, both runbooks verify, no approval needed', async () => {
    const chain = await followChain('disk-full', { 'disk-full': OUTPUTS.logDiskFull, 'log-growth': OUTPUTS.oversizedLog });
    expect(chain.map((l) => [l.runbookId, l.depth])).toEqual([
      ['disk-full', 0],
      ['log-growth', 1],
    ]);
    const combined = combineAnalyses(chain, planHashOf);
    expect(combined.rootCause).toBe(
      'The filesystem holding the logs in /var/log/labsvc is full. Because: [Log file growing without bound] A log file under /var/log/labsvc has grown past 100 MB. And: No logrotate rule covers /var/log/labsvc.',
    );
    expect(combined.actions.map((a) => [a.id, a.risk])).toEqual([['log-growth:truncate-oversized-logs', 'low']]);
    expect(combined.actions[0]!.command).toMatch(/^find \/var\/log\/labsvc -xdev -type f -size \+100M -exec sh -c /);
    expect(combined.verification.map((v) => [v.id, v.command])).toEqual([
      ['verify-1', 'df -P /var/lib/labsvc'],
      ['verify-2', 'df -P /var/log/labsvc'],
      ['log-growth:verify-1', "find /var/log/labsvc -xdev -type f -size +100M -printf '%p\\n' | wc -l"],
    ]);
    expect(combined.findings.map((f) => `${f.runbookId}/${f.finding}`)).toEqual([
      'disk-full/log-filesystem-full',
      'log-growth/oversized-log',
      'log-growth/no-rotation',
    ]);
    expect(combined.chain).toEqual([
      { runbookId: 'disk-full', title: 'Filesystem or directory full', depth: 0, because: null },
      { runbookId: 'log-growth', title: 'Log file growing without bound', depth: 1, because: chain[1]!.via!.because },
    ]);
    expect(combined.planHash).toBe(planHashOf(combined.actions));
    expect(combined.followUps).toEqual([]);
  });

  it('service down because its disk is full: disposable files go first, then the service starts', async () => {
    const chain = await followChain('service-down', { 'service-down': OUTPUTS.serviceDownNoSpace, 'disk-full': OUTPUTS.dataDiskFullOfTmp });
    const combined = combineAnalyses(chain, planHashOf);
    expect(combined.actions.map((a) => a.id)).toEqual(['disk-full:remove-disposable-files', 'start-service']);
    expect(combined.actions.map((a) => a.command)).toEqual([
      expect.stringMatching(/^find \/var\/lib\/labsvc -xdev -type f .* -delete$/),
      'supervisorctl start labsvc',
    ]);
    expect(combined.actions.every((a) => a.risk === 'low')).toBe(true);
    expect(combined.rootCause).toMatch(
      /^The service process is not running .* And: The service failed writing to a full disk \(no space left on device\)\. Because: \[Filesystem or directory full\] The filesystem holding \/var\/lib\/labsvc has no free space left\. And: Temporary, cache or dump files fill the filesystem\.$/,
    );
    expect(combined.verification.map((v) => v.command)).toEqual([
      'supervisorctl status labsvc',
      'df -P /var/lib/labsvc',
      'df -P /var/log/labsvc',
    ]);
  });

  it('service down because an old instance holds the port: the high-risk stop needs approval, the start is guarded', async () => {
    const chain = await followChain('service-down', { 'service-down': OUTPUTS.serviceDownPortTaken, 'port-in-use': OUTPUTS.portTaken });
    const combined = combineAnalyses(chain, planHashOf);
    expect(combined.actions.map((a) => [a.id, a.risk, a.command, a.guard])).toEqual([
      [
        'port-in-use:stop-port-holder-and-start',
        'high',
        'kill -TERM 812 ; sleep 2 ; supervisorctl start labsvc',
        'supervisorctl status labsvc | grep -q RUNNING',
      ],
      ['start-service', 'low', 'supervisorctl start labsvc', 'supervisorctl status labsvc | grep -q RUNNING'],
    ]);
    // One high-risk action puts the whole plan behind approval (the workflow's rule, unchanged).
    expect(combined.actions.every((a) => a.risk === 'low')).toBe(false);
    // The verification both runbooks share runs once.
    expect(combined.verification.map((v) => v.command)).toEqual(['supervisorctl status labsvc']);
  });

  it('follows at most MAX_CAUSE_DEPTH causes deep and records what it did not follow', async () => {
    expect(MAX_CAUSE_DEPTH).toBe(2);
    // Service down ← disk full ← log grew: depth 2, all three runbooks.
    const outputs = {
      'service-down': OUTPUTS.serviceDownNoSpace,
      'disk-full': OUTPUTS.logDiskFull,
      'log-growth': OUTPUTS.oversizedLog,
    };
    const full = await followChain('service-down', outputs);
    expect(full.map((l) => [l.runbookId, l.depth])).toEqual([
      ['service-down', 0],
      ['disk-full', 1],
      ['log-growth', 2],
    ]);
    const combined = combineAnalyses(full, planHashOf);
    expect(combined.actions.map((a) => a.id)).toEqual(['log-growth:truncate-oversized-logs', 'start-service']);
    expect(combined.rootCause?.split(' Because: ')).toHaveLength(3);

    const shallow = await followChain('service-down', outputs, 1);
    expect(shallow.map((l) => l.runbookId)).toEqual(['service-down', 'disk-full']);
    const cut = combineAnalyses(shallow, planHashOf, 1);
    expect(cut.findings.filter((f) => f.finding === 'cause-not-followed')).toEqual([
      {
        finding: 'cause-not-followed',
        diagnostic: 'log-filesystem-full',
        evidence: 'log-growth covers the cause of log-filesystem-full, not followed: the chain stops at depth 1',
        runbookId: 'disk-full',
      },
    ]);
    // Nothing fixes the log there: only the (guarded) start remains, and it will not hold.
    expect(cut.actions.map((a) => a.id)).toEqual(['start-service']);
    expect((await followChain('service-down', outputs, 0)).map((l) => l.runbookId)).toEqual(['service-down']);
  });

  it('never visits a runbook twice: a cycle ends at its first repetition', () => {
    const followUp = (from: string, to: string): FollowUp => ({
      runbookId: to,
      parameters: {},
      fromRunbookId: from,
      finding: 'f',
      because: 'b',
    });
    const link = (runbookId: string, depth: number, followUps: FollowUp[]): CauseLink => ({
      runbookId,
      title: runbookId,
      depth,
      via: null,
      analysis: { findings: [], rootCause: null, actions: [], refused: [], planHash: null, verification: [], rollback: null, followUps },
    });
    const chain = [
      link('disk-full', 0, [followUp('disk-full', 'log-growth')]),
      link('log-growth', 1, [followUp('log-growth', 'disk-full')]),
    ];
    chain[1]!.via = chain[0]!.analysis.followUps![0]!;
    expect(nextFollowUp(chain)).toBeNull();
    expect(combineAnalyses(chain, planHashOf).findings).toEqual([
      {
        finding: 'cause-not-followed',
        diagnostic: 'f',
        evidence: 'disk-full covers the cause of f, not followed: its runbook is already in the chain',
        runbookId: 'log-growth',
      },
    ]);
    // A runbook naming two causes: both are followed, the first first, at the same depth.
    const two = [link('service-down', 0, [followUp('service-down', 'port-in-use'), followUp('service-down', 'disk-full')])];
    expect(nextFollowUp(two)).toEqual({ followUp: two[0]!.analysis.followUps![0], depth: 1 });
    two.push(link('port-in-use', 1, []));
    expect(nextFollowUp(two)).toEqual({ followUp: two[0]!.analysis.followUps![1], depth: 1 });
    two.push(link('disk-full', 1, []));
    expect(nextFollowUp(two)).toBeNull();
  });

  it('binds approval to every action of the chain, runs a change named twice once, keeps a single runbook as it was', async () => {
    const chain = await followChain('service-down', { 'service-down': OUTPUTS.serviceDownPortTaken, 'port-in-use': OUTPUTS.portTaken });
    const combined = combineAnalyses(chain, planHashOf);
    // The hash changes with any action of any link.
    const tampered = structuredClone(chain);
    tampered[1]!.analysis.actions[0]!.command = 'kill -TERM 1 ; sleep 2 ; supervisorctl start labsvc';
    expect(combineAnalyses(tampered, planHashOf).planHash).not.toBe(combined.planHash);
    const guardChanged = structuredClone(chain);
    guardChanged[0]!.analysis.actions[0]!.guard = null;
    expect(combineAnalyses(guardChanged, planHashOf).planHash).not.toBe(combined.planHash);

    // The same change proposed by two runbooks runs once, at the cause's place.
    const twice = structuredClone(chain);
    twice[0]!.analysis.actions.push({ ...twice[1]!.analysis.actions[0]! });
    expect(combineAnalyses(twice, planHashOf).actions.map((a) => a.id)).toEqual([
      'port-in-use:stop-port-holder-and-start',
      'start-service',
    ]);

    // A chain of one is the runbook's own analysis.
    const single = await followChain('service-down', {
      'service-down': { 'service-status': 'labsvc EXITED Nov 24 10:01 AM', 'recent-logs': '' },
    });
    expect(single).toHaveLength(1);
    const alone = combineAnalyses(single, planHashOf);
    const { followUps: _f, ...own } = single[0]!.analysis;
    expect({ ...alone, findings: alone.findings.map(({ runbookId: _r, ...f }) => f) }).toEqual({
      ...own,
      followUps: [],
      chain: [{ runbookId: 'service-down', title: 'Service down (process crashed or stopped)', depth: 0, because: null }],
    });

    // Nothing to do anywhere: no plan to approve.
    const nothing = await followChain('disk-full', {
      'disk-full': OUTPUTS.logDiskFull,
      'log-growth': { 'large-logs': '', 'logrotate-config': '/etc/logrotate.d/labsvc' },
    });
    const empty = combineAnalyses(nothing, planHashOf);
    expect(empty.actions).toEqual([]);
    expect(empty.planHash).toBeNull();
    expect(empty.rootCause).toBe('The filesystem holding the logs in /var/log/labsvc is full.');
  });
});
