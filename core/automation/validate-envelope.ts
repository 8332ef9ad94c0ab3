import type { AutomationArtifacts, ValidationCheck } from '../automation.js';
import { automationHostsProblems, buildCommand, buildInventory, KEY_DIR_VARIABLE } from './inventory.js';
import { KNOWN_COLLECTIONS } from './validate-modules.js';
import { templatingProblem } from './validate-templating.js';

// What surrounds the plays: the inventory, command line, collections and extra variables must be
// the ones InfraAI builds from the targets, and every play's hosts must be inventory hosts.

export type AddFinding = (check: ValidationCheck, task: string | null, message: string) => void;
type Mapping = Record<string, unknown>;
const isMapping = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

export function checkEnvelope(artifacts: AutomationArtifacts, add: AddFinding): void {
  const problems = automationHostsProblems(artifacts.hosts);
  for (const problem of problems) add('hosts', null, problem);
  if (problems.length === 0 && artifacts.inventory !== buildInventory(artifacts.hosts))
    add('hosts', null, 'the inventory is not the one built from the target CMDB items');
  const command = JSON.stringify(artifacts.command);
  if (command !== JSON.stringify(buildCommand({ checkMode: false })) && command !== JSON.stringify(buildCommand({ checkMode: true })))
    add('keyword', null, `the command line ${artifacts.command.join(' ')} is not one InfraAI builds`);
  for (const collection of artifacts.collections)
    if (!(KNOWN_COLLECTIONS as readonly string[]).includes(collection))
      add('module-allowlist', null, `collection ${collection} is not on the allowlist`);
  for (const [name, value] of Object.entries(artifacts.variables)) {
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(name) || /^ansible_/.test(name) || name === KEY_DIR_VARIABLE)
      add('variables', null, `extra variable ${name} is not allowed (extra variables override everything, connection settings included)`);
    for (const text of stringsIn(value)) {
      const problem = templatingProblem(text);
      if (problem) add('variables', null, `extra variable ${name}: ${problem}`);
    }
  }
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (isMapping(value)) return [...Object.keys(value), ...Object.values(value).flatMap(stringsIn)];
  return [];
}

export function checkHosts(hosts: unknown, where: string, names: Set<string>, add: AddFinding) {
  const patterns = typeof hosts === 'string' ? hosts.split(/[,:]/) : Array.isArray(hosts) ? hosts.map(String) : null;
  if (!patterns || patterns.every((p) => !p.trim())) return add('hosts', where, 'the play names no hosts');
  for (const raw of patterns) {
    const pattern = raw.trim().replace(/^[&!]/, '');
    if (pattern === 'all' || names.has(pattern)) continue;
    add('hosts', where, `hosts "${raw.trim()}" is not one of the inventory's hosts (${[...names].join(', ')}) or all`);
  }
}
