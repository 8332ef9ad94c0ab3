import { describe, expect, it } from 'vitest';
import type { AutomationArtifacts } from '../../core/automation.js';
import { automationArtifactsHash, canonicalJson } from '../../core/automation/hash.js';
import { generateFromTemplates } from '../../core/automation/templates.js';

// The approval is bound to this hash: every artifact field changes it, key order does not.

const hosts = [{ tagId: 'web-01', hostname: 'web-01.lab', address: '10.77.0.11', port: 22, user: 'root', credential: 'lab-key' }];

function base(): AutomationArtifacts {
  const generated = generateFromTemplates('install nginx and make sure it runs', hosts, { checkMode: false });
  if (!generated.ok) throw new Error(generated.message);
  return { ...generated.artifacts, variables: { release: '1.2', limits: { a: 1, b: 2 } } };
}

describe('automationArtifactsHash', () => {
  it('is a SHA-256 hex digest, stable for equal artifacts', () => {
    const hash = automationArtifactsHash(base());
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(automationArtifactsHash(base())).toBe(hash);
  });

  it('ignores the key order of variables and of the artifacts object', () => {
    const a = base();
    const reordered: AutomationArtifacts = {
      hosts: a.hosts.map((h) => ({
        credential: h.credential,
        user: h.user,
        port: h.port,
        address: h.address,
        hostname: h.hostname,
        tagId: h.tagId,
      })),
      command: a.command,
      collections: a.collections,
      variables: { limits: { b: 2, a: 1 }, release: '1.2' },
      inventory: a.inventory,
      playbook: a.playbook,
    };
    expect(automationArtifactsHash(reordered)).toBe(automationArtifactsHash(a));
  });

  const changes: [string, (a: AutomationArtifacts) => AutomationArtifacts][] = [
    ['playbook', (a) => ({ ...a, playbook: a.playbook.replace('nginx', 'apache2') })],
    ['inventory', (a) => ({ ...a, inventory: a.inventory.replace('10.77.0.11', '10.77.0.12') })],
    ['a variable value', (a) => ({ ...a, variables: { ...a.variables, release: '1.3' } })],
    ['a nested variable', (a) => ({ ...a, variables: { ...a.variables, limits: { a: 1, b: 3 } } })],
    ['collections', (a) => ({ ...a, collections: ['ansible.posix'] })],
    ['command (check mode)', (a) => ({ ...a, command: [...a.command, '--check', '--diff'] })],
    ['a host address', (a) => ({ ...a, hosts: [{ ...a.hosts[0]!, address: '10.77.0.99' }] })],
    ['a host credential', (a) => ({ ...a, hosts: [{ ...a.hosts[0]!, credential: 'other-key' }] })],
    ['the host list', (a) => ({ ...a, hosts: [...a.hosts, { ...a.hosts[0]!, tagId: 'web-02' }] })],
  ];
  for (const [what, change] of changes) {
    it(`changes when ${what} changes`, () => {
      expect(automationArtifactsHash(change(base()))).not.toBe(automationArtifactsHash(base()));
    });
  }

  it('does not confuse a string with its JSON', () => {
    expect(canonicalJson({ a: '1' })).not.toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });
});
