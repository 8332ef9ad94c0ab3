import type { AutomationHost } from '../core/automation.js';
import type { TemplateId, TemplateIntent } from '../core/automation/template-ids.js';
import { generateFromTemplates, type TemplateGenerationResult } from '../core/automation/templates.js';

// Natural-language automation requests with the template(s) and parameters each must become, scored
// by the share understood exactly (test/unit/automation-requests.test.ts holds the set at 100%;
// `npm run bench:automation` prints the score). A case expecting `refused` must fail with a message.
// HARDER_AUTOMATION_REQUESTS are phrasings the templates may miss: scored apart, never asserted.

export interface AutomationRequestCase {
  request: string;
  /** The intents in order, or `refused` for a request the templates must not turn into a playbook. */
  expect: TemplateIntent[] | 'refused';
  firewall?: 'ufw' | 'firewalld';
}

export const BENCH_HOSTS: AutomationHost[] = [
  { tagId: 'web-01', hostname: 'web-01.lab', address: '10.77.0.11', port: 22, user: 'root', credential: 'lab-key' },
  { tagId: 'web-02', hostname: 'web-02.lab', address: '10.77.0.12', port: 22, user: 'deploy', credential: 'lab-key' },
];

const pkg = (template: 'package-present' | 'package-absent' | 'package-latest', packages: string): TemplateIntent => ({
  template,
  params: { packages },
});
const svc = (state: 'running' | 'stopped' | 'restarted' | 'reloaded' | 'enabled' | 'disabled', service: string): TemplateIntent => ({
  template: `service-${state}`,
  params: { service },
});
const port = (n: number, protocol = 'tcp', firewall = 'ufw'): TemplateIntent => ({
  template: 'firewall-port',
  params: { port: String(n), protocol, firewall },
});

export const AUTOMATION_REQUESTS: AutomationRequestCase[] = [
  // Packages
  { request: 'install nginx', expect: [pkg('package-present', 'nginx')] },
  { request: 'Please add the htop package', expect: [pkg('package-present', 'htop')] },
  { request: 'ensure curl is present', expect: [pkg('package-present', 'curl')] },
  { request: 'install nginx, curl and git', expect: [pkg('package-present', 'nginx,curl,git')] },
  { request: 'uninstall telnet', expect: [pkg('package-absent', 'telnet')] },
  { request: 'remove the apache2 package', expect: [pkg('package-absent', 'apache2')] },
  { request: 'purge rsh-client', expect: [pkg('package-absent', 'rsh-client')] },
  { request: 'make sure ftp is not installed', expect: [pkg('package-absent', 'ftp')] },
  { request: 'upgrade openssl to the latest version', expect: [pkg('package-latest', 'openssl')] },
  // Services
  { request: 'start nginx', expect: [svc('running', 'nginx')] },
  { request: 'make sure the cron service is running', expect: [svc('running', 'cron')] },
  { request: 'stop the cups service', expect: [svc('stopped', 'cups')] },
  { request: 'restart php8.2-fpm', expect: [svc('restarted', 'php8.2-fpm')] },
  { request: 'bounce redis-server', expect: [svc('restarted', 'redis-server')] },
  { request: 'reload nginx', expect: [svc('reloaded', 'nginx')] },
  { request: 'enable chrony at boot', expect: [svc('enabled', 'chrony')] },
  { request: 'make sure rsyslog starts on boot', expect: [svc('enabled', 'rsyslog')] },
  { request: 'disable bluetooth', expect: [svc('disabled', 'bluetooth')] },
  // Combined
  { request: 'install nginx and make sure it runs', expect: [pkg('package-present', 'nginx'), svc('running', 'nginx')] },
  { request: 'install and start haproxy', expect: [pkg('package-present', 'haproxy'), svc('running', 'haproxy')] },
  { request: 'make sure nginx is installed and running', expect: [pkg('package-present', 'nginx'), svc('running', 'nginx')] },
  {
    request: 'install redis-server, then enable it at boot and restart it',
    expect: [pkg('package-present', 'redis-server'), svc('enabled', 'redis-server'), svc('restarted', 'redis-server')],
  },
  {
    request: 'remove apache2 and install nginx on web-01 and web-02',
    expect: [pkg('package-absent', 'apache2'), pkg('package-present', 'nginx')],
  },
  { request: 'stop and disable cups', expect: [svc('stopped', 'cups'), svc('disabled', 'cups')] },
  // Files
  {
    request: 'write "Authorised use only" to /etc/motd',
    expect: [{ template: 'file-content', params: { path: '/etc/motd', content: 'Authorised use only\n', mode: '0644' } }],
  },
  {
    request: "deploy a file /etc/myapp/app.conf with content 'port=8080\\nworkers=4' owned by myapp mode 0640",
    expect: [
      {
        template: 'file-content',
        params: { path: '/etc/myapp/app.conf', content: 'port=8080\nworkers=4\n', owner: 'myapp', mode: '0640' },
      },
    ],
  },
  {
    request: 'create the file /srv/app/VERSION containing "1.4.2" owned by deploy:deploy',
    expect: [
      {
        template: 'file-content',
        params: { path: '/srv/app/VERSION', content: '1.4.2\n', owner: 'deploy', group: 'deploy', mode: '0644' },
      },
    ],
  },
  {
    request: "render a template to /etc/myapp/node.conf with content 'node={{ inventory_hostname }}'",
    expect: [
      { template: 'file-template', params: { path: '/etc/myapp/node.conf', content: 'node={{ inventory_hostname }}\n', mode: '0644' } },
    ],
  },
  {
    request: 'delete the file /tmp/old-release.tar.gz',
    expect: [{ template: 'file-absent', params: { path: '/tmp/old-release.tar.gz' } }],
  },
  // Users and groups
  { request: 'create user alice', expect: [{ template: 'user-present', params: { user: 'alice' } }] },
  {
    request: 'add a user called bob to the developers and ops groups with shell /bin/bash',
    expect: [{ template: 'user-present', params: { user: 'bob', groups: 'developers,ops', shell: '/bin/bash' } }],
  },
  { request: 'remove the user mallory', expect: [{ template: 'user-absent', params: { user: 'mallory' } }] },
  { request: 'create a group named webteam', expect: [{ template: 'group-present', params: { group: 'webteam' } }] },
  { request: 'delete group legacy', expect: [{ template: 'group-absent', params: { group: 'legacy' } }] },
  // Log rotation
  {
    request: 'rotate /var/log/myapp/*.log daily and keep 14',
    expect: [{ template: 'logrotate', params: { path: '/var/log/myapp/*.log', frequency: 'daily', rotate: '14', compress: 'true' } }],
  },
  {
    request: 'set up weekly log rotation for /var/log/worker.log, keep 4 copies, without compression',
    expect: [{ template: 'logrotate', params: { path: '/var/log/worker.log', frequency: 'weekly', rotate: '4', compress: 'false' } }],
  },
  // sysctl
  { request: 'set vm.swappiness to 10', expect: [{ template: 'sysctl', params: { key: 'vm.swappiness', value: '10' } }] },
  { request: 'sysctl net.core.somaxconn=4096', expect: [{ template: 'sysctl', params: { key: 'net.core.somaxconn', value: '4096' } }] },
  {
    request: 'enable ip forwarding by setting net.ipv4.ip_forward to 1',
    expect: [{ template: 'sysctl', params: { key: 'net.ipv4.ip_forward', value: '1' } }],
  },
  // Firewall
  { request: 'open port 443', expect: [port(443)] },
  { request: 'allow 53/udp through the firewall', expect: [port(53, 'udp')] },
  { request: 'open ports 80 and 443 with firewalld', expect: [port(80, 'tcp', 'firewalld'), port(443, 'tcp', 'firewalld')] },
  { request: 'open port 8080', firewall: 'firewalld', expect: [port(8080, 'tcp', 'firewalld')] },
  { request: 'install nginx, start it and open port 80', expect: [pkg('package-present', 'nginx'), svc('running', 'nginx'), port(80)] },
  // Refused or not understood
  { request: 'reboot the server', expect: 'refused' },
  { request: 'install nginx on db-01', expect: 'refused' },
  { request: 'install nginx; rm -rf /', expect: 'refused' },
  { request: 'stop sshd', expect: 'refused' },
  { request: 'add user eve to the sudo group', expect: 'refused' },
  { request: "write \"{{ lookup('pipe', 'id') }}\" to /etc/motd", expect: 'refused' },
  { request: 'set kernel.core_pattern to |/tmp/x', expect: 'refused' },
  { request: 'deploy a file /etc/../etc/shadow with content "x"', expect: 'refused' },
  { request: 'install "nginx\nhosts: all"', expect: 'refused' },
  { request: 'close port 23', expect: 'refused' },
  { request: 'install nginx on all hosts except web-02', expect: 'refused' },
];

/** One request per template id, so every template is produced and checked (syntax check and lint included). */
export const ONE_REQUEST_PER_TEMPLATE: Record<TemplateId, string> = {
  'package-present': 'install nginx',
  'package-absent': 'remove telnet',
  'package-latest': 'upgrade openssl',
  'service-running': 'start nginx',
  'service-stopped': 'stop cups',
  'service-restarted': 'restart nginx',
  'service-reloaded': 'reload nginx',
  'service-enabled': 'enable nginx at boot',
  'service-disabled': 'disable bluetooth',
  'file-content': 'write "hello" to /etc/motd owned by root mode 0644',
  'file-template': "deploy a template to /etc/app/node.conf with content 'node={{ inventory_hostname }}'",
  'file-absent': 'delete /tmp/old.tar.gz',
  'user-present': 'create user alice in group developers with shell /bin/bash',
  'user-absent': 'remove user mallory',
  'group-present': 'create group webteam',
  'group-absent': 'delete group legacy',
  logrotate: 'rotate /var/log/myapp/*.log weekly, keep 4, when it reaches 100M',
  sysctl: 'set net.core.somaxconn to 4096',
  'firewall-port': 'open port 443',
};

/** Phrasings the templates may not understand yet: scored, not asserted. */
export const HARDER_AUTOMATION_REQUESTS: AutomationRequestCase[] = [
  { request: 'get me the latest docker.io', expect: [pkg('package-latest', 'docker.io')] },
  { request: 'nginx should be up and running after a reboot', expect: [svc('running', 'nginx'), svc('enabled', 'nginx')] },
  { request: 'we no longer need telnet, take it off', expect: [pkg('package-absent', 'telnet')] },
  { request: 'let web traffic in', expect: [port(80), port(443)] },
  { request: 'make postgres listen again', expect: [svc('running', 'postgresql')] },
  { request: 'give alice an account', expect: [{ template: 'user-present', params: { user: 'alice' } }] },
  {
    request: 'logs of myapp in /var/log/myapp fill the disk, rotate them daily',
    expect: [{ template: 'logrotate', params: { path: '/var/log/myapp', frequency: 'daily', rotate: '7', compress: 'true' } }],
  },
  {
    request: 'bump the max open connections backlog to 1024 (somaxconn)',
    expect: [{ template: 'sysctl', params: { key: 'net.core.somaxconn', value: '1024' } }],
  },
];

/** The intents a generation understood (inverse of flattenUnderstood), for comparison. */
export function intentsOfResult(result: TemplateGenerationResult): TemplateIntent[] | 'refused' {
  if (!result.ok) return 'refused';
  const understood = result.generation.understood;
  const ids = (understood.template ?? '').split(' + ') as TemplateIntent['template'][];
  if (ids.length === 1) {
    const { template: _template, ...params } = understood;
    return [{ template: ids[0]!, params }];
  }
  return ids.map((template, i) => {
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(understood))
      if (key.startsWith(`${i + 1}.`)) params[key.slice(String(i + 1).length + 1)] = value;
    return { template, params };
  });
}

export interface RequestScore {
  total: number;
  correct: number;
  share: number;
  misses: { request: string; expected: AutomationRequestCase['expect']; got: TemplateIntent[] | 'refused'; message?: string }[];
}

const canonical = (value: AutomationRequestCase['expect']) =>
  value === 'refused'
    ? value
    : JSON.stringify(
        value.map((i) => ({
          template: i.template,
          params: Object.fromEntries(Object.entries(i.params).sort(([a], [b]) => a.localeCompare(b))),
        })),
      );

/** Runs every case through generateFromTemplates and scores exact matches (templates, order and parameters). */
export function scoreAutomationRequests(cases: readonly AutomationRequestCase[], hosts: AutomationHost[] = BENCH_HOSTS): RequestScore {
  const misses: RequestScore['misses'] = [];
  for (const c of cases) {
    const result = generateFromTemplates(c.request, hosts, { checkMode: false, ...(c.firewall ? { firewall: c.firewall } : {}) });
    const got = intentsOfResult(result);
    const refusedWithReason = got === 'refused' && !result.ok && result.message.length > 0;
    const matches = c.expect === 'refused' ? refusedWithReason : canonical(got) === canonical(c.expect);
    if (!matches) misses.push({ request: c.request, expected: c.expect, got, ...(!result.ok ? { message: result.message } : {}) });
  }
  const correct = cases.length - misses.length;
  return { total: cases.length, correct, share: cases.length === 0 ? 1 : correct / cases.length, misses };
}
