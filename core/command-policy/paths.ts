// Path classes. A read is refused when it may reach a secret; a write is rated by where it lands:
// the CMDB item's data and log paths may be `low`, everything else is `high`, and paths that grant
// access, boot the host or hold its audit trail are `forbidden`. Paths are judged lexically (a
// symlink under a data path is not followed), after `~`, `$HOME`, `.`, `..` and the working
// directory are resolved; a pattern (`*`, `{a,b}`, find's `{}`) is judged by everything it may match.

import type { CmdbItem } from '../incident.js';
import type { Word } from './lexer.js';
import type { CommandRisk, Part } from './risk.js';

/** The home directory of the SSH user, whoever it is: patterns below match it anywhere. */
export const HOME = '/~home';
/** Stands for "any path below" in a pattern (find's `{}`, xargs input). */
export const ANY_BELOW = '\u0001';

export interface PathContext {
  /** Normalised working directory; null once a `cd` went somewhere unknown. */
  cwd: string | null;
  /** Normalised writable roots (the CMDB item's data and log paths). */
  writable: readonly string[];
}

/** A secret by where it is: reading it is no diagnostic, writing it grants or breaks access. */
const SECRET_RULES: readonly [RegExp, string][] = [
  [/(?:^|\/)\.ssh\/(?!(?:known_hosts2?(?:\.old)?|[^/]+\.pub|authorized_keys2?|config)$)[^/]+$/, 'an SSH private key or SSH file'],
  [/(?:^|\/)\.ssh\/.+\/.+/, 'an SSH directory'],
  [/^\/etc\/ssh\/ssh_host_[^/]*_key$/, 'an SSH host private key'],
  [/(?:^|\/)[^/]*_key$/, 'a private key'],
  [/(?:^|\/)id_(?:rsa|dsa|ecdsa|ed25519|xmss)(?:_sk)?(?!\.pub$)[^/]*$/, 'an SSH private key'],
  [/\.(?:key|p12|pfx|jks|keystore|kdbx|gpg|asc|ppk|pkcs8|keytab|tfstate(?:\.backup)?)$/i, 'a key store or key file'],
  [/\.pem$/i, 'a PEM file (it may hold a private key)'],
  [/(?:^|\/)privkey[^/]*$/i, 'a private key'],
  [/(?:^|\/)(?:private|secrets?|\.gnupg|\.password-store|\.vault-token|keys?)(?:\/|$)/i, 'a private or secret directory'],
  [/(?:^|\/)[^/]*(?:secret|token|password|credential|passphrase|apikey|api_key)[^/]*$/i, 'a file named as a secret'],
  [/^\/etc\/(?:g?shadow-?|master\.passwd|security\/opasswd|sudoers(?:\.d\/.*)?)$/, 'the account password database'],
  [/(?:^|\/)\.(?:netrc|pgpass|my\.cnf|git-credentials|npmrc|pypirc|boto|s3cfg|dockercfg|env|envrc|htpasswd)$/, 'a credentials file'],
  [
    /(?:^|\/)\.(?:aws|azure|oci|kube|docker|gsutil|terraform\.d|config\/gcloud|config\/doctl|config\/containers|config\/helm)(?:\/|$)/,
    'cloud or container credentials',
  ],
  [
    /(?:^|\/)(?:kubeconfig[^/]*|auth\.json|application_default_credentials\.json|credentials\.tfrc\.json|k3s\.yaml)$/,
    'cloud or container credentials',
  ],
  [
    /^\/etc\/kubernetes\/(?:[^/]+\.conf|pki\/.*)$|^\/var\/lib\/kubelet\/(?:pki|kubeconfig)|^\/etc\/rancher\/|^\/var\/lib\/rancher\/k3s\/server\//,
    'Kubernetes credentials',
  ],
  [/^\/(?:var\/)?run\/secrets(?:\/|$)/, 'mounted secrets'],
  [
    /^\/etc\/(?:letsencrypt\/(?:live|archive|accounts|keys)|pki\/[^/]+\/private|ssl\/private|ipsec\.secrets|ppp\/[^/]*secrets|wireguard|krb5\.keytab|NetworkManager\/system-connections|mysql\/debian\.cnf|libvirt\/secrets)(?:\/|$)/,
    'host secrets',
  ],
  [/(?:^|\/)\.[A-Za-z0-9_]*history$|(?:^|\/)\.lesshst$/, 'a shell or client history (often holds typed passwords)'],
  [
    /^\/proc\/(?:[^/]+|self|thread-self)\/(?:environ|mem|fd\/.*|root(?:\/.*)?|cwd\/.*|map_files\/.*|task\/[^/]+\/(?:environ|mem))$/,
    "another process's memory, environment or files",
  ],
  [/^\/proc\/(?:kcore|kmem|mem)$/, 'kernel memory'],
  [/^\/dev\/(?!(?:null|zero|full|random|urandom|stdin|stdout|stderr|tty|fd\/[0-2])$)/, 'a device (raw disks and memory included)'],
  [/^\/sys\/firmware\/efi\/efivars\/|^\/sys\/kernel\/security\//, 'firmware or kernel security data'],
];

/** Concrete secret paths a pattern is tried against (a pattern matching one may read it). */
const SECRET_SAMPLES = [
  '/etc/shadow',
  '/etc/gshadow',
  '/etc/sudoers',
  '/etc/ssh/ssh_host_ed25519_key',
  '/etc/ssl/private/server.key',
  '/etc/kubernetes/admin.conf',
  '/etc/letsencrypt/live/example.com/privkey.pem',
  '/root/.ssh/id_rsa',
  '/root/.aws/credentials',
  '/root/.kube/config',
  '/root/.docker/config.json',
  '/root/.bash_history',
  `${HOME}/.ssh/id_ed25519`,
  `${HOME}/.aws/credentials`,
  `${HOME}/.kube/config`,
  `${HOME}/.netrc`,
  '/home/user/.ssh/id_rsa',
  '/home/user/.pgpass',
  '/proc/1/environ',
  '/proc/self/environ',
  '/proc/kcore',
  '/dev/sda',
  '/dev/nvme0n1',
  '/dev/mem',
  '/run/secrets/kubernetes.io/serviceaccount/token',
  '/var/run/secrets/kubernetes.io/serviceaccount/token',
  '/var/lib/kubelet/pki/kubelet-client-current.pem',
];
/** File names that are secrets wherever they are: a wildcard file name may match one. */
const SECRET_NAMES = [
  'id_rsa',
  'id_ed25519',
  'server.key',
  'tls.pem',
  'credentials',
  'token',
  '.env',
  'kubeconfig',
  'secrets.yaml',
  'key.p12',
];
/** Ordinary file names: a pattern matching these as well as secrets is not specific to secrets. */
const ORDINARY_NAMES = ['app.log', 'nginx.conf', 'status', 'README', 'data', 'x'];

export function secretClass(path: string): string | null {
  for (const [rule, what] of SECRET_RULES) if (rule.test(path)) return what;
  return null;
}

export type WriteClass =
  | 'secret'
  | 'access'
  | 'boot'
  | 'device'
  | 'kernel-trigger'
  | 'audit'
  | 'kernel'
  | 'start-up'
  | 'scheduling'
  | 'service-unit'
  | 'binary'
  | 'system'
  | 'writable'
  | 'other';

/** Destinations by class, riskiest first. */
const WRITE_RULES: readonly [RegExp, WriteClass, string][] = [
  [
    /(?:^|\/)(?:passwd|shadow|group|gshadow|subuid|subgid|sudoers|authorized_keys2?|\.k5login|\.rhosts|\.shosts|hosts\.equiv|doas\.conf|ld\.so\.preload|ld\.so\.conf)(?:-|\.d\/.*)?$|^\/etc\/(?:sudoers\.d|pam\.d|security|ssh|polkit-1|sssd|ld\.so\.conf\.d|selinux|apparmor\.d?)(?:\/|$)|^\/etc\/(?:login\.defs|nsswitch\.conf|pam\.conf|securetty|shells|at\.allow|at\.deny|cron\.allow|cron\.deny)$|(?:^|\/)\.ssh(?:\/|$)/,
    'access',
    'grants or changes access to the host',
  ],
  [
    /^\/boot(?:\/|$)|^\/etc\/(?:fstab|crypttab|default\/grub(?:\.d\/.*)?|grub\.d\/.*|initramfs-tools\/.*|dracut\.conf(?:\.d\/.*)?|inittab|mtab)$|^\/(?:sbin|usr\/sbin|lib\/systemd|usr\/lib\/systemd)\/(?:init|systemd)$/,
    'boot',
    'is needed to boot the host',
  ],
  [/^\/dev\/(?!(?:null|zero|full|stdout|stderr|tty|fd\/[12])$)/, 'device', 'is a device (a raw disk, memory or a terminal)'],
  [
    /^\/proc\/sysrq-trigger$|^\/sys\/power(?:\/|$)|^\/proc\/sys\/kernel\/(?:sysrq|panic|core_pattern|modprobe)$/,
    'kernel-trigger',
    'can crash, reboot or hijack the kernel',
  ],
  [
    /^\/var\/log\/(?:auth\.log|secure|wtmp|btmp|lastlog|faillog|audit(?:\/.*)?|journal(?:\/.*)?|messages|syslog|kern\.log)(?:\.\d+)?$|^\/var\/log\/?$|(?:^|\/)\.[A-Za-z0-9_]*history$/,
    'audit',
    "is the host's audit trail or its logs as a whole",
  ],
  [/^\/proc(?:\/|$)|^\/sys(?:\/|$)/, 'kernel', 'is a kernel setting'],
  [
    /(?:^|\/)\.(?:bashrc|bash_profile|bash_login|bash_logout|profile|zshrc|zprofile|zshenv|zlogin|zlogout|cshrc|tcshrc|kshrc|mkshrc|login|logout|inputrc|xinitrc|xprofile|xsession|pam_environment|config\/autostart\/.*|config\/fish\/.*|vimrc|gitconfig)$|^\/etc\/(?:profile(?:\.d\/.*)?|bash\.bashrc|bashrc|environment|zsh\/.*|zshrc|csh\.(?:cshrc|login)|rc\.local|rc\d?\.d\/.*|init\.d\/.*|init\/.*|xdg\/autostart\/.*|update-motd\.d\/.*|motd\.d\/.*|X11\/Xsession\.d\/.*)$/,
    'start-up',
    'runs when someone logs in or the host starts',
  ],
  [
    /^\/etc\/(?:crontab|anacrontab|cron\.[^/]+(?:\/.*)?)$|^\/var\/spool\/(?:cron|at|atjobs|anacron)(?:\/|$)|\.timer$/,
    'scheduling',
    'schedules commands',
  ],
  [
    /^\/(?:etc|run|lib|usr\/lib|usr\/local\/lib)\/systemd\/|(?:^|\/)\.config\/systemd\/|\.(?:service|socket|path|mount|automount|target|slice|scope)$|^\/etc\/(?:supervisor|supervisord\.conf|xinetd\.d|inetd\.conf|logrotate\.(?:conf|d(?:\/.*)?))(?:\/|$)/,
    'service-unit',
    'defines services and the commands they run',
  ],
  [
    /(?:^|\/)s?bin(?:\/|$)|^\/(?:lib|lib32|lib64|libx32|usr\/lib|usr\/lib32|usr\/lib64|usr\/libexec|usr\/local\/lib|opt\/[^/]+\/lib)(?:\/|$)|\.so(?:\.[\d.]+)?$|^\/lib\/modules\//,
    'binary',
    'holds programs or libraries',
  ],
  [/^\/(?:etc|usr|opt|srv|root|home|var|snap|mnt|media|run)(?:\/|$)|^\/~home(?:\/|$)|^\/$/, 'system', 'is a system or home path'],
];

const FORBIDDEN_WRITES = new Set<WriteClass>(['access', 'boot', 'device', 'kernel-trigger', 'audit']);

/** Destinations whose removal as a whole wrecks a host: the roots and their first level. */
export const SYSTEM_ROOTS =
  /^\/(?:|~home|bin|boot|dev|etc|home|lib|lib32|lib64|libx32|opt|proc|root|run|sbin|srv|sys|usr|var|tmp|mnt|media|snap|home\/[^/]+|usr\/[^/]+|usr\/local\/[^/]+|var\/(?:lib|log|spool|cache|backups|mail|opt|www|tmp))$/;

const PROTECTED_SAMPLES = [
  ...SECRET_SAMPLES,
  '/etc/passwd',
  '/etc/pam.d/sshd',
  '/etc/ssh/sshd_config',
  '/boot/vmlinuz',
  '/etc/fstab',
  '/var/log/auth.log',
  '/var/log/wtmp',
  '/root/.ssh/authorized_keys',
  `${HOME}/.ssh/authorized_keys`,
  '/etc/sudoers.d/admins',
  '/etc/ld.so.conf',
  '/etc/security/limits.conf',
  '/etc/nsswitch.conf',
  // One file in each system root, so that a pattern or tree over the root is seen to reach it.
  '/bin/sh',
  '/sbin/init',
  '/usr/bin/env',
  '/usr/lib/x86_64-linux-gnu/libc.so.6',
  '/lib/x86_64-linux-gnu/libc.so.6',
  '/etc/hostname',
  '/etc/hosts',
  '/var/lib/dpkg/status',
  '/var/log/syslog',
  '/var/spool/cron/crontabs/root',
  '/home/user/.profile',
  '/root/.profile',
  `${HOME}/.profile`,
];

/** Expands unescaped `{a,b}` and `{1..3}` (bounded); other text passes through. */
export function expandBraces(pattern: string, limit = 64): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '{') {
      if (depth === 0) open = i;
      depth++;
    } else if (ch === '}' && depth > 0 && --depth === 0) {
      const body = pattern.slice(open + 1, i);
      const range = /^(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])$/.exec(body);
      const alternatives: string[] = [];
      if (range) {
        const numeric = /\d/.test(range[1]!);
        const from = numeric ? Number(range[1]) : range[1]!.charCodeAt(0);
        const to = numeric ? Number(range[2]) : range[2]!.charCodeAt(0);
        for (let n = from; (from <= to ? n <= to : n >= to) && alternatives.length < limit; n += from <= to ? 1 : -1)
          alternatives.push(numeric ? String(n) : String.fromCharCode(n));
      } else {
        let d = 0;
        let last = 0;
        for (let j = 0; j < body.length; j++) {
          const c = body[j]!;
          if (c === '\\') j++;
          else if (c === '{') d++;
          else if (c === '}') d--;
          else if (c === ',' && d === 0) {
            alternatives.push(body.slice(last, j));
            last = j + 1;
          }
        }
        if (alternatives.length === 0) continue;
        alternatives.push(body.slice(last));
      }
      const before = pattern.slice(0, open);
      const after = pattern.slice(i + 1);
      const out: string[] = [];
      for (const alternative of alternatives)
        for (const expanded of expandBraces(before + alternative + after, limit)) if (out.length < limit) out.push(expanded);
      return out;
    }
  }
  return [pattern];
}

const unescape = (pattern: string) => pattern.replace(/\\(.)/g, '$1');
const hasWildcard = (pattern: string) => /(?:^|[^\\])(?:\\\\)*[*?[]/.test(pattern) || pattern.includes(ANY_BELOW);

/** Normalises a path written in pattern form; null when it is relative to an unknown directory. */
export function normalizePattern(pattern: string, cwd: string | null): string | null {
  let path = pattern;
  if (path === '~' || path.startsWith('~/')) path = HOME + path.slice(1);
  else if (/^~[A-Za-z0-9_.-]+(?:\/|$)/.test(path)) path = HOME + path.replace(/^~[^/]*/, '');
  if (!path.startsWith('/')) {
    if (cwd === null) return null;
    path = `${cwd}/${path}`;
  }
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** A regex matching what a normalised pattern may name. */
function patternRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) source += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === ANY_BELOW) source += '.*';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        source += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The literal directory a pattern stays within (everything before its first wildcard part). */
export function literalPrefix(pattern: string): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const part of parts.slice(1)) {
    if (hasWildcard(part)) break;
    fixed.push(unescape(part));
  }
  return `/${fixed.join('/')}`;
}

const inside = (path: string, root: string) => root === '/' || path === root || path.startsWith(`${root}/`);

interface Target {
  /** The written text, for reasons. */
  shown: string;
  /** Normalised, in pattern form; null = relative to an unknown directory. */
  pattern: string | null;
  exact: boolean;
}

function targetsOf(word: Word, ctx: PathContext): Target[] | null {
  if (word.dynamic) return null;
  const alternatives = word.brace ? expandBraces(word.pattern) : [word.pattern];
  return alternatives.map((alternative) => {
    const pattern = normalizePattern(alternative, ctx.cwd);
    return { shown: unescape(alternative).replaceAll(ANY_BELOW, '…'), pattern, exact: pattern !== null && !hasWildcard(pattern) };
  });
}

const part = (risk: CommandRisk, reason: string): Part => ({ risk, reason });

/** Risk of reading a file's content; null when it is no secret. */
export function readRisk(word: Word, ctx: PathContext, options: { certificate?: boolean } = {}): Part | null {
  if (word.text === '-' && !word.dynamic) return null;
  const targets = targetsOf(word, ctx);
  if (!targets) return part('high', `reads ${word.text}, a path only known when the command runs`);
  for (const target of targets) {
    if (target.pattern === null) return part('high', `reads ${target.shown}, relative to a directory the policy cannot tell`);
    const what = target.exact ? secretOf(unescape(target.pattern), options) : secretPatternOf(target.pattern, ctx, options);
    if (what) return part('high', `reads ${target.shown}: ${what}`);
  }
  return null;
}

function secretOf(path: string, options: { certificate?: boolean }): string | null {
  // A certificate reader (openssl x509) parses certificates only: a .pem is no objection there.
  if (options.certificate && /\.(?:pem|crt|cer)$/i.test(path) && !/privkey|private|_key/i.test(path)) {
    const what = secretClass(path);
    return what === 'a PEM file (it may hold a private key)' ? null : what;
  }
  return secretClass(path);
}

function secretPatternOf(pattern: string, ctx: PathContext, options: { certificate?: boolean }): string | null {
  const regex = patternRegex(pattern);
  const sample = SECRET_SAMPLES.find((s) => regex.test(s));
  if (sample) return `a pattern that matches ${sample}`;
  const prefix = literalPrefix(pattern);
  const within = secretOf(`${prefix === '/' ? '' : prefix}/x`, options);
  if (within && within !== 'a PEM file (it may hold a private key)') return `inside ${within}`;
  // A file-name pattern specific to secrets (`*.key`, `id_*`) is refused anywhere; one that
  // matches ordinary names too (`*`) is not.
  const last = pattern.slice(pattern.lastIndexOf('/') + 1);
  if (!last.includes(ANY_BELOW)) {
    const nameRegex = patternRegex(last);
    const name = SECRET_NAMES.find((n) => nameRegex.test(n) && (!options.certificate || !n.endsWith('.pem')));
    if (name && !ORDINARY_NAMES.some((n) => nameRegex.test(n))) return `a pattern that matches secrets such as ${name}`;
  }
  return null;
}

export function writeClassOf(path: string, ctx: PathContext): { cls: WriteClass; why: string } {
  for (const [rule, cls, why] of WRITE_RULES) {
    if (cls === 'kernel' && secretClass(path) && !path.startsWith('/dev/')) return { cls: 'secret', why: `holds ${secretClass(path)}` };
    if (cls === 'system' && ctx.writable.some((root) => inside(path, root)))
      return { cls: 'writable', why: "is in the item's data or log path" };
    if (rule.test(path)) return { cls, why };
  }
  if (ctx.writable.some((root) => inside(path, root))) return { cls: 'writable', why: "is in the item's data or log path" };
  return { cls: 'other', why: "is outside the item's data and log paths" };
}

function riskOfClass(cls: WriteClass): CommandRisk {
  if (FORBIDDEN_WRITES.has(cls)) return 'forbidden';
  return cls === 'writable' ? 'low' : 'high';
}

export interface WriteOptions {
  /** The write removes the target (rm, find -delete, mv's source). */
  removes?: boolean;
  /** The removal takes whole trees (rm -r). */
  recursive?: boolean;
  /** Verb for reasons: "writes", "removes", "truncates". */
  verb?: string;
}

/** Risk of writing (or removing) a destination, by its class. */
export function writeRisk(word: Word, ctx: PathContext, options: WriteOptions = {}): Part {
  const verb = options.verb ?? (options.removes ? 'removes' : 'writes');
  if (!word.dynamic && /^\/dev\/(?:null|stdout|stderr|fd\/[12])$/.test(word.text)) return part('read-only', 'discards output');
  const targets = targetsOf(word, ctx);
  if (!targets) return part('high', `${verb} ${word.text}, a path only known when the command runs`);
  let worst: Part = part('read-only', 'no destination');
  for (const target of targets) {
    const verdict = writeTargetRisk(target, ctx, options, verb);
    if (verdict.risk === 'forbidden') return verdict;
    if (worst.risk === 'read-only' || (verdict.risk === 'high' && worst.risk !== 'high')) worst = verdict;
  }
  return worst;
}

function writeTargetRisk(target: Target, ctx: PathContext, options: WriteOptions, verb: string): Part {
  if (target.pattern === null) return part('high', `${verb} ${target.shown}, relative to a directory the policy cannot tell`);
  const pattern = target.pattern;
  const path = target.exact ? unescape(pattern) : literalPrefix(pattern);
  if (options.removes && target.exact && SYSTEM_ROOTS.test(path))
    return part('forbidden', `${verb} ${target.shown}: a system path as a whole`);
  if (!target.exact || options.recursive) {
    // A pattern, or a tree, reaches everything it may match or contain.
    const regex = patternRegex(pattern);
    const reaches = (sample: string) =>
      regex.test(sample) || (options.recursive === true && ancestors(sample).some((a) => regex.test(a) || a === path));
    const hit = PROTECTED_SAMPLES.find(reaches);
    if (hit) return part('forbidden', `${verb} ${target.shown}, which reaches ${hit} (it ${writeClassOf(hit, ctx).why})`);
  }
  const candidates = target.exact ? [path] : [`${path === '/' ? '' : path}/x`, unescape(pattern)];
  const verdicts = candidates.map((c) => writeClassOf(c, ctx));
  const worst = verdicts.reduce((a, b) => (RANK_OF[riskOfClass(b.cls)] > RANK_OF[riskOfClass(a.cls)] ? b : a));
  return part(riskOfClass(worst.cls), `${verb} ${target.shown}, which ${worst.why}`);
}

const RANK_OF: Record<CommandRisk, number> = { 'read-only': 0, low: 1, high: 2, forbidden: 3 };

function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) out.push(path.slice(0, i));
  out.push('/');
  return out;
}

/**
 * The paths a change on this CMDB item may write at `low` risk: its data path (`dataPath` tag)
 * and log directory (`logDir`), when they are absolute, plain and not a system root or a
 * protected path. Everything else a fix writes is `high` at least.
 */
export function writablePathsOf(item: Pick<CmdbItem, 'tags'> | null | undefined): string[] {
  const paths: string[] = [];
  for (const tag of ['dataPath', 'logDir'] as const) {
    const value = item?.tags?.[tag];
    if (!value || !/^\/[A-Za-z0-9_.,:@%+=/-]{1,255}$/.test(value) || value.split('/').includes('..')) continue;
    const path = normalizePattern(value, null);
    if (!path || SYSTEM_ROOTS.test(path)) continue;
    const { cls } = writeClassOf(path, { cwd: null, writable: [] });
    if (cls !== 'system' && cls !== 'other') continue;
    if (!paths.includes(path)) paths.push(path);
  }
  return paths;
}

/** Normalises policy-given writable roots; anything unusable is dropped. */
export function normalizeWritable(paths: readonly string[] | undefined): string[] {
  return (paths ?? []).flatMap((p) => {
    const path = /^\//.test(p) && !p.split('/').includes('..') ? normalizePattern(p.replace(/[*?[\]{}\\]/g, ''), null) : null;
    return path && !SYSTEM_ROOTS.test(path) ? [path] : [];
  });
}
