// Wrappers run another command: each has its own grammar of options, the command after them is
// classified as if it stood alone, and some options add risk of their own (a root shell, a
// hijacking environment variable, a forked background process).

import { EMPTY, kindRisk, merge, parseOptions, type Ctx, type Grammar, type Kind } from './args.js';
import { literalWord, tokenize, type Word } from './lexer.js';
import { normalizePattern, writeRisk } from './paths.js';
import { forbidden, high, low, readOnly, type Part } from './risk.js';

export interface Wrapper extends Pick<Grammar, 'about' | 'flags' | 'values' | 'long' | 'numericOption'> {
  /** Operands the wrapper takes before the command (timeout's duration, flock's lock file). */
  leading?: readonly Kind[];
  /** Options that make the wrapper risky whatever it runs. */
  risky?: Readonly<Record<string, Part>>;
  /** The wrapper's own risk (entering namespaces, tracing). */
  floor?: Part;
  /** When there is no command. */
  bare: Part;
  /** `NAME=value` words may stand before the command (env, sudo). */
  assignments?: boolean;
}

/**
 * Environment variables an assignment may set without review: none of them makes a program load
 * code, look elsewhere for programs or run a shell snippet. Every other name (LD_PRELOAD, PATH,
 * BASH_ENV, ENV, PROMPT_COMMAND, PS4, IFS, PYTHONPATH, NODE_OPTIONS, PAGER, GIT_*, BASH_FUNC_*…) is `high`.
 */
export const HARMLESS_VARIABLES =
  /^(?:LC_[A-Z]+|LANG|LANGUAGE|TZ|TERM|COLUMNS|LINES|NO_COLOR|POSIXLY_CORRECT|TIME_STYLE|BLOCK_SIZE|DF_BLOCK_SIZE|DU_BLOCK_SIZE|LS_BLOCK_SIZE|QUOTING_STYLE|SYSTEMD_COLORS|SYSTEMD_URLIFY|SYSTEMD_LOG_LEVEL|DEBIAN_FRONTEND|GREP_COLORS?|TMOUT|HISTCONTROL)$/;

/** Lower-case names are plain shell variables, except these (zsh ties some to PATH; curl reads the proxies). */
const SPECIAL_LOWER_CASE =
  /^(?:path|fpath|cdpath|manpath|module_path|mailpath|psvar|watch|http_proxy|https_proxy|ftp_proxy|all_proxy|no_proxy|ld_.*)$/;

export function assignmentRisk(word: Word): Part {
  const name = /^([A-Za-z_][A-Za-z0-9_]*)\+?=/.exec(word.text)?.[1] ?? word.text;
  if (HARMLESS_VARIABLES.test(name)) return readOnly(`sets ${name}`);
  if (/[a-z]/.test(name) && !SPECIAL_LOWER_CASE.test(name)) return readOnly(`sets the shell variable ${name}`);
  if (/^(?:SYSTEMD_PAGER|PAGER|MANPAGER)$/.test(name) && /^[A-Z_]+=(?:cat)?$/.test(word.text)) return readOnly(`sets ${name} to no pager`);
  return high(`sets ${name}, which InfraAI does not know to be harmless (loader, search-path and shell variables run other code)`);
}

const SUDO_RISKY: Record<string, Part> = {
  '-s': high('sudo -s runs a root shell'),
  '--shell': high('sudo --shell runs a root shell'),
  '-i': high('sudo -i runs a root login shell (it reads start-up files)'),
  '--login': high('sudo --login runs a root login shell (it reads start-up files)'),
  '-E': high('sudo -E carries the caller environment (loader variables included) into root'),
  '--preserve-env': high('sudo --preserve-env carries the caller environment into root'),
  '-b': forbidden('sudo -b runs the command in the background, beyond supervision'),
  '--background': forbidden('sudo --background runs the command in the background, beyond supervision'),
  '-e': high('sudo -e edits files as root'),
  '--edit': high('sudo --edit edits files as root'),
  '-A': high('sudo -A runs an askpass program'),
  '--askpass': high('sudo --askpass runs an askpass program'),
  '-S': high('sudo -S reads a password from standard input'),
  '--stdin': high('sudo --stdin reads a password from standard input'),
  '-R': high('sudo -R runs in another root directory'),
  '--chroot': high('sudo --chroot runs in another root directory'),
  '-h': high('sudo -h runs on another host'),
  '--host': high('sudo --host runs on another host'),
};

const SHELL_FLOOR = high('runs in another namespace, root or session');

export const WRAPPERS: Readonly<Record<string, Wrapper>> = {
  sudo: {
    about: 'runs a command as another user',
    flags: 'nHPkKSEbAilsVve',
    values: { u: 'name', g: 'name', p: 'text', C: 'number', D: 'path', r: 'name', t: 'name', T: 'number', R: 'path', h: 'host', U: 'name' },
    long: {
      '--user': 'name',
      '--group': 'name',
      '--non-interactive': null,
      '--set-home': null,
      '--preserve-env': null,
      '--preserve-env=': 'text',
      '--login': null,
      '--shell': null,
      '--list': null,
      '--background': null,
      '--chdir': 'path',
      '--prompt': 'text',
      '--close-from': 'number',
      '--other-user': 'name',
      '--host': 'host',
      '--chroot': 'path',
      '--stdin': null,
      '--askpass': null,
      '--edit': null,
      '--preserve-groups': null,
      '--reset-timestamp': null,
      '--remove-timestamp': null,
      '--validate': null,
      '--command-timeout': 'number',
    },
    risky: SUDO_RISKY,
    assignments: true,
    bare: readOnly('sudo without a command (lists or validates)'),
  },
  doas: {
    about: 'runs a command as another user',
    flags: 'nL',
    values: { u: 'name', C: 'file' },
    bare: high('doas without a command opens a shell'),
    risky: { '-s': high('doas -s runs a root shell') },
  },
  runuser: {
    about: 'runs a command as another user',
    flags: 'lmp',
    values: { u: 'name', g: 'name', G: 'name' },
    long: { '--user': 'name', '--group': 'name' },
    risky: { '-l': high('runuser -l runs a login shell') },
    bare: high('runuser without a command opens a shell'),
  },
  timeout: {
    about: 'runs a command with a time limit',
    flags: 'v',
    values: { s: 'signal', k: 'number' },
    long: { '--signal': 'signal', '--kill-after': 'number', '--preserve-status': null, '--foreground': null, '--verbose': null },
    leading: ['number'],
    bare: high('timeout without a command'),
  },
  nice: {
    about: 'runs a command at another priority',
    values: { n: 'number' },
    long: { '--adjustment': 'number' },
    numericOption: true,
    bare: readOnly('nice prints the niceness'),
  },
  ionice: {
    about: 'runs a command at another I/O priority',
    flags: 'tPu',
    values: { c: 'text', n: 'number', p: 'pid' },
    long: { '--class': 'text', '--classdata': 'number', '--pid': 'pid', '--ignore': null },
    risky: {
      '-p': low('ionice -p changes the I/O priority of running processes'),
      '--pid': low('ionice --pid changes the I/O priority of running processes'),
    },
    bare: readOnly('ionice prints the I/O priority'),
  },
  nohup: { about: 'runs a command immune to hangups', bare: high('nohup without a command') },
  stdbuf: {
    about: 'runs a command with other stream buffering',
    values: { i: 'text', o: 'text', e: 'text' },
    long: { '--input': 'text', '--output': 'text', '--error': 'text' },
    bare: high('stdbuf without a command'),
  },
  env: {
    about: 'runs a command with another environment',
    flags: 'i0v',
    values: { u: 'name', C: 'path', S: 'text' },
    long: {
      '--ignore-environment': null,
      '--null': null,
      '--unset': 'name',
      '--chdir': 'path',
      '--split-string': 'text',
      '--debug': null,
      '--default-signal': null,
      '--default-signal=': 'text',
      '--ignore-signal': null,
      '--ignore-signal=': 'text',
      '--block-signal': null,
      '--block-signal=': 'text',
    },
    assignments: true,
    bare: high('env without a command prints the whole environment (secrets included)'),
  },
  command: { about: 'runs a command, bypassing shell functions', flags: 'p', bare: readOnly('command without a command') },
  builtin: { about: 'runs a shell builtin', bare: readOnly('builtin without a command') },
  exec: {
    about: 'replaces the shell with a command',
    flags: 'cl',
    values: { a: 'text' },
    bare: readOnly('exec without a command only applies its redirections'),
  },
  time: {
    about: 'times a command',
    flags: 'pvaq',
    values: { f: 'text', o: 'write' },
    long: { '--format': 'text', '--output': 'write', '--append': null, '--portability': null, '--verbose': null, '--quiet': null },
    bare: readOnly('time without a command'),
  },
  '!': { about: 'negates the exit status', bare: readOnly('no command') },
  setsid: {
    about: 'runs a command in a new session',
    flags: 'cw',
    long: { '--ctty': null, '--wait': null },
    risky: {
      '-f': forbidden('setsid -f forks the command into the background'),
      '--fork': forbidden('setsid --fork forks the command into the background'),
    },
    floor: high('setsid detaches the command from the step'),
    bare: high('setsid without a command'),
  },
  chroot: {
    about: 'runs a command in another root directory',
    long: { '--userspec': 'text', '--groups': 'text', '--skip-chdir': null },
    leading: ['path'],
    floor: SHELL_FLOOR,
    bare: high('chroot without a command runs a shell'),
  },
  nsenter: {
    about: 'runs a command in the namespaces of another process',
    flags: 'muinpUCaFrw',
    values: { t: 'pid', S: 'number', G: 'number' },
    long: {
      '--target': 'pid',
      '--all': null,
      '--mount': null,
      '--uts': null,
      '--ipc': null,
      '--net': null,
      '--pid': null,
      '--user': null,
      '--cgroup': null,
      '--preserve-credentials': null,
    },
    floor: SHELL_FLOOR,
    bare: high('nsenter without a command runs a shell'),
  },
  unshare: {
    about: 'runs a command in new namespaces',
    flags: 'muinpUCfrT',
    long: {
      '--mount': null,
      '--uts': null,
      '--ipc': null,
      '--net': null,
      '--pid': null,
      '--user': null,
      '--fork': null,
      '--map-root-user': null,
    },
    floor: SHELL_FLOOR,
    bare: high('unshare without a command runs a shell'),
  },
  strace: {
    about: 'traces a command',
    flags: 'fcCqrtTvwxyYz',
    values: { e: 'text', s: 'number', o: 'write', p: 'pid', u: 'name' },
    floor: high('strace can read the memory of what it traces'),
    bare: high('strace without a command'),
  },
  ltrace: {
    about: 'traces library calls',
    flags: 'fcCSt',
    values: { e: 'text', s: 'number', o: 'write', p: 'pid' },
    floor: high('ltrace can read the memory of what it traces'),
    bare: high('ltrace without a command'),
  },
  'systemd-run': {
    about: 'runs a command as a transient unit',
    flags: 'qrPGtS',
    values: { p: 'text', u: 'name', M: 'name', H: 'host', E: 'text' },
    long: {
      '--unit': 'name',
      '--property': 'text',
      '--scope': null,
      '--wait': null,
      '--pipe': null,
      '--quiet': null,
      '--user': null,
      '--collect': null,
      '--remain-after-exit': null,
    },
    floor: high('systemd-run starts a transient service'),
    bare: high('systemd-run without a command'),
  },
  watch: {
    about: 'runs a command repeatedly',
    flags: 'dtbegcxpw',
    values: { n: 'number' },
    long: {
      '--interval': 'number',
      '--differences': null,
      '--no-title': null,
      '--beep': null,
      '--errexit': null,
      '--chgexit': null,
      '--color': null,
      '--exec': null,
      '--precise': null,
    },
    floor: high('watch runs until stopped and needs a terminal'),
    bare: high('watch without a command'),
  },
  flock: {
    about: 'runs a command holding a lock file',
    flags: 'sxnuoFe',
    values: { w: 'number', E: 'number' },
    long: {
      '--shared': null,
      '--exclusive': null,
      '--nonblock': null,
      '--unlock': null,
      '--timeout': 'number',
      '--close': null,
      '--no-fork': null,
    },
    leading: ['write'],
    bare: low('flock on a descriptor'),
  },
  taskset: {
    about: 'runs a command on chosen CPUs',
    flags: 'ac',
    long: { '--all-tasks': null, '--cpu-list': null },
    leading: ['text'],
    risky: { '-p': low('taskset -p changes the CPUs of a running process') },
    bare: readOnly('taskset without a command'),
  },
  chrt: {
    about: 'runs a command at a real-time priority',
    flags: 'bdfiorRmav',
    leading: ['number'],
    risky: { '-p': low('chrt -p changes the scheduling of a running process') },
    floor: high('a real-time priority can starve the host'),
    bare: readOnly('chrt without a command'),
  },
};

export const XARGS: Pick<Grammar, 'about' | 'flags' | 'values' | 'long'> = {
  about: 'runs a command with arguments read from standard input (they stand for any value: a path, a PID, an option)',
  flags: '0rtxo',
  values: { d: 'text', n: 'number', L: 'number', I: 'text', P: 'number', s: 'number', E: 'text', a: 'file' },
  long: {
    '--null': null,
    '--delimiter': 'text',
    '--max-args': 'number',
    '--max-lines': 'number',
    '--replace': null,
    '--replace=': 'text',
    '--max-procs': 'number',
    '--no-run-if-empty': null,
    '--verbose': null,
    '--exit': null,
    '--arg-file': 'file',
    '--max-chars': 'number',
    '--eof': 'text',
  },
};

export interface Unwrapped {
  parts: Part[];
  /** The command the wrapper runs, or none. */
  inner: Word[] | null;
  /** Further forms the command may take (xargs: its input as the worst value). */
  variants?: Word[][];
  /** A command line the wrapper runs through a shell (watch, env -S). */
  script?: string;
  cwd?: string | null;
}

/** The input xargs appends: any value at all, options included. */
const XARGS_INPUT: Word = { ...literalWord('<xargs input>'), dynamic: true, splits: true, vars: [] };

export function unwrap(name: string, args: readonly Word[], ctx: Ctx): Unwrapped {
  if (name === 'xargs') return unwrapXargs(args, ctx);
  if (name === 'busybox' || name === 'toybox') {
    if (args.length === 0 || /^--(?:list|list-full|help)$/.test(args[0]!.text))
      return { parts: [readOnly(`${name} lists its applets`)], inner: null };
    return { parts: [], inner: [...args] };
  }
  if (name === 'command' && args.some((a) => a.text === '-v' || a.text === '-V'))
    return { parts: [readOnly('command -v only looks a command up')], inner: null };
  const wrapper = WRAPPERS[name]!;
  const table = merge(EMPTY, {
    ...wrapper,
    long: { ...wrapper.long },
    optionsFirst: true,
    flags: `${wrapper.flags ?? ''}${Object.keys(wrapper.risky ?? {})
      .filter((k) => /^-.$/.test(k) && !(wrapper.values ?? {})[k[1]!])
      .map((k) => k[1])
      .join('')}`,
  });
  for (const key of Object.keys(wrapper.risky ?? {})) if (key.startsWith('--') && !(key in table.long)) table.long[key] = null;
  const parsed = parseOptions(args, table);
  if (typeof parsed === 'string') return { parts: [high(`${name}: ${parsed}`)], inner: null };
  const parts: Part[] = [];
  if (wrapper.floor) parts.push(wrapper.floor);
  let cwd: string | null | undefined;
  for (const [option, values] of parsed.options) {
    const risky = wrapper.risky?.[option];
    if (risky) parts.push(risky);
    const kind = option.startsWith('--') ? (table.long[option] ?? table.long[`${option}=`]) : table.values[option.slice(1)];
    for (const value of values) {
      if (!kind) continue;
      const risk = kindRisk(kind, value, ctx);
      if (typeof risk === 'string') parts.push(high(`${name} ${option}: ${risk}`));
      else parts.push(...risk);
      if ((option === '-D' || option === '--chdir' || option === '-C') && kind === 'path')
        cwd = value.dynamic ? null : normalizePattern(value.text, ctx.cwd);
    }
  }
  const operands = [...parsed.operands];
  for (const kind of wrapper.leading ?? []) {
    const word = operands.shift();
    if (!word) return { parts: [...parts, wrapper.bare], inner: null };
    if (kind === 'write') parts.push(writeRisk(word, ctx, { verb: `${name} creates` }));
    else {
      const risk = kindRisk(kind, word, ctx);
      if (typeof risk === 'string') parts.push(high(`${name}: ${risk}`));
      else parts.push(...risk);
    }
  }
  while (wrapper.assignments && operands[0] && /^[A-Za-z_][A-Za-z0-9_]*=/.test(operands[0].text))
    parts.push(assignmentRisk(operands.shift()!));
  const split = parsed.options.get('-S') ?? parsed.options.get('--split-string');
  if (split?.length) {
    const text = split.map((w) => w.text).join(' ');
    return { parts, inner: null, script: [text, ...operands.map((w) => w.text)].join(' '), ...(cwd !== undefined ? { cwd } : {}) };
  }
  if (name === 'flock' && (operands[0]?.text === '-c' || parsed.options.has('-c')))
    return {
      parts,
      inner: null,
      script: operands
        .slice(1)
        .map((w) => w.text)
        .join(' '),
    };
  if (name === 'watch' && !parsed.options.has('-x') && !parsed.options.has('--exec') && operands.length)
    return { parts, inner: null, script: operands.map((w) => w.text).join(' ') };
  if (operands.length === 0) return { parts: [...parts, wrapper.bare], inner: null };
  return { parts, inner: operands, ...(cwd !== undefined ? { cwd } : {}) };
}

function unwrapXargs(args: readonly Word[], ctx: Ctx): Unwrapped {
  const table = merge(EMPTY, { ...XARGS, optionsFirst: true });
  table.flags += 'i';
  const parsed = parseOptions(args, table);
  if (typeof parsed === 'string') return { parts: [high(`xargs: ${parsed}`)], inner: null };
  const parts: Part[] = [];
  for (const file of parsed.options.get('-a') ?? []) {
    const risk = kindRisk('file', file, ctx);
    if (typeof risk !== 'string') parts.push(...risk);
  }
  if (parsed.options.has('-p') || parsed.options.has('-o')) parts.push(high('xargs asks on a terminal'));
  const replace =
    parsed.options.get('-I')?.[0]?.text ??
    (parsed.options.has('-i') || parsed.options.has('--replace') ? '{}' : parsed.options.get('--replace')?.[0]?.text);
  const command = parsed.operands.length ? parsed.operands : [literalWord('echo')];
  const fill = (input: Word): Word[] =>
    replace
      ? command.map((w, i) =>
          i > 0 && w.text.includes(replace)
            ? w.text === replace
              ? input
              : { ...w, dynamic: true, text: w.text.replaceAll(replace, input.text) }
            : w,
        )
      : [...command, input];
  // The input may be anything: classify the command with an unknown argument, and with the
  // worst plain values (the root directory, PID 1), so that `xargs rm` is as bad as `rm /`.
  return { parts, inner: fill(XARGS_INPUT), variants: [fill(literalWord('/')), fill(literalWord('1'))] };
}

/** Words of a command line as the shell would split them (env -S). */
export function splitWords(text: string): Word[] {
  return tokenize(text).flatMap((t) => (t.kind === 'word' ? [t.word] : []));
}
