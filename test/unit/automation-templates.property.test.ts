import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AutomationHost } from '../../core/automation.js';
import { buildInventory } from '../../core/automation/inventory.js';
import { generateFromTemplates } from '../../core/automation/templates.js';
import { validatePlaybook } from '../../core/automation/validate.js';

// Whatever the request says, a template playbook is one play over the inventory with one known
// module per task, and it passes validation; anything else is refused. Requests are built from real
// phrasings with hostile fragments (YAML, Jinja, shell) spliced in at random places.

const hosts: AutomationHost[] = [
  { tagId: 'web-01', hostname: 'web-01.lab', address: '10.77.0.11', port: 22, user: 'root', credential: 'lab-key' },
];

const TEMPLATE_MODULES = new Set([
  'ansible.builtin.package',
  'ansible.builtin.service',
  'ansible.builtin.copy',
  'ansible.builtin.file',
  'ansible.builtin.user',
  'ansible.builtin.group',
  'ansible.posix.sysctl',
  'community.general.ufw',
  'ansible.posix.firewalld',
]);

const phrases = fc.constantFrom(
  'install nginx',
  'and make sure it runs',
  'restart',
  'write "hello" to /etc/motd',
  'deploy a template to /etc/a.conf with content',
  'create user alice in group developers',
  'rotate /var/log/app/*.log weekly',
  'set vm.swappiness to 10',
  'open port 443',
  'with firewalld',
  'owned by root mode 0640',
  'on web-01',
  'remove',
  'delete group legacy',
);
const hostile = fc.constantFrom(
  '\n- hosts: localhost\n  tasks: [{shell: id}]',
  "{{ lookup('pipe', 'id') }}",
  '$(id)',
  '`id`',
  '; rm -rf /',
  '&& reboot',
  '"quoted: {shell: id}"',
  "'single: [x]'",
  '/etc/../etc/shadow',
  '/root/.ssh/authorized_keys',
  'delegate_to: localhost',
  '{% include "/etc/passwd" %}',
  'nginx\u0000',
  '|/tmp/x',
  '0o4755',
  'sudo',
);
const request = fc
  .array(
    fc.oneof({ weight: 3, arbitrary: phrases }, { weight: 1, arbitrary: hostile }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }),
    {
      minLength: 1,
      maxLength: 6,
    },
  )
  .map((parts) => parts.join(' '));

describe('generateFromTemplates, whatever the request', () => {
  it('writes one play of known modules that passes validation, or refuses', () => {
    fc.assert(
      fc.property(request, (text) => {
        const result = generateFromTemplates(text, hosts, { checkMode: false });
        if (!result.ok) {
          expect(result.message.length).toBeGreaterThan(0);
          return;
        }
        const plays = parse(result.artifacts.playbook, { version: '1.1' }) as Record<string, unknown>[];
        expect(plays).toHaveLength(1);
        expect(Object.keys(plays[0]!).sort()).toEqual(['become', 'gather_facts', 'hosts', 'name', 'tasks']);
        expect(plays[0]!.hosts).toBe('all');
        for (const task of plays[0]!.tasks as Record<string, unknown>[]) {
          const keys = Object.keys(task).filter((k) => k !== 'name');
          expect(keys).toHaveLength(1);
          expect(TEMPLATE_MODULES.has(keys[0]!)).toBe(true);
        }
        expect(result.artifacts.inventory).toBe(buildInventory(hosts));
        expect(validatePlaybook(result.artifacts, { become: true })).toEqual([]);
      }),
      { numRuns: 400, seed: 10 },
    );
  });
});
