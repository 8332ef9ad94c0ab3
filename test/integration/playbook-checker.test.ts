import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { ONE_REQUEST_PER_TEMPLATE } from '../../bench/automation-requests.js';
import { createPlaybookChecker } from '../../adapters/playbook-checker/create.js';
import { PlaybookCheckerUnavailableError, PlaybookCheckTimeoutError } from '../../adapters/playbook-checker/port.js';
import type { AutomationArtifacts, AutomationHost } from '../../core/automation.js';
import { generateFromTemplates } from '../../core/automation/templates.js';

// The local playbook checker against Debian's real ansible-playbook (2.14) and ansible-lint (6.13):
// every template's output passes both; a broken or sloppy playbook gets findings tied to its tasks;
// the check runs in a clean environment and leaves no workspace behind. Off CI a machine without the
// tools skips this file (saying why); under CI=true the tools are installed by `npm ci` (scripts/
// setup.ts), so their absence fails instead.

const TOOLS = ['/usr/bin/ansible-playbook', '/usr/bin/ansible-lint'];
const missing = TOOLS.filter((path) => !existsSync(path));
if (missing.length > 0 && process.env.CI === 'true')
  throw new Error(`The playbook checker tests cannot run under CI: ${missing.join(', ')} missing`);
if (missing.length > 0)
  console.warn(`Skipping playbook-checker tests: ${missing.join(', ')} missing (apt-get install ansible ansible-lint)`);

const hosts: AutomationHost[] = [
  { tagId: 'web-01', hostname: 'web-01.lab', address: '10.77.0.11', port: 22, user: 'root', credential: 'lab-key' },
  { tagId: 'web-02', hostname: 'web-02.lab', address: '10.77.0.12', port: 22, user: 'deploy', credential: 'lab-key' },
];

function generated(request: string, firewall?: 'ufw' | 'firewalld'): AutomationArtifacts {
  const result = generateFromTemplates(request, hosts, { checkMode: false, ...(firewall ? { firewall } : {}) });
  if (!result.ok) throw new Error(`${request}: ${result.message}`);
  return result.artifacts;
}

const withPlaybook = (playbook: string): AutomationArtifacts => ({ ...generated('install nginx'), playbook });

async function leftoverWorkspaces(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('infraai-playbook-check-'));
}

/** Runs at most `limit` checks at once (the machine has two cores). */
async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) out.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  return out;
}

describe.skipIf(missing.length > 0)('local playbook checker (ansible-playbook --syntax-check, ansible-lint)', () => {
  const checker = createPlaybookChecker();
  const saved = { ...process.env };

  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('passes every template, a combined request and the firewalld variant', { timeout: 300_000 }, async () => {
    const requests: [string, 'ufw' | 'firewalld' | undefined][] = [
      ...Object.values(ONE_REQUEST_PER_TEMPLATE).map((r): [string, undefined] => [r, undefined]),
      ['install nginx and curl, make sure nginx runs and starts at boot, and open ports 80 and 443', undefined],
      ['open port 8443', 'firewalld'],
      // A content line longer than ansible-lint's 160 characters.
      [`write 'k=${'v'.repeat(300)} ${'w'.repeat(50)}\\nnext' to /etc/app/long.conf`, undefined],
    ];
    const results = await inBatches(requests, 2, async ([request, firewall]) => {
      const artifacts = generated(request, firewall);
      return { request, syntax: await checker.syntaxCheck(artifacts), lint: await checker.lint(artifacts) };
    });
    expect(results.filter((r) => r.syntax.length > 0 || r.lint.length > 0)).toEqual([]);
    expect(await leftoverWorkspaces()).toEqual([]);
  });

  it('reports a syntax error at its task', { timeout: 60_000 }, async () => {
    const playbook = [
      '---',
      '- name: Broken',
      '  hosts: all',
      '  tasks:',
      '    - name: Fine',
      '      ansible.builtin.ping:',
      '    - name: Two actions',
      '      ansible.builtin.ping:',
      '      ansible.builtin.debug:',
      '        msg: x',
      '',
    ].join('\n');
    expect(await checker.syntaxCheck(withPlaybook(playbook))).toEqual([
      {
        check: 'syntax-check',
        task: 'play[0].tasks[1] (Two actions)',
        message: expect.stringContaining('conflicting action statements') as string,
      },
    ]);
    const unknown = playbook
      .replace('ansible.builtin.debug:\n        msg: x', 'no.such.module: {}')
      .replace('      ansible.builtin.ping:\n      no', '      no');
    const findings = await checker.syntaxCheck(withPlaybook(unknown));
    expect(findings).toEqual([
      {
        check: 'syntax-check',
        task: 'play[0].tasks[1] (Two actions)',
        message: expect.stringContaining("couldn't resolve module/action 'no.such.module'") as string,
      },
    ]);
  });

  it('reports lint failures at their tasks; package-latest is only a warning', { timeout: 60_000 }, async () => {
    const playbook = [
      '---',
      '- name: Sloppy',
      '  hosts: all',
      '  tasks:',
      '    - name: Upgrade openssl',
      '      ansible.builtin.package:',
      '        name: openssl',
      '        state: latest',
      '    - shell: cat /etc/os-release | grep ID',
      '',
    ].join('\n');
    const findings = await checker.lint(withPlaybook(playbook));
    const rules = findings.map((f) => `${f.task} ${f.message.split(':')[0]}`);
    expect(rules).toEqual(
      expect.arrayContaining(['play[0].tasks[1] fqcn[action-core]', 'play[0].tasks[1] name[missing]', 'play[0].tasks[1] risky-shell-pipe']),
    );
    expect(findings.every((f) => f.check === 'ansible-lint')).toBe(true);
    expect(rules.some((r) => r.includes('package-latest'))).toBe(false);
  });

  it('runs in a clean environment: ANSIBLE_* settings of this process do not reach the tools', { timeout: 60_000 }, async () => {
    // Leaked into the tools, these would hide the Debian collections and fail the sysctl template.
    process.env.ANSIBLE_COLLECTIONS_PATH = '/nonexistent';
    process.env.ANSIBLE_COLLECTIONS_SCAN_SYS_PATH = 'false';
    expect(await checker.syntaxCheck(generated(ONE_REQUEST_PER_TEMPLATE.sysctl))).toEqual([]);
  });

  it('says when a tool is missing, and stops a tool past its time limit', { timeout: 60_000 }, async () => {
    const absent = createPlaybookChecker({ ansiblePlaybook: '/nonexistent/ansible-playbook' });
    await expect(absent.syntaxCheck(generated('install nginx'))).rejects.toBeInstanceOf(PlaybookCheckerUnavailableError);
    const hurried = createPlaybookChecker({ lintTimeoutMs: 100 });
    await expect(hurried.lint(generated('install nginx'))).rejects.toBeInstanceOf(PlaybookCheckTimeoutError);
    expect(await leftoverWorkspaces()).toEqual([]);
  });
});
