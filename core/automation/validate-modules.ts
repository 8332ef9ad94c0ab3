import type { ValidationCheck } from '../automation.js';
import { classifyCommand, secretClass, SYSTEM_ROOTS, writeClassOf, type CommandPolicy, type WriteClass } from '../command-policy.js';
import { ACCESS_SERVICES, PRIVILEGED_ACCOUNTS, sysctlKey } from './values.js';

// The module allowlist and each module's argument checks. A module not listed is refused; an
// argument not listed for its module is refused. Destinations are judged by the command policy's
// path classes: secrets and paths that grant access, boot the host or hold its audit trail are
// refused; system paths outside the CMDB item's data and log paths are allowed but flagged for the
// approver. `command`, `shell` and `raw` run only commands the command policy rates: read-only and
// low run; high runs only after the (always required) approval of a real run and is flagged;
// forbidden is refused. Check mode never runs them (ansible skips them, and `check_mode: false` is
// refused), so check mode without approval stays safe.

export interface ModuleCall {
  /** The module as written (`copy`, `ansible.builtin.copy`, `ansible.posix.sysctl`). */
  module: string;
  args: Record<string, unknown>;
  /** Free-form text (command lines), when the module took one. */
  raw: string | null;
}

export interface ModuleVerdict {
  problems: { check: ValidationCheck; message: string }[];
  /** Allowed, but the approver should look: why. */
  flags: string[];
}

export interface ModuleContext {
  policy: CommandPolicy;
  /** Normalised writable roots (the CMDB items' data and log paths). */
  writable: readonly string[];
}

const COLLECTION_MODULES: Record<string, string> = {
  sysctl: 'ansible.posix.sysctl',
  firewalld: 'ansible.posix.firewalld',
  ufw: 'community.general.ufw',
  'community.general.system.ufw': 'community.general.ufw',
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

type Check = (call: ModuleCall, ctx: ModuleContext, verdict: ModuleVerdict) => void;
interface Rule {
  args: readonly string[];
  check?: Check;
}

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+._-]{0,99}(?:[=<>]{1,2}[A-Za-z0-9.:~+_-]{1,64})?$/;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$/;
const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const FORBIDDEN_CLASSES = new Set<WriteClass>(['secret', 'access', 'boot', 'device', 'kernel-trigger', 'audit']);

const refuse = (v: ModuleVerdict, message: string, check: ValidationCheck = 'module-allowlist'): void => {
  v.problems.push({ check, message });
};
const asList = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : typeof value === 'string' ? value.split(',').map((s) => s.trim()) : [value];

function checkNames(v: ModuleVerdict, value: unknown, pattern: RegExp, what: string): string[] {
  const names = asList(value);
  for (const name of names) if (typeof name !== 'string' || !pattern.test(name)) refuse(v, `${String(name)} is not a ${what} name`);
  return names.filter((n): n is string => typeof n === 'string');
}

/** A destination: absolute, literal, no `..`, and not of a class no template may write. */
function checkPath(v: ModuleVerdict, ctx: ModuleContext, value: unknown, verb: string, removes = false): void {
  if (typeof value !== 'string' || !value.startsWith('/') || value.split('/').includes('..') || /[{}*?[\]\s]/.test(value)) {
    refuse(v, `${verb} ${JSON.stringify(value)}: the path must be absolute and literal (no variables, patterns or ..)`);
    return;
  }
  const path = value.replace(/\/+$/, '') || '/';
  if (removes && SYSTEM_ROOTS.test(path)) return refuse(v, `${verb} ${path}: a system path as a whole`);
  const secret = secretClass(path);
  const { cls, why } = secret
    ? { cls: 'secret' as const, why: `holds ${secret}` }
    : writeClassOf(path, { cwd: null, writable: ctx.writable });
  if (FORBIDDEN_CLASSES.has(cls)) return refuse(v, `${verb} ${path}, which ${why}`);
  if (cls !== 'writable') v.flags.push(`${verb} ${path}, which ${why}`);
}

function checkMode(v: ModuleVerdict, mode: unknown): void {
  if (mode === undefined) return;
  // YAML 1.1 reads an unquoted 0644 as octal, and 644 as decimal (0o1204: the sticky bit).
  const text = typeof mode === 'number' ? mode.toString(8).padStart(4, '0') : String(mode);
  if (/^0?[0-7]{3}$/.test(text) || text === 'preserve') return;
  if (/^[0-7]{4}$/.test(text)) {
    if (text[0] !== '0') refuse(v, `mode ${text} sets setuid, setgid or sticky bits`);
    return;
  }
  if (/^[ugoa]*[-+=][rwxXst]*(?:,[ugoa]*[-+=][rwxXst]*)*$/.test(text)) {
    if (/[st]/.test(text)) refuse(v, `mode ${text} sets setuid, setgid or sticky bits`);
    return;
  }
  refuse(v, `mode ${text} is not a file mode`);
}

function checkOwner(v: ModuleVerdict, args: Record<string, unknown>): void {
  for (const key of ['owner', 'group'] as const)
    if (args[key] !== undefined && (typeof args[key] !== 'string' || !ACCOUNT_NAME.test(args[key])))
      refuse(v, `${key} ${JSON.stringify(args[key])} is not an account name`);
}

const stateIs = (args: Record<string, unknown>, ...states: string[]) => typeof args.state === 'string' && states.includes(args.state);

const packageRule = (extra: readonly string[]): Rule => ({
  args: ['name', 'state', 'update_cache', ...extra],
  check: (call, _ctx, v) => {
    checkNames(v, call.args.name ?? [], PACKAGE_NAME, 'package');
    if (call.args.state !== undefined && !stateIs(call.args, 'present', 'absent', 'latest', 'installed', 'removed'))
      refuse(v, `state ${String(call.args.state)} is not one the package checks allow`);
  },
});

const serviceRule = (extra: readonly string[]): Rule => ({
  args: ['name', 'state', 'enabled', ...extra],
  check: (call, _ctx, v) => {
    const [name] = checkNames(v, call.args.name, SERVICE_NAME, 'service');
    const stops = stateIs(call.args, 'stopped') || call.args.enabled === false || call.args.masked === true;
    if (name && stops && ACCESS_SERVICES.has(name)) refuse(v, `stopping, disabling or masking ${name} cuts access to the host`);
  },
});

function commandCheck(call: ModuleCall, ctx: ModuleContext, v: ModuleVerdict): void {
  let command: string | null = typeof call.args.cmd === 'string' ? call.args.cmd : call.raw;
  if (Array.isArray(call.args.argv)) command = call.args.argv.map((a) => `'${String(a).replace(/'/g, `'\\''`)}'`).join(' ');
  if (!command?.trim()) return refuse(v, 'the task runs no command', 'command-policy');
  if (/\{\{|\{%/.test(command))
    return refuse(v, 'the command is built from variables; the policy rates only literal commands', 'command-policy');
  if (call.args.chdir !== undefined) {
    if (typeof call.args.chdir !== 'string' || !/^\/[A-Za-z0-9_.,:@%+=/-]*$/.test(call.args.chdir))
      return refuse(v, 'chdir must be a plain absolute path', 'command-policy');
    command = `cd ${call.args.chdir} && ${command}`;
  }
  const rating = classifyCommand(command, ctx.policy);
  const shown = command.length > 80 ? `${command.slice(0, 77)}...` : command;
  if (rating.risk === 'forbidden') refuse(v, `the command policy forbids "${shown}": ${rating.reasons.join('; ')}`, 'command-policy');
  else if (rating.risk === 'high') v.flags.push(`runs "${shown}", rated high: ${rating.reasons.join('; ')}`);
}

const RULES: Record<string, Rule> = {
  'ansible.builtin.package': packageRule(['use']),
  'ansible.builtin.apt': packageRule(['cache_valid_time', 'purge', 'autoremove', 'install_recommends', 'only_upgrade']),
  'ansible.builtin.dnf': packageRule(['autoremove']),
  'ansible.builtin.yum': packageRule(['autoremove']),
  'ansible.builtin.service': serviceRule(['pattern']),
  'ansible.builtin.systemd': serviceRule(['daemon_reload', 'masked', 'scope']),
  'ansible.builtin.systemd_service': serviceRule(['daemon_reload', 'masked', 'scope']),
  'ansible.builtin.copy': {
    args: ['dest', 'content', 'owner', 'group', 'mode', 'backup', 'force', 'directory_mode', 'unsafe_writes'],
    check: (call, ctx, v) => {
      if (call.args.dest === undefined) refuse(v, 'copy needs dest');
      else checkPath(v, ctx, call.args.dest, 'writes');
      if (call.args.content === undefined) refuse(v, 'copy writes given content only (src reads controller files)');
      checkOwner(v, call.args);
      checkMode(v, call.args.mode);
      checkMode(v, call.args.directory_mode);
    },
  },
  'ansible.builtin.file': {
    args: ['path', 'dest', 'name', 'state', 'owner', 'group', 'mode', 'recurse', 'access_time', 'modification_time'],
    check: (call, ctx, v) => {
      const path = call.args.path ?? call.args.dest ?? call.args.name;
      if (stateIs(call.args, 'link', 'hard')) refuse(v, 'a link can expose or replace a protected file');
      else if (call.args.state !== undefined && !stateIs(call.args, 'file', 'directory', 'absent', 'touch'))
        refuse(v, `state ${String(call.args.state)} is not allowed`);
      checkPath(
        v,
        ctx,
        path,
        stateIs(call.args, 'absent') ? 'removes' : 'changes',
        stateIs(call.args, 'absent') || call.args.recurse === true,
      );
      checkOwner(v, call.args);
      checkMode(v, call.args.mode);
    },
  },
  'ansible.builtin.lineinfile': {
    args: [
      'path',
      'dest',
      'line',
      'regexp',
      'search_string',
      'state',
      'insertafter',
      'insertbefore',
      'create',
      'backrefs',
      'owner',
      'group',
      'mode',
      'backup',
      'firstmatch',
    ],
    check: (call, ctx, v) => {
      checkPath(v, ctx, call.args.path ?? call.args.dest, 'edits');
      checkOwner(v, call.args);
      checkMode(v, call.args.mode);
    },
  },
  'ansible.builtin.blockinfile': {
    args: [
      'path',
      'dest',
      'block',
      'content',
      'marker',
      'state',
      'insertafter',
      'insertbefore',
      'create',
      'owner',
      'group',
      'mode',
      'backup',
      'marker_begin',
      'marker_end',
    ],
    check: (call, ctx, v) => {
      checkPath(v, ctx, call.args.path ?? call.args.dest, 'edits');
      checkOwner(v, call.args);
      checkMode(v, call.args.mode);
    },
  },
  'ansible.builtin.user': {
    args: ['name', 'state', 'groups', 'append', 'shell', 'comment', 'home', 'create_home', 'system', 'remove', 'uid', 'group'],
    check: (call, _ctx, v) => {
      for (const name of checkNames(v, call.args.name, ACCOUNT_NAME, 'user'))
        if (PRIVILEGED_ACCOUNTS.has(name)) refuse(v, `user ${name} grants or guards access to the host`);
      for (const group of call.args.groups === undefined ? [] : checkNames(v, call.args.groups, ACCOUNT_NAME, 'group'))
        if (PRIVILEGED_ACCOUNTS.has(group)) refuse(v, `group ${group} grants privileges`);
      if (typeof call.args.group === 'string' && PRIVILEGED_ACCOUNTS.has(call.args.group))
        refuse(v, `group ${call.args.group} grants privileges`);
      if (call.args.uid !== undefined && Number(call.args.uid) === 0) refuse(v, 'uid 0 is root');
    },
  },
  'ansible.builtin.group': {
    args: ['name', 'state', 'system', 'gid'],
    check: (call, _ctx, v) => {
      for (const name of checkNames(v, call.args.name, ACCOUNT_NAME, 'group'))
        if (PRIVILEGED_ACCOUNTS.has(name)) refuse(v, `group ${name} grants or guards access to the host`);
      if (call.args.gid !== undefined && Number(call.args.gid) === 0) refuse(v, 'gid 0 is root');
    },
  },
  'ansible.posix.sysctl': {
    args: ['name', 'value', 'state', 'reload', 'sysctl_file', 'sysctl_set', 'ignoreerrors'],
    check: (call, _ctx, v) => {
      const key = sysctlKey(String(call.args.name ?? ''));
      if (!key.ok) refuse(v, key.reason);
      const file = call.args.sysctl_file;
      if (file !== undefined && (typeof file !== 'string' || !/^\/etc\/sysctl\.(?:conf|d\/[A-Za-z0-9_.-]+\.conf)$/.test(file)))
        refuse(v, 'sysctl_file must be /etc/sysctl.conf or a .conf file in /etc/sysctl.d');
    },
  },
  'community.general.ufw': {
    args: ['rule', 'port', 'proto', 'from_ip', 'from_port', 'to_ip', 'direction', 'interface', 'comment', 'delete', 'insert', 'log'],
    check: (call, _ctx, v) => {
      if (call.args.rule !== undefined && !['allow', 'limit', 'deny', 'reject'].includes(String(call.args.rule)))
        refuse(v, 'rule must be allow, limit, deny or reject');
      if (['deny', 'reject'].includes(String(call.args.rule)) && ['22', 'ssh'].includes(String(call.args.port)))
        refuse(v, 'blocking SSH cuts access to the host');
      if (call.args.rule === undefined) refuse(v, 'ufw tasks add rules only (state, policy and default change the whole firewall)');
    },
  },
  'ansible.posix.firewalld': {
    args: ['port', 'service', 'permanent', 'immediate', 'state', 'zone'],
    check: (call, _ctx, v) => {
      if (!stateIs(call.args, 'enabled', 'disabled')) refuse(v, 'state must be enabled or disabled');
      if (stateIs(call.args, 'disabled') && (String(call.args.port).startsWith('22/') || call.args.service === 'ssh'))
        refuse(v, 'closing SSH cuts access to the host');
    },
  },
  'ansible.builtin.command': { args: ['cmd', 'argv', 'chdir', 'creates', 'removes', 'strip_empty_ends'], check: commandCheck },
  'ansible.builtin.shell': { args: ['cmd', 'chdir', 'creates', 'removes'], check: commandCheck },
  'ansible.builtin.raw': { args: [], check: commandCheck },
  'ansible.builtin.debug': { args: ['msg', 'var', 'verbosity'] },
  'ansible.builtin.assert': { args: ['that', 'fail_msg', 'success_msg', 'msg', 'quiet'] },
  'ansible.builtin.fail': { args: ['msg'] },
  'ansible.builtin.ping': { args: ['data'] },
  'ansible.builtin.setup': { args: ['filter', 'gather_subset', 'gather_timeout'] },
  'ansible.builtin.gather_facts': { args: [] },
  'ansible.builtin.service_facts': { args: [] },
  'ansible.builtin.package_facts': { args: ['manager', 'strategy'] },
  'ansible.builtin.stat': {
    args: ['path', 'follow', 'get_checksum', 'get_mime', 'get_attributes', 'checksum_algorithm'],
    check: (call, _ctx, v) => {
      const secret = typeof call.args.path === 'string' ? secretClass(call.args.path) : null;
      if (secret) refuse(v, `${String(call.args.path)} holds ${secret}`);
    },
  },
  'ansible.builtin.wait_for': {
    args: ['port', 'host', 'state', 'timeout', 'delay', 'sleep', 'connect_timeout', 'path'],
    check: (call, _ctx, v) => {
      const secret = typeof call.args.path === 'string' ? secretClass(call.args.path) : null;
      if (secret) refuse(v, `${String(call.args.path)} holds ${secret}`);
      if (Number(call.args.timeout ?? 300) > 600) refuse(v, 'timeout is over 600 s');
    },
  },
  'ansible.builtin.pause': {
    args: ['seconds', 'minutes'],
    check: (call, _ctx, v) => {
      if (Number(call.args.seconds ?? 0) + Number(call.args.minutes ?? 0) * 60 > 300) refuse(v, 'a pause is at most 300 s');
    },
  },
  'ansible.builtin.meta': { args: [] },
  'ansible.builtin.set_fact': {
    args: ['*'],
    check: (call, _ctx, v) => {
      for (const key of Object.keys(call.args))
        if (/^ansible_/.test(key) || key === 'cacheable')
          refuse(v, `set_fact may not set ${key} (connection and privilege settings)`, 'keyword');
    },
  },
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
