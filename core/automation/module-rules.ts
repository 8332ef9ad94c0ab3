import { classifyCommand, secretClass } from '../command-policy.js';
import {
  ACCOUNT_NAME,
  checkMode,
  checkNames,
  checkOwner,
  checkPath,
  PACKAGE_NAME,
  refuse,
  SERVICE_NAME,
  stateIs,
  type ModuleCall,
  type ModuleContext,
  type ModuleVerdict,
  type Rule,
} from './module-args.js';
import { ACCESS_SERVICES, PRIVILEGED_ACCOUNTS, sysctlKey } from './values.js';

// Each allowed module's arguments and their checks (validate-modules.ts refuses every other module).

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

export const RULES: Record<string, Rule> = {
  'ansible.builtin.package': packageRule(['use']),
  'ansible.builtin.apt': packageRule(['cache_valid_time', 'purge', 'autoremove', 'install_recommends', 'only_upgrade']),
  'ansible.builtin.dnf': packageRule(['autoremove']),
  'ansible.builtin.yum': packageRule(['autoremove']),
  'ansible.builtin.service': serviceRule(['pattern']),
  'ansible.builtin.systemd': serviceRule(['daemon_reload', 'masked', 'scope']),
  'ansible.builtin.systemd_service': serviceRule(['daemon_reload', 'masked', 'scope']),
  // A supervisor host's programs (the service templates use it when the CMDB item says supervisor).
  // Only the states that start, stop or restart a program: present and absent rewrite supervisord's
  // running configuration, signalled sends any signal, and the config, server and credential
  // arguments would point it at another supervisord.
  'community.general.supervisorctl': {
    args: ['name', 'state'],
    check: (call, _ctx, v) => {
      const [name] = checkNames(v, call.args.name, SERVICE_NAME, 'supervisor program');
      if (!stateIs(call.args, 'started', 'stopped', 'restarted')) refuse(v, 'state must be started, stopped or restarted');
      if (name && stateIs(call.args, 'stopped') && ACCESS_SERVICES.has(name)) refuse(v, `stopping ${name} cuts access to the host`);
    },
  },
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
