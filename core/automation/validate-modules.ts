import { RULES } from './module-rules.js';
import { refuse, type ModuleCall, type ModuleContext, type ModuleVerdict } from './module-args.js';

export type { ModuleCall, ModuleContext, ModuleVerdict } from './module-args.js';

// The module allowlist and each module's argument checks. A module not listed is refused; an
// argument not listed for its module is refused. Destinations are judged by the command policy's
// path classes: secrets and paths that grant access, boot the host or hold its audit trail are
// refused; system paths outside the CMDB item's data and log paths are allowed but flagged for the
// approver. `command`, `shell` and `raw` run only commands the command policy rates: read-only and
// low run; high runs only after the (always required) approval of a real run and is flagged;
// forbidden is refused. Check mode never runs them (ansible skips them, and `check_mode: false` is
// refused), so check mode without approval stays safe.

const COLLECTION_MODULES: Record<string, string> = {
  sysctl: 'ansible.posix.sysctl',
  firewalld: 'ansible.posix.firewalld',
  ufw: 'community.general.ufw',
  'community.general.system.ufw': 'community.general.ufw',
  supervisorctl: 'community.general.supervisorctl',
  'community.general.web_infrastructure.supervisorctl': 'community.general.supervisorctl',
};
/** Collections the allowlist's modules come from, besides ansible.builtin. */
export const KNOWN_COLLECTIONS = ['ansible.posix', 'community.general'] as const;

/** The module's canonical FQCN (`ansible.builtin.copy`), or the name as written when it is none we know. */
export function canonicalModule(name: string): string {
  const short = name.replace(/^ansible\.(?:builtin|legacy)\./, '');
  if (COLLECTION_MODULES[short]) return COLLECTION_MODULES[short];
  if (Object.values(COLLECTION_MODULES).includes(name)) return name;
  return /^[a-z_][a-z0-9_]*$/.test(short) ? `ansible.builtin.${short}` : name;
}

const REFUSED: Record<string, string> = {
  script: 'runs a script file from the controller, whose content the command policy cannot rate',
  template: 'reads its source file from the controller; write content with copy instead',
  synchronize: 'copies between the controller and the host',
  fetch: 'copies files from the host back to the controller',
  slurp: 'reads whole files from the host back to the controller',
  get_url: 'downloads from the network onto the host',
  uri: 'makes network requests from the host',
  unarchive: 'unpacks archives from the controller or the network',
  git: 'checks out code from the network',
  pip: 'installs code from the network outside the package manager',
  authorized_key: 'grants SSH access',
  cron: 'schedules commands the policy cannot rate',
  add_host: 'changes the inventory during the run',
  group_by: 'changes the inventory during the run',
  reboot: 'reboots the host',
  mount: 'changes mounts (the host may not boot)',
  apt_key: 'trusts a new package signing key',
  apt_repository: 'adds a package source',
  yum_repository: 'adds a package source',
  expect: 'runs a command and answers its prompts',
  include: 'loads tasks the validator has not seen',
  include_tasks: 'loads tasks the validator has not seen',
  import_tasks: 'loads tasks the validator has not seen',
  include_role: 'loads a role the validator has not seen',
  import_role: 'loads a role the validator has not seen',
  include_vars: 'loads variables from controller files',
  import_playbook: 'loads a playbook the validator has not seen',
};

const META_ACTIONS = new Set(['flush_handlers', 'noop', 'end_play', 'end_host', 'end_batch', 'reset_connection']);

export function checkModule(call: ModuleCall, ctx: ModuleContext): ModuleVerdict {
  const verdict: ModuleVerdict = { problems: [], flags: [] };
  const fqcn = canonicalModule(call.module);
  const short = fqcn.replace(/^ansible\.builtin\./, '');
  const refused = fqcn.startsWith('ansible.builtin.') ? REFUSED[short] : undefined;
  if (refused) return (refuse(verdict, `${call.module} is refused: it ${refused}`), verdict);
  const rule = RULES[fqcn];
  if (!rule) return (refuse(verdict, `${call.module} is not on the module allowlist`), verdict);
  if (short === 'meta') {
    if (!META_ACTIONS.has(String(call.raw ?? '').trim())) refuse(verdict, `meta: ${String(call.raw)} is not allowed`);
    return verdict;
  }
  const commandLike = short === 'command' || short === 'shell' || short === 'raw';
  if (call.raw !== null && !commandLike) refuse(verdict, `${call.module} takes named arguments only, not free-form text`);
  if (!rule.args.includes('*'))
    for (const key of Object.keys(call.args))
      if (!rule.args.includes(key)) refuse(verdict, `${call.module} argument ${key} is not allowed`);
  rule.check?.(call, ctx, verdict);
  return verdict;
}
