// Strict checks for every value a template substitutes into a playbook. A request is free text from
// a user: a value that does not fit its pattern is refused, never escaped, so nothing in a request
// can add YAML keys, Jinja expressions or shell words to what runs. The YAML itself is emitted by
// the `yaml` package, which quotes what it writes; these checks are the second, semantic guard.

/** A check's verdict: the value to use, or why it was refused. */
export type Checked<T = string> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const no = (reason: string): Checked<never> => ({ ok: false, reason });

/** Debian/RPM package names (`nginx`, `libssl3`, `python3.11`, `g++`), no version pins or URLs. */
const PACKAGE = /^[a-z0-9][a-z0-9+.-]{0,99}$/;
/** systemd unit names without the suffix, plus an optional `.service` (`nginx`, `php8.2-fpm`, `getty@tty1`). */
const SERVICE = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$/;
/** POSIX portable user and group names (useradd's default NAME_REGEX, a little wider). */
const ACCOUNT = /^[a-z_][a-z0-9_-]{0,31}$/;
/** One path segment: letters, digits and a few safe punctuation marks; no spaces or quotes. */
const PATH_SEGMENT = /^[A-Za-z0-9_.,:@%+=-]{1,255}$/;
/** A segment in a log path pattern may also hold `*` (logrotate globs). */
const GLOB_SEGMENT = /^[A-Za-z0-9_.,:@%+=*-]{1,255}$/;
const SYSCTL_KEY = /^[a-z0-9_]+(?:\.[a-z0-9_-]+){1,6}$/;
const SYSCTL_VALUE = /^(?:-?\d{1,19}(?:[ \t]+-?\d{1,19}){0,3}|[a-z][a-z0-9_-]{0,31})$/;

/** Accounts and groups whose change grants or removes access to a host: never a template's target. */
export const PRIVILEGED_ACCOUNTS = new Set([
  'root',
  'sudo',
  'wheel',
  'admin',
  'adm',
  'shadow',
  'disk',
  'docker',
  'lxd',
  'libvirt',
  'kvm',
  'sshd',
  'ssh',
  'systemd-journal',
  'staff',
  'operator',
  'daemon',
  'bin',
  'sys',
  'nogroup',
  'nobody',
]);

/** Services whose stop would cut the path InfraAI and operators reach the host by. */
export const ACCESS_SERVICES = new Set(['ssh', 'sshd', 'ssh.service', 'sshd.service', 'ssh.socket', 'systemd-logind', 'dbus']);

export function packageName(value: string): Checked {
  return PACKAGE.test(value) ? ok(value) : no(`"${clip(value)}" is not a package name (lowercase letters, digits, + . -)`);
}

export function serviceName(value: string): Checked {
  return SERVICE.test(value) && !value.includes('..') ? ok(value) : no(`"${clip(value)}" is not a service name (letters, digits, _ . @ -)`);
}

export function accountName(value: string, what: 'user' | 'group'): Checked {
  if (!ACCOUNT.test(value)) return no(`"${clip(value)}" is not a ${what} name (lowercase letters, digits, _ -, up to 32)`);
  if (PRIVILEGED_ACCOUNTS.has(value)) return no(`${what} "${value}" grants or guards access to the host: templates never change it`);
  return ok(value);
}

/** An absolute, normalised path: no `..`, `.`, empty segments, spaces, quotes or shell characters. */
export function absolutePath(value: string, options: { glob?: boolean } = {}): Checked {
  if (!value.startsWith('/') || value === '/') return no(`"${clip(value)}" is not an absolute file path`);
  const segments = value.slice(1).split('/');
  const pattern = options.glob ? GLOB_SEGMENT : PATH_SEGMENT;
  for (const segment of segments) {
    if (segment === '..' || segment === '.') return no(`"${clip(value)}" contains "${segment}"`);
    if (!pattern.test(segment)) return no(`"${clip(value)}" is not a plain absolute path (letters, digits and _ . , : @ % + = - only)`);
  }
  return value.length <= 1024 ? ok(value) : no('the path is longer than 1024 characters');
}

/** File modes as a quoted octal string (`0644`): ansible-lint's risky-octal rule wants it so. */
export function fileMode(value: string): Checked {
  const digits = value.replace(/^0o/, '');
  if (!/^[0-7]{3,4}$/.test(digits)) return no(`"${clip(value)}" is not an octal file mode such as 0644`);
  const mode = digits.length === 3 ? `0${digits}` : digits;
  if (/^[1-7]/.test(mode)) return no(`mode ${mode} sets setuid, setgid or sticky bits: templates never do`);
  return ok(mode);
}

export function port(value: string): Checked<number> {
  const n = Number(value);
  return /^\d{1,5}$/.test(value) && n >= 1 && n <= 65535 ? ok(n) : no(`"${clip(value)}" is not a port number (1-65535)`);
}

export function sysctlKey(value: string): Checked {
  const key = value.replace(/\//g, '.');
  if (!SYSCTL_KEY.test(key)) return no(`"${clip(value)}" is not a sysctl key such as net.ipv4.ip_forward`);
  const allowed = SYSCTL_ALLOWED.some((rule) => rule.test(key));
  if (!allowed || SYSCTL_DENIED.some((rule) => rule.test(key)))
    return no(`sysctl ${key} is not one the templates set (network, memory and limits only; security and crash settings never)`);
  return ok(key);
}

export function sysctlValue(value: string): Checked {
  return SYSCTL_VALUE.test(value) ? ok(value) : no(`"${clip(value)}" is not a sysctl value (numbers or a plain word)`);
}

/** Tunables operators routinely set: network, virtual memory and resource limits. */
const SYSCTL_ALLOWED = [
  /^net\./,
  /^vm\./,
  /^fs\.(?:file-max|nr_open|aio-max-nr|inotify\.|epoll\.|pipe-max-size)/,
  /^kernel\.(?:pid_max|threads-max|shmmax|shmall|shmmni|msgmax|msgmnb|msgmni|sem|numa_balancing|sched_)/,
];
/** Within those, keys that weaken isolation or hand the kernel a command or a crash. */
const SYSCTL_DENIED = [/^vm\.mmap_min_addr$/, /^vm\.(?:panic_on_oom|drop_caches)$/, /^net\.core\.bpf_jit_(?:harden|kallsyms)$/];

/** File content given in a request: text only, bounded, and free of Jinja (ansible would evaluate it). */
export function literalContent(value: string): Checked {
  if (value.length > 65_536) return no('the content is longer than 64 KiB');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value)) return no('the content holds control characters');
  if (/\{[{%#]/.test(value))
    return no('the content holds Jinja delimiters ({{ }}, {% %}, {# #}); ansible would evaluate them. Ask for a template instead');
  return ok(value);
}

/** Variables a file template may use: the host's own names, which the inventory sets. */
export const TEMPLATE_VARIABLES = ['inventory_hostname', 'inventory_hostname_short', 'ansible_host', 'ansible_port'] as const;

/** Template content: literal text plus `{{ variable }}` references to TEMPLATE_VARIABLES only. */
export function templateContent(value: string): Checked {
  const stripped = value.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (whole, name: string) =>
    (TEMPLATE_VARIABLES as readonly string[]).includes(name) ? '' : whole,
  );
  const literal = literalContent(stripped);
  if (!literal.ok)
    return no(`a template may only use {{ ${TEMPLATE_VARIABLES.join(' }}, {{ ')} }}: ${literal.reason.replace(/\. Ask for.*$/, '')}`);
  return ok(value);
}

export const clip = (value: string) => (value.length > 60 ? `${value.slice(0, 57)}...` : value);
