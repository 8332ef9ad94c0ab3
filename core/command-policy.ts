import { parse, type ParseEntry } from 'shell-quote';

// Classifies a shell command before it may run on a host. Diagnostics must be `read-only`; a change
// is `low` (routine and reversible: start a service, rotate a log) or `high` (anything else we know
// or anything we do not know); `forbidden` never runs, whoever approves it. The command is parsed
// into pipelines, redirections and nested commands (`sh -c '…'`, `$(…)`, `find -exec`, `xargs`),
// and the riskiest part decides. Text from hosts or documents is never a command source, so this
// guards the plan (runbook or LLM) rather than parsing hostile input alone — but it must hold
// against a hostile plan too, which is why unknown commands are `high` and parse oddities refuse.

export const COMMAND_RISKS = ['read-only', 'low', 'high', 'forbidden'] as const;
export type CommandRisk = (typeof COMMAND_RISKS)[number];

export interface CommandPolicy {
  /** `shutdown`/`reboot`/`poweroff` are forbidden unless a policy allows them (then `high`). */
  allowReboot?: boolean;
}

export interface CommandClassification {
  risk: CommandRisk;
  /** Why the riskiest parts are as risky as they are. */
  reasons: string[];
}

const RANK: Record<CommandRisk, number> = { 'read-only': 0, low: 1, high: 2, forbidden: 3 };
export const riskAtLeast = (risk: CommandRisk, floor: CommandRisk) => RANK[risk] >= RANK[floor];
export const maxRisk = (a: CommandRisk, b: CommandRisk): CommandRisk => (RANK[a] >= RANK[b] ? a : b);

const MAX_COMMAND_LENGTH = 4000;
const MAX_DEPTH = 4;

/** Paths whose recursive removal, reformatting or ownership change would wreck a host. */
const SYSTEM_PATHS =
  /^(?:\/|\/\*|~|~\/|\$HOME|\/(?:bin|boot|dev|etc|home|lib|lib32|lib64|opt|proc|root|run|sbin|srv|sys|usr|var)(?:\/\*?)?)$/;
/** Files that grant access: editing them is never automated. */
const AUTH_FILES =
  /(?:^|\/)(?:passwd|shadow|gshadow|group|sudoers(?:\.d\/.*)?|authorized_keys2?|sshd_config(?:\.d\/.*)?)$|^\/etc\/pam\.d\//;
/** Files holding secrets: reading them is no diagnostic. */
const SECRET_FILES =
  /(?:^|\/)(?:shadow|gshadow|id_(?:rsa|dsa|ecdsa|ed25519)|ssh_host_\w+_key|[^/]*\.(?:key|pem|p12|pfx)|\.netrc|\.pgpass|credentials)$/;
const BLOCK_DEVICES = /^\/dev\/(?:sd|hd|vd|xvd|nvme|mmcblk|md|dm-|mapper\/|disk\/|loop)/;
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'fish', 'python', 'python3', 'perl', 'ruby', 'node', 'php', 'lua']);
const WRAPPERS = new Set(['sudo', 'nice', 'ionice', 'nohup', 'timeout', 'stdbuf', 'env', 'command', 'exec', 'time']);

/** Commands that only read, whatever their arguments (argument checks below cover the exceptions). */
const READ_ONLY = new Set([
  'cat',
  'head',
  'tail',
  'grep',
  'egrep',
  'fgrep',
  'zgrep',
  'zcat',
  'ls',
  'stat',
  'df',
  'du',
  'free',
  'uptime',
  'ps',
  'pgrep',
  'pidof',
  'ss',
  'netstat',
  'lsof',
  'id',
  'whoami',
  'hostname',
  'uname',
  'getent',
  'dig',
  'nslookup',
  'host',
  'wc',
  'sort',
  'uniq',
  'cut',
  'tr',
  'echo',
  'printf',
  'test',
  '[',
  'true',
  'false',
  'sleep',
  'nproc',
  'lscpu',
  'lsblk',
  'findmnt',
  'vmstat',
  'iostat',
  'mpstat',
  'readlink',
  'realpath',
  'basename',
  'dirname',
  'md5sum',
  'sha1sum',
  'sha256sum',
  'file',
  'which',
  'type',
  'printenv',
  'w',
  'who',
  'last',
  'ping',
  'tracepath',
  'traceroute',
  'ntpq',
  'column',
  'jq',
  'nl',
  'rev',
  'seq',
  'yes',
  'diff',
  'cmp',
  'comm',
  'stat',
  'blkid',
  'lsmod',
  'arp',
]);

type Part = { risk: CommandRisk; reason: string };

export function classifyCommand(command: string, policy: CommandPolicy = {}): CommandClassification {
  const parts = classifyScript(command, policy, 0);
  const risk = parts.reduce<CommandRisk>((worst, part) => maxRisk(worst, part.risk), 'read-only');
  const reasons = [...new Set(parts.filter((p) => p.risk === risk).map((p) => p.reason))];
  return { risk, reasons: reasons.length ? reasons : ['only reads'] };
}

export const isReadOnlyCommand = (command: string) => classifyCommand(command).risk === 'read-only';

function classifyScript(script: string, policy: CommandPolicy, depth: number): Part[] {
  if (depth > MAX_DEPTH) return [{ risk: 'forbidden', reason: 'nested too deeply to check' }];
  if (!script.trim()) return [{ risk: 'forbidden', reason: 'empty command' }];
  if (script.length > MAX_COMMAND_LENGTH) return [{ risk: 'forbidden', reason: 'command too long to check' }];
  if (/[\n\r\0]/.test(script)) return [{ risk: 'forbidden', reason: 'several lines: send one command per step' }];
  if (/:\(\)\s*\{/.test(script)) return [{ risk: 'forbidden', reason: 'fork bomb' }];
  if (/`/.test(script)) return [{ risk: 'forbidden', reason: 'backtick command substitution cannot be checked; use $(…)' }];
  if (/\beval\b/.test(script)) return [{ risk: 'forbidden', reason: 'eval runs text that cannot be checked' }];

  let entries: ParseEntry[];
  try {
    // Variables stay literal ($1 stays "$1"): we classify what is written, not what it expands to.
    entries = parse(script, (name) => `$${name}`);
  } catch {
    return [{ risk: 'forbidden', reason: 'the command does not parse' }];
  }

  const parts: Part[] = [];
  // Split into simple commands at control operators, keeping redirections with their command.
  let current: { argv: string[]; redirects: { op: string; target: string }[] } = { argv: [], redirects: [] };
  const commands: (typeof current & { pipedFrom: boolean; pipeTo: boolean })[] = [];
  let pipedFrom = false;
  const flush = (pipeTo: boolean) => {
    if (current.argv.length || current.redirects.length) commands.push({ ...current, pipedFrom, pipeTo });
    current = { argv: [], redirects: [] };
  };
  for (let i = 0; i < entries.length; i += 1) {
    const entry = entries[i]!;
    if (typeof entry === 'string') {
      current.argv.push(entry);
      continue;
    }
    if ('comment' in entry) return [{ risk: 'forbidden', reason: 'comments are not allowed in a command' }];
    if (!('op' in entry)) return [{ risk: 'forbidden', reason: 'unsupported shell syntax' }];
    const op = entry.op as string;
    if (op === 'glob') {
      current.argv.push((entry as { pattern: string }).pattern);
    } else if (op === '|' || op === '|&') {
      flush(true);
      pipedFrom = true;
    } else if (op === '&&' || op === '||' || op === ';') {
      flush(false);
      pipedFrom = false;
    } else if (op === '&') {
      return [{ risk: 'forbidden', reason: 'background jobs outlive the step and cannot be supervised' }];
    } else if (op === '>' || op === '>>' || op === '>|' || op === '<' || op === '<<' || op === '<<<' || op === '>&' || op === '<&') {
      const next = entries[i + 1];
      if (typeof next !== 'string') return [{ risk: 'forbidden', reason: `redirection ${op} without a target` }];
      // `2>/dev/null` parses as argument "2" then `>`: the digit is the descriptor, not an argument.
      if (/^\d$/.test(current.argv.at(-1) ?? '') && op.startsWith('>')) current.argv.pop();
      current.redirects.push({ op, target: next });
      i += 1;
    } else {
      // <( ), >( ), ( ) subshells and anything else we do not model.
      return [{ risk: 'forbidden', reason: `unsupported shell syntax '${op}'` }];
    }
  }
  flush(false);

  for (const cmd of commands) {
    for (const redirect of cmd.redirects) parts.push(classifyRedirect(redirect.op, redirect.target));
    for (const arg of cmd.argv) for (const inner of substitutions(arg)) parts.push(...classifyScript(inner, policy, depth + 1));
    if (cmd.argv.length) parts.push(...classifyArgv(cmd.argv, policy, depth, cmd.pipedFrom));
  }
  return parts;
}

/** The commands inside `$(…)` in an argument (not nested; nested ones are refused by the parser check). */
function substitutions(arg: string): string[] {
  const found: string[] = [];
  const pattern = /\$\(([^()]*)\)/g;
  for (let m = pattern.exec(arg); m; m = pattern.exec(arg)) found.push(m[1]!);
  if (found.length === 0 && arg.includes('$(')) found.push('$(');
  return found;
}

function classifyRedirect(op: string, target: string): Part {
  if (op.startsWith('<')) return { risk: 'read-only', reason: 'reads a file' };
  if (target === '/dev/null' || target === '&1' || target === '&2' || /^\d$/.test(target))
    return { risk: 'read-only', reason: 'discards output' };
  if (BLOCK_DEVICES.test(target)) return { risk: 'forbidden', reason: `writes to the block device ${target}` };
  if (AUTH_FILES.test(target)) return { risk: 'forbidden', reason: `edits the access file ${target}` };
  if (/^\/(?:etc|boot|usr|bin|sbin|lib)\//.test(target)) return { risk: 'high', reason: `writes the system file ${target}` };
  return { risk: 'low', reason: `writes the file ${target}` };
}

const hasFlag = (argv: readonly string[], ...flags: string[]) =>
  argv.some(
    (a) =>
      flags.includes(a) || flags.some((f) => /^-[a-zA-Z]$/.test(f) && /^-[a-zA-Z]+$/.test(a) && !a.startsWith('--') && a.includes(f[1]!)),
  );
const positional = (argv: readonly string[]) => argv.slice(1).filter((a) => !a.startsWith('-'));

function classifyArgv(argvIn: readonly string[], policy: CommandPolicy, depth: number, pipedFrom: boolean): Part[] {
  let argv = [...argvIn];
  // Wrappers run the command after them: classify that (sudo itself adds no risk we do not see).
  while (argv.length) {
    const name = basename(argv[0]!);
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0]!)) {
      argv = argv.slice(1);
      continue;
    }
    if (!WRAPPERS.has(name)) break;
    argv = argv.slice(1);
    while (argv.length && (argv[0]!.startsWith('-') || /^\d+[smhd]?$/.test(argv[0]!) || /^[A-Za-z_]\w*=/.test(argv[0]!)))
      argv = argv.slice(1);
  }
  if (!argv.length) return [{ risk: 'read-only', reason: 'no command' }];
  const name = basename(argv[0]!);
  const args = argv.slice(1);
  const paths = positional(argv);
  const readsSecret = paths.some((p) => SECRET_FILES.test(p));
  const ro = (reason = `${name} only reads`): Part[] => [
    readsSecret ? { risk: 'high', reason: `${name} reads a secret file` } : { risk: 'read-only', reason },
  ];
  const low = (reason: string): Part[] => [{ risk: 'low', reason }];
  const high = (reason: string): Part[] => [{ risk: 'high', reason }];
  const forbidden = (reason: string): Part[] => [{ risk: 'forbidden', reason }];

  if (SHELLS.has(name)) {
    // A pipe into an interpreter runs whatever came down the pipe (curl … | sh): never.
    if (pipedFrom || args.length === 0) return forbidden(`${name} runs text from a pipe or stdin that cannot be checked`);
    const flagIndex = args.findIndex((a) => a === '-c' || a === '-e');
    if ((name === 'sh' || name === 'bash' || name === 'dash' || name === 'zsh') && flagIndex >= 0 && args[flagIndex + 1] !== undefined) {
      return classifyScript(args[flagIndex + 1]!, policy, depth + 1);
    }
    return high(`${name} runs a script that cannot be checked`);
  }
  if (/^mkfs(?:\..+)?$|^mke2fs$|^mkswap$|^(?:fdisk|sfdisk|cfdisk|parted|gdisk|sgdisk|wipefs|blkdiscard|hdparm)$/.test(name))
    return forbidden(`${name} reformats or repartitions disks`);
  if (
    /^(?:shutdown|reboot|halt|poweroff)$/.test(name) ||
    (name === 'init' && /^[06]$/.test(args[0] ?? '')) ||
    (name === 'telinit' && /^[06]$/.test(args[0] ?? ''))
  ) {
    return policy.allowReboot
      ? high(`${name} takes the host down (allowed by policy)`)
      : forbidden(`${name} takes the host down; no policy allows it`);
  }
  if (/^(?:passwd|chpasswd|usermod|useradd|userdel|groupmod|visudo|vipw|chage|su)$/.test(name))
    return forbidden(`${name} changes accounts or access`);

  switch (name) {
    case 'rm': {
      const recursive = hasFlag(argv, '-r', '-R', '--recursive');
      if (args.includes('--no-preserve-root')) return forbidden('rm --no-preserve-root');
      if (paths.some((p) => SYSTEM_PATHS.test(p.replace(/\/+$/, '') || '/'))) return forbidden('removes a system path');
      if (paths.some((p) => AUTH_FILES.test(p))) return forbidden('removes an access file');
      return recursive ? high('removes a directory tree') : low('removes named files');
    }
    case 'dd':
      if (args.some((a) => /^of=/.test(a) && BLOCK_DEVICES.test(a.slice(3)))) return forbidden('dd writes to a block device');
      return args.some((a) => a.startsWith('of=')) ? high('dd writes a file') : ro('dd reads');
    case 'shred':
    case 'wipe':
      return paths.some((p) => BLOCK_DEVICES.test(p) || SYSTEM_PATHS.test(p))
        ? forbidden(`${name} destroys a device or system path`)
        : high(`${name} destroys files`);
    case 'chmod':
    case 'chown':
    case 'chgrp': {
      const targets = paths.slice(1);
      if (targets.some((p) => SYSTEM_PATHS.test(p.replace(/\/+$/, '') || '/'))) return forbidden(`${name} on a system path`);
      if (targets.some((p) => AUTH_FILES.test(p))) return forbidden(`${name} on an access file`);
      return high(`${name} changes permissions`);
    }
    case 'cp':
    case 'mv':
    case 'install':
    case 'ln': {
      const destination = paths.at(-1) ?? '';
      if (AUTH_FILES.test(destination)) return forbidden(`${name} overwrites an access file`);
      if (BLOCK_DEVICES.test(destination)) return forbidden(`${name} writes to a block device`);
      if (hasFlag(argv, '-r', '-R', '--recursive') && SYSTEM_PATHS.test(destination)) return forbidden(`${name} over a system path`);
      return low(`${name} copies or moves files (the previous version is kept by the runbook step)`);
    }
    case 'tee': {
      if (paths.some((p) => AUTH_FILES.test(p))) return forbidden('tee edits an access file');
      if (paths.some((p) => BLOCK_DEVICES.test(p))) return forbidden('tee writes to a block device');
      return paths.length ? low('tee writes a file') : ro();
    }
    case 'sed':
    case 'perl':
      if (hasFlag(argv, '-i') || args.some((a) => a.startsWith('-i') || a === '--in-place')) {
        if (paths.some((p) => AUTH_FILES.test(p))) return forbidden(`${name} -i edits an access file`);
        return high(`${name} -i edits a file in place`);
      }
      return ro();
    case 'awk':
    case 'gawk':
    case 'mawk':
      // awk can write files and run commands from inside its program.
      return args.some((a) => /\bsystem\s*\(|\|\s*"|print[^;}]*>\s*"|getline/.test(a))
        ? high('awk program runs commands or writes files')
        : ro();
    case 'find': {
      if (hasFlag(argv, '-delete')) {
        if (paths.some((p) => SYSTEM_PATHS.test(p.replace(/\/+$/, '') || '/'))) return forbidden('find -delete over a system path');
        return low('find deletes matching files');
      }
      if (args.some((a) => /^-(?:fprint|fprintf|fls)$/.test(a))) return low('find writes a file');
      const execAt = args.findIndex((a) => /^-(?:exec|execdir|ok|okdir)$/.test(a));
      if (execAt >= 0) {
        const end = args.findIndex((a, i) => i > execAt && (a === ';' || a === '+' || a === '\\;'));
        const inner = args.slice(execAt + 1, end < 0 ? undefined : end).map((a) => (a === '{}' ? '/placeholder' : a));
        if (paths.some((p) => SYSTEM_PATHS.test(p.replace(/\/+$/, '') || '/')) && inner.length) {
          const nested = classifyArgv(inner, policy, depth + 1, false);
          if (nested.some((p) => p.risk !== 'read-only')) return forbidden('find -exec changes files across a system path');
        }
        return inner.length ? classifyArgv(inner, policy, depth + 1, false) : forbidden('find -exec without a command');
      }
      return ro();
    }
    case 'xargs': {
      const rest = args.filter((a, i) => !(a.startsWith('-') || /^-[nIdPL]$/.test(args[i - 1] ?? '')));
      return rest.length ? classifyArgv(rest, policy, depth + 1, false) : ro('xargs echoes');
    }
    case 'curl':
    case 'wget': {
      const writes =
        args.some((a) => /^-(?:o|O|T|d)$|^--(?:output|remote-name|upload-file|data.*|post-data|post-file)|^-X$|^--request$/.test(a)) ||
        (name === 'wget' && !args.includes('-O-') && !args.includes('-qO-'));
      return writes ? high(`${name} sends data or writes a file`) : ro(`${name} reads a URL`);
    }
    case 'kill':
    case 'pkill':
    case 'killall': {
      const targets = paths;
      if (targets.some((t) => t === '1' || t === '-1' || /^(?:sshd|systemd|init)$/.test(t)) || args.includes('-1'))
        return forbidden(`${name} would kill init, every process or sshd`);
      if (args.some((a) => /^-(?:9|KILL|SIGKILL)$/.test(a) || a === '-s'))
        return high(`${name} kills without letting the process clean up`);
      return low(`${name} asks processes to stop`);
    }
    case 'truncate':
      return paths.some((p) => AUTH_FILES.test(p)) ? forbidden('truncates an access file') : low('truncates a file');
    case 'gzip':
    case 'xz':
    case 'bzip2':
    case 'zstd':
      return args.some((a) => a === '-t' || a === '-l' || a === '-c' || a === '--stdout') || paths.length === 0
        ? ro()
        : low(`${name} compresses files`);
    case 'systemctl': {
      const verb = paths[0] ?? '';
      if (
        /^(?:status|is-active|is-enabled|is-failed|show|list-units|list-unit-files|list-timers|list-dependencies|cat|--failed)$/.test(
          verb,
        ) ||
        args.includes('--failed')
      )
        return ro();
      if (/^(?:reboot|poweroff|halt|kexec|emergency|rescue)$/.test(verb))
        return policy.allowReboot ? high(`systemctl ${verb} (allowed by policy)`) : forbidden(`systemctl ${verb} takes the host down`);
      if (paths.slice(1).some((u) => /^(?:sshd?|systemd-logind|dbus)(?:\.service)?$/.test(u)) && /^(?:stop|disable|mask|kill)$/.test(verb))
        return forbidden(`systemctl ${verb} on the access path (sshd, logind, dbus)`);
      if (/^(?:start|restart|reload|try-restart|reload-or-restart|reset-failed)$/.test(verb)) return low(`systemctl ${verb} a service`);
      return high(`systemctl ${verb}`);
    }
    case 'service': {
      const verb = paths[1] ?? '';
      if (verb === 'status') return ro();
      if (/^sshd?$/.test(paths[0] ?? '') && verb === 'stop') return forbidden('stops sshd');
      return /^(?:start|restart|reload|force-reload|try-restart)$/.test(verb)
        ? low(`service ${verb}`)
        : high(`service ${verb || '(no action)'}`);
    }
    case 'supervisorctl': {
      // -c FILE / -s URL / -u USER / -p PASSWORD take values that are not the action.
      const verb = args.filter((a, i) => !a.startsWith('-') && !/^-[csup]$/.test(args[i - 1] ?? ''))[0] ?? 'status';
      if (/^(?:status|tail|avail|pid|version|help|maintail)$/.test(verb)) return ro();
      return /^(?:start|restart|reread|update|signal)$/.test(verb) ? low(`supervisorctl ${verb}`) : high(`supervisorctl ${verb}`);
    }
    case 'journalctl':
      return args.some((a) => /^--(?:vacuum|rotate|flush|relinquish)/.test(a)) ? low('journalctl trims or rotates the journal') : ro();
    case 'dmesg':
      return args.some((a) => /^-(?:c|C|n|D|E)$|^--(?:clear|read-clear|console)/.test(a)) ? high('dmesg changes the kernel log') : ro();
    case 'date':
      return args.some((a) => a === '-s' || a.startsWith('--set')) ? high('date sets the clock') : ro();
    case 'timedatectl': {
      const verb = paths[0] ?? 'status';
      if (/^(?:status|show|timesync-status|show-timesync|list-timezones)$/.test(verb)) return ro();
      return verb === 'set-ntp' ? low('timedatectl enables time sync') : high(`timedatectl ${verb}`);
    }
    case 'chronyc': {
      const verb = paths[0] ?? '';
      if (/^(?:tracking|sources|sourcestats|activity|ntpdata|serverstats)$/.test(verb)) return ro();
      return verb === 'makestep' || verb === 'burst' ? low(`chronyc ${verb} steps the clock to its sources`) : high(`chronyc ${verb}`);
    }
    case 'sysctl':
      return args.some((a) => a === '-w' || a === '-p' || a.includes('=')) ? high('sysctl changes kernel settings') : ro();
    case 'ip':
      return args.some((a) => /^(?:add|del|delete|change|replace|set|flush|append)$/.test(a)) ? high('ip changes networking') : ro();
    case 'iptables':
    case 'ip6tables':
    case 'nft':
      return args.some((a) => /^-(?:L|S|n|v|x|-list)$|^list$/.test(a)) &&
        !args.some((a) => /^-(?:A|D|I|R|F|X|P|N|Z)$|^(?:add|delete|flush|insert|replace)$/.test(a))
        ? ro()
        : high(`${name} changes the firewall`);
    case 'mount':
      return args.length === 0 ? ro() : high('mount changes mounts');
    case 'umount':
      return high('umount changes mounts');
    case 'openssl':
      // x509/verify read certificates (public by nature, often .pem): no secret-file objection.
      return /^(?:x509|s_client|verify|version|crl)$/.test(paths[0] ?? '') &&
        !args.some((a) => /^-(?:out|signkey|text)$/.test(a) && paths[0] !== 'x509') &&
        !args.includes('-out')
        ? [{ risk: 'read-only', reason: 'openssl inspects certificates' }]
        : high(`openssl ${paths[0] ?? ''}`);
    case 'crontab':
      return args.includes('-l') ? ro() : high('crontab edits scheduled jobs');
    case 'kubectl': {
      const namespaceAt = args.findIndex((a) => a === '-n' || a === '--namespace');
      const verb = paths.find((p) => namespaceAt < 0 || p !== args[namespaceAt + 1]) ?? '';
      if (/^(?:get|describe|logs|top|explain|version|api-resources|cluster-info|events|auth)$/.test(verb)) return ro();
      if (verb === 'rollout') {
        const sub = paths[paths.indexOf('rollout') + 1] ?? '';
        if (/^(?:status|history)$/.test(sub)) return ro();
        return sub === 'restart' ? low('kubectl rollout restart') : high(`kubectl rollout ${sub}`);
      }
      if (verb === 'delete' && args.some((a) => /^(?:namespace|ns|node|nodes|pv|pvc|crd)\b/.test(a)))
        return forbidden('kubectl delete of a namespace, node or volume');
      return high(`kubectl ${verb}`);
    }
    case 'terraform': {
      const verb = paths.find((p) => !p.startsWith('-chdir')) ?? '';
      if (
        /^(?:plan|show|validate|version|output|providers|fmt)$/.test(verb) ||
        (verb === 'state' && /^(?:list|show)$/.test(paths[paths.indexOf('state') + 1] ?? ''))
      )
        return ro();
      if (verb === 'destroy' || (verb === 'apply' && args.includes('-destroy'))) return forbidden('terraform destroy');
      return high(`terraform ${verb}`);
    }
    case 'docker':
    case 'podman': {
      const verb = paths[0] ?? '';
      if (/^(?:ps|logs|inspect|stats|images|version|info|top|port|events)$/.test(verb)) return ro();
      if (verb === 'restart' || verb === 'start') return low(`${name} ${verb}`);
      return high(`${name} ${verb}`);
    }
    case 'apt':
    case 'apt-get':
    case 'yum':
    case 'dnf':
    case 'zypper':
    case 'apk':
    case 'pip':
    case 'npm':
      return /^(?:list|show|search|policy)$/.test(paths[0] ?? '') ? ro() : high(`${name} changes installed software`);
    case 'logrotate':
      return args.includes('-d') ? ro() : low('logrotate rotates logs');
    case 'sync':
      return ro('sync flushes buffers');
    default:
      if (READ_ONLY.has(name)) return ro();
      return high(`${name} is not a command InfraAI knows; a human decides`);
  }
}

function basename(path: string): string {
  return path.replace(/^.*\//, '');
}
