// Commands that change a host, one rule per command: routine and reversible changes inside the
// item's data and log paths are `low`, other changes `high`, destruction and access changes
// `forbidden`. Writes and removals are rated by destination (paths.ts).

import { kindRisk, type Ctx } from './args.js';
import { literalWord, type Word } from './lexer.js';
import { ANY_BELOW, readRisk, SYSTEM_ROOTS, normalizePattern, writeRisk } from './paths.js';
import { forbidden, high, low, readOnly, type Part } from './risk.js';
import { sedScriptRisk } from './scripts.js';

interface Split {
  flags: Set<string>;
  values: Map<string, Word>;
  operands: Word[];
  /** Expansions where an option may stand. */
  dynamicOptions: Word[];
}

/** Lenient option split for change commands: every dash word is an option; `valued` ones take a value. */
function split(args: readonly Word[], valued: readonly string[] = []): Split {
  const out: Split = { flags: new Set(), values: new Map(), operands: [], dynamicOptions: [] };
  let end = false;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const t = word.text;
    if (end || !t.startsWith('-') || t === '-') {
      if (word.dynamic && !end) out.dynamicOptions.push(word);
      out.operands.push(word);
      continue;
    }
    if (t === '--') {
      end = true;
      continue;
    }
    if (t.startsWith('--')) {
      const [name, ...value] = t.split('=');
      if (value.length) out.values.set(name!, literalWord(value.join('=')));
      else if (valued.includes(name!) && args[i + 1]) out.values.set(name!, args[++i]!);
      else out.flags.add(name!);
      continue;
    }
    for (let j = 1; j < t.length; j++) {
      const option = `-${t[j]}`;
      if (valued.includes(option)) {
        const inline = t.slice(j + 1);
        const value = inline ? literalWord(inline) : args[++i];
        if (value) out.values.set(option, value);
        break;
      }
      out.flags.add(option);
    }
  }
  return out;
}

const has = (s: Split, ...options: string[]) => options.some((o) => s.flags.has(o) || s.values.has(o));
const worst = (parts: Part[], floor: Part): Part[] =>
  parts.some((p) => p.risk === 'forbidden') ? parts.filter((p) => p.risk === 'forbidden') : [...parts, floor];
const dynamicRefusal = (s: Split): Part[] =>
  s.dynamicOptions.map((w) => high(`'${w.text}' expands when the command runs and may become an option`));

function takesHostDown(name: string, ctx: Ctx): Part[] {
  return ctx.policy.allowReboot
    ? [high(`${name} takes the host down (allowed by policy)`)]
    : [forbidden(`${name} takes the host down; no policy allows it`)];
}

/** Signals a process may clean up after. */
const GENTLE_SIGNALS = /^(?:SIG)?(?:TERM|HUP|INT|QUIT|USR1|USR2)$|^(?:15|1|2|3|10|12)$/i;
const PROTECTED_PROCESSES = [
  'sshd',
  '/usr/sbin/sshd -D',
  'sshd: root@notty',
  'systemd',
  '/sbin/init',
  '/lib/systemd/systemd',
  'init',
  'dbus-daemon',
  'systemd-logind',
];

function killRisk(args: readonly Word[]): Part[] {
  let signal = 'TERM';
  const pids: Word[] = [];
  let end = false;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const t = word.text;
    if (word.dynamic) return [high(`kill ${t}: a target or signal only known when the command runs`)];
    if (!end && (t === '-l' || t === '-L' || t === '--list' || t === '--table')) return [readOnly('kill -l lists signals')];
    if (!end && (t === '-s' || t === '-n' || t === '--signal')) {
      signal = args[++i]?.text ?? '';
      continue;
    }
    if (!end && t === '--') {
      end = true;
      continue;
    }
    if (!end && pids.length === 0 && /^-(?:SIG)?[A-Za-z][A-Za-z0-9+]*$|^-\d{1,2}$/.test(t) && !(t === '-1' && args.length === 1)) {
      signal = t.slice(1);
      continue;
    }
    pids.push(word);
  }
  if (pids.length === 0)
    return args.some((a) => a.text === '-1') ? [forbidden('kill -1 signals every process')] : [low('kill without a target')];
  const parts: Part[] = [];
  for (const pid of pids) {
    if (pid.text === '1') parts.push(forbidden('kill would signal init (PID 1)'));
    else if (pid.text === '-1') parts.push(forbidden('kill -1 signals every process'));
    else if (!/^\d+$/.test(pid.text)) parts.push(high(`kill ${pid.text} targets a process group, job or name`));
  }
  if (parts.length) return parts;
  if (/^0$/.test(signal)) return [readOnly('kill -0 only checks that the process exists')];
  return GENTLE_SIGNALS.test(signal)
    ? [low('kill asks processes to stop')]
    : [high(`kill -${signal} stops processes without letting them clean up`)];
}

function pkillRisk(name: string, args: readonly Word[]): Part[] {
  const parts: Part[] = [];
  const patterns: Word[] = [];
  let signal = 'TERM';
  let exact = name === 'killall';
  let byOwner = false;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const t = word.text;
    if (word.dynamic) {
      parts.push(forbidden(`${name} ${t}: a pattern only known when the command runs may match anything`));
      continue;
    }
    if (/^-(?:SIG)?[A-Z][A-Z0-9+]+$|^-\d{1,2}$/.test(t)) signal = t.slice(1).replace(/^SIG/, '');
    else if (t === '--signal' || (name === 'killall' && t === '-s')) signal = args[++i]?.text ?? '';
    else if (/^--signal=/.test(t)) signal = t.slice(9);
    else if (/^-[uUgGPst]$|^--(?:uid|euid|group|pgroup|parent|session|terminal|user)$/.test(t)) {
      byOwner = true;
      i++;
    } else if (t === '-x' || t === '--exact' || t === '-e') exact = true;
    else if (t === '-r' || t === '--regexp') exact = false;
    else if (t.startsWith('-')) continue;
    else patterns.push(word);
  }
  for (const pattern of patterns) {
    let regex: RegExp;
    try {
      regex = exact ? new RegExp(`^(?:${pattern.text})$`) : new RegExp(pattern.text);
    } catch {
      parts.push(high(`${name} pattern ${pattern.text} does not parse`));
      continue;
    }
    if (PROTECTED_PROCESSES.some((p) => regex.test(p)))
      parts.push(forbidden(`${name} ${pattern.text} would kill init, systemd, dbus or sshd`));
  }
  if (patterns.length === 0 && !byOwner) parts.push(high(`${name} without a pattern`));
  if (byOwner) parts.push(high(`${name} targets every process of a user, group, session or terminal`));
  if (!GENTLE_SIGNALS.test(signal)) parts.push(high(`${name} -${signal} stops processes without letting them clean up`));
  return parts.length ? parts : [low(`${name} asks matching processes to stop`)];
}

const ACCESS_UNITS =
  /^(?:sshd?|systemd-logind|dbus|dbus-broker|systemd-networkd|NetworkManager|networking|network)(?:\.service|\.socket)?$/;
const TAKEDOWN_TARGETS =
  /^(?:reboot|poweroff|halt|kexec|shutdown|rescue|emergency|ctrl-alt-del|exit|sleep|suspend|hibernate|hybrid-sleep|soft-reboot)\.target$/;

function systemctlRisk(args: readonly Word[], ctx: Ctx): Part[] {
  const s = split(args, [
    '-H',
    '--host',
    '-M',
    '--machine',
    '--root',
    '-p',
    '--property',
    '-t',
    '--type',
    '-s',
    '--signal',
    '--job-mode',
    '-o',
    '-n',
    '--lines',
    '--state',
    '--kill-whom',
  ]);
  if (has(s, '-H', '--host', '-M', '--machine', '--root')) return [high('systemctl on another host, container or root')];
  const [verbWord, ...units] = s.operands;
  const verb = verbWord?.text ?? '';
  if (verbWord?.dynamic) return [high('systemctl verb only known when the command runs')];
  const unitWords = units.filter((u) => !u.dynamic);
  if (unitWords.length !== units.length) return [high('systemctl unit only known when the command runs')];
  const names = unitWords.map((u) => u.text);
  if (
    /^(?:reboot|poweroff|halt|kexec|emergency|rescue|suspend|hibernate|hybrid-sleep|suspend-then-hibernate|soft-reboot|default|exit|switch-root)$/.test(
      verb,
    )
  )
    return takesHostDown(`systemctl ${verb}`, ctx);
  if (
    /^(?:start|restart|isolate|reload-or-restart|try-restart|enable|set-default)$/.test(verb) &&
    names.some((u) => TAKEDOWN_TARGETS.test(u))
  )
    return verb === 'enable' || verb === 'set-default'
      ? [forbidden(`systemctl ${verb} ${names.join(' ')} would take the host down at boot`)]
      : takesHostDown(`systemctl ${verb} ${names.join(' ')}`, ctx);
  if (verb === 'isolate') return [high('systemctl isolate switches the whole host to another target')];
  if (/^(?:stop|disable|mask|kill|freeze)$/.test(verb) && names.some((u) => ACCESS_UNITS.test(u)))
    return [forbidden(`systemctl ${verb} on the access path (${names.join(' ')})`)];
  if (/^(?:start|restart|reload|try-restart|reload-or-restart|try-reload-or-restart|reset-failed)$/.test(verb)) {
    if (names.length === 0 || names.some((u) => /[*?[]/.test(u) || !/^[A-Za-z0-9_.@:-]+$/.test(u)))
      return [high(`systemctl ${verb} of units by pattern`)];
    if (names.some((u) => ACCESS_UNITS.test(u)))
      return [high(`systemctl ${verb} of the access path (${names.join(' ')}): a bad configuration locks everyone out`)];
    return [low(`systemctl ${verb} a service`)];
  }
  return [high(`systemctl ${verb || '(no verb)'}`)];
}

function serviceRisk(args: readonly Word[]): Part[] {
  const [name, verb] = args.map((a) => (a.dynamic ? '$' : a.text));
  if (!name || !/^[A-Za-z0-9_.@:-]+$/.test(name)) return [high(`service ${name ?? ''}: not a plain service name`)];
  if (ACCESS_UNITS.test(name) && /^(?:stop|restart|force-reload)$/.test(verb ?? ''))
    return [
      verb === 'stop' ? forbidden(`service ${name} stop cuts access to the host`) : high(`service ${name} ${verb} of the access path`),
    ];
  return /^(?:start|restart|reload|force-reload|try-restart)$/.test(verb ?? '') && args.length === 2
    ? [low(`service ${verb}`)]
    : [high(`service ${verb || '(no action)'}`)];
}

function supervisorctlRisk(args: readonly Word[]): Part[] {
  const s = split(args, ['-c', '-s', '-u', '-p', '-r', '--configuration', '--serverurl', '--username', '--password', '--history-file']);
  if (has(s, '-s', '--serverurl', '-u', '-p', '--username', '--password', '-i', '--interactive'))
    return [high('supervisorctl against another server or interactively')];
  const [verb, ...targets] = s.operands.map((o) => (o.dynamic ? '$' : o.text));
  if (targets.some((t) => !/^[A-Za-z0-9_.:-]+$/.test(t) || t === 'all')) return [high(`supervisorctl ${verb} of ${targets.join(' ')}`)];
  if (verb === 'signal')
    return GENTLE_SIGNALS.test(targets[0] ?? '') ? [low('supervisorctl signal')] : [high(`supervisorctl signal ${targets[0] ?? ''}`)];
  return /^(?:start|restart|reread|update)$/.test(verb ?? '') ? [low(`supervisorctl ${verb}`)] : [high(`supervisorctl ${verb ?? ''}`)];
}

function kubectlRisk(args: readonly Word[]): Part[] {
  const s = split(args, [
    '-n',
    '--namespace',
    '--context',
    '--cluster',
    '-l',
    '--selector',
    '-o',
    '--output',
    '-f',
    '--filename',
    '--kubeconfig',
    '--token',
    '--as',
    '--as-group',
    '-s',
    '--server',
    '-c',
    '--container',
  ]);
  if (has(s, '--kubeconfig', '--token', '--as', '--as-group', '-s', '--server'))
    return [high('kubectl with other credentials or another server')];
  const words = s.operands.map((o) => o.text);
  const verb = words[0] ?? '';
  if (verb === 'rollout') {
    const sub = words[1] ?? '';
    return sub === 'restart' && words.length === 3 && !has(s, '-A', '--all-namespaces', '--all', '-l', '--selector')
      ? [low('kubectl rollout restart')]
      : [high(`kubectl rollout ${sub}`)];
  }
  if (verb === 'delete') {
    const kinds = words.slice(1).flatMap((w) => w.split(/[,/]/));
    if (
      has(s, '--all', '-A', '--all-namespaces') ||
      kinds.some((k) =>
        /^(?:namespaces?|ns|nodes?|no|pv|pvc|persistentvolumes?|persistentvolumeclaims?|crds?|customresourcedefinitions?|clusterroles?|clusterrolebindings?)$/.test(
          k,
        ),
      )
    )
      return [forbidden('kubectl delete of a namespace, node, volume, CRD, cluster role or everything')];
    return [high('kubectl delete')];
  }
  if (verb === 'drain' || verb === 'cordon' || verb === 'taint') return [high(`kubectl ${verb} takes a node out of service`)];
  if (
    verb === 'exec' ||
    verb === 'cp' ||
    verb === 'debug' ||
    verb === 'attach' ||
    verb === 'port-forward' ||
    verb === 'proxy' ||
    verb === 'run'
  )
    return [high(`kubectl ${verb} runs or moves data inside the cluster`)];
  return [high(`kubectl ${verb}`)];
}

function terraformRisk(args: readonly Word[]): Part[] {
  const words = args.filter((a) => !a.text.startsWith('-')).map((a) => a.text);
  const verb = words[0] ?? '';
  if (verb === 'destroy' || (verb === 'apply' && args.some((a) => a.text === '-destroy'))) return [forbidden('terraform destroy')];
  if (verb === 'state' && /^(?:rm|replace-provider|push)$/.test(words[1] ?? '')) return [high(`terraform state ${words[1]}`)];
  return [high(`terraform ${verb}`)];
}

function iptablesRisk(name: string, args: readonly Word[]): Part[] {
  const flags = args.map((a) => a.text);
  if (
    flags.some((f) => f === '-F' || f === '--flush' || f === '-X' || f === '--delete-chain') ||
    (flags.includes('-P') && flags.some((f) => /^(?:DROP|REJECT)$/.test(f)))
  )
    return [forbidden(`${name} flushes the firewall or sets a dropping policy (it can lock everyone out)`)];
  if (name === 'nft' && flags.includes('flush')) return [forbidden('nft flush drops the firewall (it can lock everyone out)')];
  return [high(`${name} changes the firewall`)];
}

/** Writes of each operand of a simple "write these files" command. */
function writesEach(name: string, operands: readonly Word[], ctx: Ctx, verb: string, floor?: Part): Part[] {
  if (operands.length === 0) return [high(`${name} without a file`)];
  const parts = operands.map((w) => writeRisk(w, ctx, { verb: `${name} ${verb}` }));
  return floor ? worst(parts, floor) : parts;
}

function removal(name: string, args: readonly Word[], ctx: Ctx): Part[] {
  const s = split(args);
  if (has(s, '--no-preserve-root')) return [forbidden(`${name} --no-preserve-root`)];
  const recursive = has(s, '-r', '-R', '--recursive');
  const parts = [
    ...dynamicRefusal(s),
    ...s.operands.map((w) => writeRisk(w, ctx, { removes: true, recursive, verb: `${name}${recursive ? ' -r' : ''} removes` })),
  ];
  if (parts.length === 0) return [low(`${name} without operands`)];
  if (parts.some((p) => p.risk === 'forbidden')) return parts;
  return recursive ? [...parts, high(`${name} -r removes a directory tree`)] : parts;
}

function copyLike(name: string, args: readonly Word[], ctx: Ctx): Part[] {
  const s = split(args, [
    '-t',
    '--target-directory',
    '-S',
    '--suffix',
    '-m',
    '--mode',
    '-o',
    '--owner',
    '-g',
    '--group',
    '--backup',
    '--reference',
  ]);
  const recursive = has(s, '-r', '-R', '-a', '--recursive', '--archive');
  const target = s.values.get('-t') ?? s.values.get('--target-directory');
  const operands = [...s.operands];
  const destination = target ?? (operands.length > 1 ? operands.pop() : undefined);
  const parts: Part[] = [...dynamicRefusal(s)];
  if (!destination) return [high(`${name} without a destination`)];
  if (name === 'install') {
    const mode = s.values.get('-m') ?? s.values.get('--mode');
    if (mode && isSetuid(mode.text)) return [forbidden('install sets a setuid or setgid bit')];
  }
  for (const source of operands) {
    if (name === 'ln') {
      const risk = readRisk(source, ctx);
      if (risk) parts.push({ risk: risk.risk, reason: `ln links to a secret: ${risk.reason}` });
      continue;
    }
    const read = recursive && name !== 'mv' ? readRisk(treeOf(source), ctx) : readRisk(source, ctx);
    if (read) parts.push(read);
    if (name === 'mv') parts.push(writeRisk(source, ctx, { removes: true, recursive: true, verb: 'mv moves away' }));
  }
  parts.push(writeRisk(destination, ctx, { recursive: recursive && name !== 'mv' ? true : undefined, verb: `${name} writes` }));
  return parts;
}

function treeOf(word: Word): Word {
  if (word.dynamic) return word;
  return literalWord(`${word.text.replace(/\/+$/, '')}/${ANY_BELOW}`);
}

const isSetuid = (mode: string) => /(?:^|[,ugoa]*)[+=][rwxXt]*s/.test(mode) || /^[0-7]*[2467][0-7]{3}$/.test(mode);

function permissions(name: string, args: readonly Word[], ctx: Ctx): Part[] {
  const s = split(args, ['--reference', '--from']);
  const recursive = has(s, '-R', '--recursive');
  const operands = [...s.operands];
  const spec = s.values.has('--reference') ? undefined : operands.shift();
  if (!spec || operands.length === 0) return [high(`${name} without a target`)];
  if (name === 'chmod' && isSetuid(spec.text)) return [forbidden('chmod sets a setuid or setgid bit')];
  const parts = operands.map((w) => {
    const path = w.dynamic ? null : normalizePattern(w.text, ctx.cwd);
    if (path && SYSTEM_ROOTS.test(path)) return forbidden(`${name} on the system path ${w.text}`);
    return writeRisk(w, ctx, { recursive, verb: `${name}${recursive ? ' -R' : ''} changes` });
  });
  return worst(parts, high(`${name} changes ownership or permissions`));
}

function ddRisk(args: readonly Word[], ctx: Ctx): Part[] {
  const parts: Part[] = [];
  for (const arg of args) {
    const m = /^(if|of)=(.*)$/.exec(arg.text);
    if (arg.dynamic && /^(?:if|of)=/.test(arg.text)) parts.push(high(`dd ${arg.text}: a file only known when the command runs`));
    else if (m?.[1] === 'if') {
      const risk = readRisk(literalWord(m[2]!), ctx);
      if (risk) parts.push(risk);
    } else if (m?.[1] === 'of') parts.push(writeRisk(literalWord(m[2]!), ctx, { verb: 'dd writes' }));
    else if (!/^(?:bs|ibs|obs|cbs|count|skip|seek|iseek|oseek|conv|status|iflag|oflag)=[\w,]+$/.test(arg.text))
      parts.push(high(`dd ${arg.text} is not understood`));
  }
  return parts.length ? parts : [readOnly('dd copies standard input to standard output')];
}

function sedInPlace(args: readonly Word[], ctx: Ctx): Part[] {
  const s = split(args, ['-e', '--expression', '-f', '--file', '-l']);
  if (has(s, '-f', '--file')) return [high('sed runs a script from a file')];
  const operands = [...s.operands];
  const script = s.values.get('-e') ?? s.values.get('--expression') ?? operands.shift();
  if (!script) return [high('sed without a script')];
  if (script.dynamic) return [high('sed script only known when the command runs')];
  const risk = sedScriptRisk(script.text, ctx);
  const parts: Part[] = typeof risk === 'string' ? [high(risk)] : risk;
  const inPlace =
    [...s.flags].some((f) => f === '-i' || f.startsWith('--in-place')) || [...s.values.keys()].some((k) => k.startsWith('--in-place'));
  if (!inPlace) return [...parts, high('sed with options outside its grammar')];
  return [...parts, ...writesEach('sed -i', operands, ctx, 'edits in place', low('sed -i edits files in place'))];
}

function compressRisk(name: string, args: readonly Word[], ctx: Ctx): Part[] {
  const s = split(args, ['-S', '--suffix']);
  const recursive = has(s, '-r', '--recursive');
  const parts = s.operands.map((w) => writeRisk(recursive ? treeOf(w) : w, ctx, { verb: `${name} replaces` }));
  return parts.length ? [...dynamicRefusal(s), ...parts] : [readOnly(`${name} filters standard input`)];
}

function crontabRisk(args: readonly Word[]): Part[] {
  const flags = args.map((a) => a.text);
  if (flags.includes('-r') || flags.some((f) => /^-[a-z]*r/.test(f)))
    return [forbidden('crontab -r removes every scheduled job of the user')];
  return [high('crontab installs or edits scheduled jobs')];
}

function tarRisk(args: readonly Word[], ctx: Ctx): Part[] {
  const s = split(args, ['-f', '--file', '-C', '--directory', '-T', '--files-from', '--exclude', '-X']);
  const mode = [...s.flags, ...(args[0] && /^[a-zA-Z]+$/.test(args[0].text) ? [...args[0].text].map((c) => `-${c}`) : [])];
  const extract = mode.includes('-x') || mode.includes('--extract') || mode.includes('--get');
  const create = mode.includes('-c') || mode.includes('--create') || mode.includes('-r') || mode.includes('-u');
  const directory = s.values.get('-C') ?? s.values.get('--directory') ?? literalWord('.');
  const archive = s.values.get('-f') ?? s.values.get('--file');
  if (extract)
    return worst(
      [
        writeRisk(treeOf(directory), ctx, { verb: 'tar extracts into' }),
        ...(archive ? [readRisk(archive, ctx)].filter((p): p is Part => p !== null) : []),
      ],
      high('tar extracts files'),
    );
  if (create) {
    const reads = s.operands
      .filter((w) => w !== args[0] || !/^[a-zA-Z]+$/.test(w.text))
      .map((w) => readRisk(treeOf(w), ctx))
      .filter((p): p is Part => p !== null);
    return [...reads, archive ? writeRisk(archive, ctx, { verb: 'tar writes' }) : low('tar writes to standard output')];
  }
  if (mode.includes('-t') || mode.includes('--list'))
    return archive ? [readRisk(archive, ctx) ?? readOnly('tar lists an archive')] : [readOnly('tar lists an archive')];
  return [high('tar mode not understood')];
}

function rsyncRisk(args: readonly Word[], ctx: Ctx): Part[] {
  const s = split(args, ['-e', '--rsh', '--exclude', '--include', '--filter', '-f', '--files-from']);
  if (has(s, '-e', '--rsh')) return [high('rsync runs a remote shell')];
  const destination = s.operands.at(-1);
  if (!destination || destination.text.includes(':')) return [high('rsync to another host')];
  const removes = [...s.flags].some((f) => f.startsWith('--delete') || f === '--remove-source-files');
  return worst([writeRisk(treeOf(destination), ctx, { removes, recursive: true, verb: 'rsync writes into' })], high('rsync copies trees'));
}

type Rule = (name: string, args: readonly Word[], ctx: Ctx) => Part[];

const DISK_TOOLS =
  /^(?:mkfs(?:\..+)?|mke2fs|mkswap|mkfs|fdisk|sfdisk|cfdisk|parted|gdisk|sgdisk|cgdisk|wipefs|blkdiscard|hdparm|sgdisk|pvcreate|pvremove|vgremove|lvremove|vgreduce|mdadm|cryptsetup|zpool|badblocks|e2fsck|fsck(?:\..+)?|xfs_repair|tune2fs|resize2fs|debugfs)$/;
const ACCOUNT_TOOLS =
  /^(?:passwd|chpasswd|usermod|useradd|adduser|userdel|deluser|groupadd|groupdel|groupmod|gpasswd|visudo|vipw|vigr|chage|su|sudoedit|chsh|chfn|newusers|pwconv|pwunconv|grpconv)$/;

/** The change rules: command → risk of its arguments. */
export const CHANGE_RULES: Readonly<Record<string, Rule>> = {
  rm: removal,
  rmdir: (n, a, c) =>
    writesEach(
      n,
      a.filter((w) => !w.text.startsWith('-')),
      c,
      'removes',
    ),
  unlink: (n, a, c) => writesEach(n, a, c, 'removes'),
  shred: (n, a, c) =>
    worst(
      split(a, ['-n', '-s', '--iterations', '--size']).operands.map((w) => writeRisk(w, c, { removes: true, verb: 'shred destroys' })),
      high('shred destroys files for good'),
    ),
  wipe: (n, a, c) =>
    worst(
      split(a).operands.map((w) => writeRisk(w, c, { removes: true, verb: 'wipe destroys' })),
      high('wipe destroys files for good'),
    ),
  srm: (n, a, c) =>
    worst(
      split(a).operands.map((w) => writeRisk(w, c, { removes: true, recursive: true, verb: 'srm destroys' })),
      high('srm destroys files for good'),
    ),
  dd: (_, a, c) => ddRisk(a, c),
  cp: copyLike,
  mv: copyLike,
  install: copyLike,
  ln: copyLike,
  mkdir: (n, a, c) => writesEach(n, split(a, ['-m', '--mode']).operands, c, 'creates'),
  touch: (n, a, c) => writesEach(n, split(a, ['-d', '-t', '-r', '--date', '--reference']).operands, c, 'touches'),
  truncate: (n, a, c) => writesEach(n, split(a, ['-s', '--size', '-r', '--reference']).operands, c, 'truncates'),
  chmod: permissions,
  chown: permissions,
  chgrp: permissions,
  chattr: (n, a, c) =>
    worst(
      a.filter((w) => !/^[-+=][a-zA-Z]+$/.test(w.text)).map((w) => writeRisk(w, c, { verb: 'chattr changes' })),
      high('chattr changes file attributes'),
    ),
  setfacl: (n, a, c) =>
    worst(
      split(a, ['-m', '-x', '-M', '-X', '--modify', '--remove', '--set']).operands.map((w) =>
        writeRisk(w, c, { verb: 'setfacl grants access to' }),
      ),
      high('setfacl changes access'),
    ),
  sed: (_, a, c) => sedInPlace(a, c),
  gzip: compressRisk,
  gunzip: compressRisk,
  bzip2: compressRisk,
  bunzip2: compressRisk,
  xz: compressRisk,
  unxz: compressRisk,
  zstd: compressRisk,
  unzstd: compressRisk,
  tar: (_, a, c) => tarRisk(a, c),
  rsync: (_, a, c) => rsyncRisk(a, c),
  kill: (_, a) => killRisk(a),
  pkill: pkillRisk,
  killall: pkillRisk,
  killall5: () => [forbidden('killall5 signals every process')],
  systemctl: (_, a, c) => systemctlRisk(a, c),
  service: (_, a) => serviceRisk(a),
  supervisorctl: (_, a) => supervisorctlRisk(a),
  journalctl: (_, a) =>
    a.some((w) => /^--vacuum/.test(w.text))
      ? [high('journalctl --vacuum deletes journal history')]
      : a.some((w) => /^--(?:rotate|flush|sync|relinquish-var)$/.test(w.text))
        ? [low('journalctl rotates or flushes the journal')]
        : [high('journalctl options outside its grammar')],
  timedatectl: (_, a) =>
    a[0]?.text === 'set-ntp' && /^(?:true|yes|1|on)$/.test(a[1]?.text ?? '') && a.length === 2
      ? [low('timedatectl enables time sync')]
      : [high(`timedatectl ${a.map((w) => w.text).join(' ')}`)],
  chronyc: (_, a) =>
    /^(?:makestep|burst)$/.test(a[0]?.text ?? '') && a.length <= 3
      ? [low(`chronyc ${a[0]!.text} steps the clock to its sources`)]
      : [high(`chronyc ${a[0]?.text ?? ''}`)],
  hostname: () => [high('hostname with an operand, -F or -b sets the host name')],
  hostnamectl: () => [high('hostnamectl changes the host name')],
  date: () => [high('date sets the clock')],
  hwclock: () => [high('hwclock sets a clock')],
  sysctl: () => [high('sysctl changes kernel settings')],
  ip: (_, a, c) => ipChange(a, c),
  iptables: iptablesRisk,
  ip6tables: iptablesRisk,
  nft: iptablesRisk,
  ufw: (_, a) =>
    /^(?:disable|reset)$/.test(a[0]?.text ?? '')
      ? [high(`ufw ${a[0]!.text}`)]
      : a[0]?.text === 'default' && a.some((w) => /^(?:deny|reject)$/.test(w.text))
        ? [forbidden('ufw default deny can lock everyone out')]
        : [high('ufw changes the firewall')],
  mount: () => [high('mount changes mounts')],
  umount: () => [high('umount changes mounts')],
  swapoff: () => [high('swapoff changes swap')],
  swapon: () => [high('swapon changes swap')],
  crontab: (_, a) => crontabRisk(a),
  logrotate: (_, a, c) => {
    const config = a.filter((w) => !w.text.startsWith('-'));
    return config.length === 1 &&
      config[0]!.text === '/etc/logrotate.conf' &&
      a.every((w) => /^(?:-f|--force|-v|--verbose|\/etc\/logrotate\.conf)$/.test(w.text))
      ? [low('logrotate rotates logs with the system configuration')]
      : [high('logrotate with another configuration runs its scripts'), ...config.flatMap((w) => readRisk(w, c) ?? [])];
  },
  kubectl: (_, a) => kubectlRisk(a),
  terraform: (_, a) => terraformRisk(a),
  docker: (n, a) => (/^(?:restart|start)$/.test(a[0]?.text ?? '') ? [low(`${n} ${a[0]!.text}`)] : [high(`${n} ${a[0]?.text ?? ''}`)]),
  podman: (n, a) => (/^(?:restart|start)$/.test(a[0]?.text ?? '') ? [low(`${n} ${a[0]!.text}`)] : [high(`${n} ${a[0]?.text ?? ''}`)]),
  history: (_, a) =>
    a.some((w) => /^-[a-z]*[cdw]/.test(w.text))
      ? [forbidden('history -c/-d/-w wipes the shell history')]
      : [high('history prints typed commands (they may hold secrets)')],
  init: (_, a, c) => (/^[06sS]$/.test(a[0]?.text ?? '') ? takesHostDown(`init ${a[0]!.text}`, c) : [high('init changes the runlevel')]),
  telinit: (_, a, c) =>
    /^[06sS]$/.test(a[0]?.text ?? '') ? takesHostDown(`telinit ${a[0]!.text}`, c) : [high('telinit changes the runlevel')],
  shutdown: (n, _, c) => takesHostDown(n, c),
  reboot: (n, _, c) => takesHostDown(n, c),
  halt: (n, _, c) => takesHostDown(n, c),
  poweroff: (n, _, c) => takesHostDown(n, c),
  kexec: (n, _, c) => takesHostDown(n, c),
  renice: () => [low('renice changes the priority of running processes')],
};

/** ip changes are high; `ip netns exec NS CMD` runs CMD in another network namespace: at least high. */
function ipChange(args: readonly Word[], ctx: Ctx): Part[] {
  const at = args.findIndex((w) => w.text === 'netns');
  if (at >= 0 && args[at + 1]?.text === 'exec') {
    const name = args[at + 2];
    const inner = args.slice(at + 3);
    if (!name || typeof kindRisk('name', name, ctx) === 'string' || inner.length === 0)
      return [high('ip netns exec without a plain namespace and command')];
    return [high('ip netns exec runs a command in another network namespace'), ...ctx.argv(inner)];
  }
  return [high('ip changes networking')];
}

export function changeRule(name: string): Rule | undefined {
  if (DISK_TOOLS.test(name)) return (n) => [forbidden(`${n} reformats, repartitions or rewrites disks`)];
  if (ACCOUNT_TOOLS.test(name)) return (n) => [forbidden(`${n} changes accounts or access`)];
  return Object.hasOwn(CHANGE_RULES, name) ? CHANGE_RULES[name] : undefined;
}
