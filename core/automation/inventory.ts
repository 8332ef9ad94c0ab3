import { stringify } from 'yaml';
import type { AutomationHost } from '../automation.js';

// The inventory and the command line of a run, built only from CMDB items (AutomationHost), never
// from a request's text.
//
// Contract with the runners (adapters/ansible-runner/): a run's workspace holds exactly
// `playbook.yml`, `inventory.yml` and `vars.json` (the artifacts' variables as JSON). Keys are NOT in
// the workspace's artifacts: the runner writes each host's credential key (0600) to
// `<keyDir>/<credential>.key`, in a private directory of its own, and passes
// `--extra-vars infraai_key_dir=<keyDir>` (or adds `infraai_key_dir` to the extra variables it
// writes) so that `ansible_ssh_private_key_file: "{{ infraai_key_dir }}/<credential>.key"` resolves.
// Credential names are checked here (CREDENTIAL_NAME) so the file name is safe to join. Host key
// checking and ssh options are the runner's to set (through its environment or ansible.cfg), not
// the inventory's.

export const PLAYBOOK_FILE = 'playbook.yml';
export const INVENTORY_FILE = 'inventory.yml';
export const VARIABLES_FILE = 'vars.json';
/** The extra variable the runner sets to the directory holding `<credential>.key` files. */
export const KEY_DIR_VARIABLE = 'infraai_key_dir';

/** Inventory host names are CMDB tagIds: plain names ansible never reads as patterns. */
export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export const CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const ADDRESS =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]{2,45})$/;
const SSH_USER = /^[a-z_][a-z0-9_.-]{0,31}$/;
/** Names ansible gives a meaning of their own: a host called so would be read as a pattern or the controller. */
const RESERVED_HOST_NAMES = new Set(['all', 'ungrouped', 'localhost', '127.0.0.1', '::1']);

export class InvalidAutomationHostError extends Error {
  override readonly name = 'InvalidAutomationHostError';
}

/** Why a host cannot go into an inventory; null when it can. */
export function automationHostProblem(host: AutomationHost): string | null {
  if (!HOST_NAME.test(host.tagId) || RESERVED_HOST_NAMES.has(host.tagId.toLowerCase()))
    return `tagId "${host.tagId}" is not usable as an inventory host name`;
  if (!ADDRESS.test(host.address)) return `${host.tagId}: "${host.address}" is not a host address`;
  if (!Number.isInteger(host.port) || host.port < 1 || host.port > 65535) return `${host.tagId}: port ${host.port} is out of range`;
  if (!SSH_USER.test(host.user)) return `${host.tagId}: "${host.user}" is not a login name`;
  if (!CREDENTIAL_NAME.test(host.credential)) return `${host.tagId}: credential "${host.credential}" is not a credential name`;
  return null;
}

/** Every problem of a host list (bad fields, duplicates, none at all); empty when it is usable. */
export function automationHostsProblems(hosts: readonly AutomationHost[]): string[] {
  if (hosts.length === 0) return ['no target hosts'];
  const problems = hosts.map(automationHostProblem).filter((p): p is string => p !== null);
  const seen = new Set<string>();
  for (const host of hosts) {
    if (seen.has(host.tagId)) problems.push(`${host.tagId} is listed twice`);
    seen.add(host.tagId);
  }
  return problems;
}

/** Ansible's YAML inventory: one `all` group, one entry per host, keyed by tagId. Throws on a bad host. */
export function buildInventory(hosts: readonly AutomationHost[]): string {
  const problems = automationHostsProblems(hosts);
  if (problems.length > 0) throw new InvalidAutomationHostError(problems.join('; '));
  const entries: Record<string, Record<string, unknown>> = {};
  for (const host of [...hosts].sort((a, b) => a.tagId.localeCompare(b.tagId))) {
    entries[host.tagId] = {
      ansible_host: host.address,
      ansible_port: host.port,
      ansible_user: host.user,
      // Always ssh: a host may never be reached through the controller's local connection.
      ansible_connection: 'ssh',
      ansible_ssh_private_key_file: `{{ ${KEY_DIR_VARIABLE} }}/${host.credential}.key`,
      // Root needs no privilege escalation; a play's `become: true` would otherwise ask for sudo.
      ...(host.user === 'root' ? { ansible_become: false } : {}),
    };
  }
  return stringify({ all: { hosts: entries } }, { version: '1.1', directives: true, lineWidth: 0 });
}

/** The inventory's host names (tagIds), in inventory order. */
export const inventoryHostNames = (hosts: readonly AutomationHost[]) => hosts.map((h) => h.tagId).sort((a, b) => a.localeCompare(b));

export interface CommandOptions {
  /** `--check --diff`: report what would change, change nothing. */
  checkMode: boolean;
}

/** ansible-playbook's arguments after the program name, relative to the run's workspace. */
export function buildCommand(options: CommandOptions): string[] {
  return ['-i', INVENTORY_FILE, PLAYBOOK_FILE, '--extra-vars', `@${VARIABLES_FILE}`, ...(options.checkMode ? ['--check', '--diff'] : [])];
}
