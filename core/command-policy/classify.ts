// The classifier: parses a command line into simple commands and rates each part — redirections,
// substitutions, assignments, wrappers, then the command itself against its read-only grammar or
// its change rule. The riskiest part decides. Unknown stays `high`; what the parser cannot model
// is `forbidden` (it never runs, whoever approves).

import { looksSecret, type Ctx } from './args.js';
import { changeRule, CHANGE_RULES } from './changes.js';
import { fitReadOnly, grammarOf, READ_ONLY_COMMANDS } from './grammar.js';
import { literalWord, parseCommandLine, ShellSyntaxError, type Bindings, type SimpleCommand, type Word } from './lexer.js';
import { expandBraces, HOME, normalizePattern, normalizeWritable, readRisk, writeRisk } from './paths.js';
import { forbidden, high, readOnly, type CommandPolicy, type Part } from './risk.js';
import { assignmentRisk, unwrap, WRAPPERS } from './wrappers.js';

const MAX_COMMAND_LENGTH = 4000;
const MAX_DEPTH = 6;
/** Simple commands classified per command line, nested and alternative forms included. */
const MAX_STEPS = 2_000;
/** A command-name pattern may stand for a few commands, not for any. */
const MAX_NAME_MATCHES = 8;

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'mksh', 'fish', 'rbash', 'tcsh', 'csh']);
const INTERPRETERS =
  /^(?:python[\d.]*|perl[\d.]*|ruby[\d.]*|node|nodejs|deno|bun|php[\d.]*|lua[\d.]*|tclsh|wish|expect|Rscript|osascript|pwsh|java|jshell|groovy|scala|gdb|busybox-sh)$/;
/** Directories whose programs are the ones named: `/usr/bin/rm` is rm, `/tmp/x/cat` is not cat. */
const SYSTEM_BIN = /^\/(?:usr\/(?:local\/)?)?s?bin$/;
const KEYWORD_PREFIX = new Set(['then', 'do', 'else', 'elif', 'if', 'while', 'until', '{']);
const KEYWORD_END = new Set(['fi', 'done', 'esac', '}']);

/** Command names a pattern (`/bin/r?`) is tried against. */
const KNOWN_NAMES = [
  ...new Set([
    ...READ_ONLY_COMMANDS,
    ...Object.keys(CHANGE_RULES),
    ...Object.keys(WRAPPERS),
    ...SHELLS,
    'xargs',
    'busybox',
    'mkfs',
    'mkfs.ext4',
    'mkfs.xfs',
    'mke2fs',
    'mkswap',
    'fdisk',
    'parted',
    'wipefs',
    'passwd',
    'userdel',
    'useradd',
    'usermod',
    'visudo',
    'python3',
    'perl',
    'eval',
  ]),
];

export function classifyParts(command: string, policy: CommandPolicy): Part[] {
  const ctx = makeCtx(policy, HOME, 0);
  return classifyScript(command, ctx, {});
}

function makeCtx(
  policy: CommandPolicy,
  cwd: string | null,
  depth: number,
  writable: readonly string[] = normalizeWritable(policy.writablePaths),
  budget = { left: MAX_STEPS },
): Ctx {
  const ctx: Ctx = {
    policy,
    cwd,
    writable,
    depth,
    budget,
    script: (text, bindings = {}) => classifyScript(text, makeCtx(policy, ctx.cwd, depth + 1, writable, budget), bindings),
    argv: (words) => classifyArgv(words, makeCtx(policy, ctx.cwd, depth + 1, writable, budget), false),
  };
  return ctx;
}

const withCwd = (ctx: Ctx, cwd: string | null): Ctx => makeCtx(ctx.policy, cwd, ctx.depth, ctx.writable, ctx.budget);
const deeper = (ctx: Ctx): Ctx => makeCtx(ctx.policy, ctx.cwd, ctx.depth + 1, ctx.writable, ctx.budget);

function classifyScript(script: string, ctx: Ctx, bindings: Bindings): Part[] {
  if (ctx.depth > MAX_DEPTH) return [forbidden('nested too deeply to check')];
  if (!script.trim()) return [forbidden('empty command')];
  if (script.length > MAX_COMMAND_LENGTH) return [forbidden('command too long to check')];
  if (/[\n\r\0]/.test(script)) return [forbidden('several lines: send one command per step')];
  if (/:\s*\(\s*\)\s*\{|\b(\w+)\s*\(\s*\)\s*\{[^}]*\b\1\b[^}]*\|/.test(script)) return [forbidden('fork bomb')];
  let commands: SimpleCommand[];
  try {
    // $HOME is the SSH user's home, wherever that is; positional parameters come from `sh -c`.
    commands = parseCommandLine(script, { HOME: '~', ...bindings });
  } catch (err) {
    if (!(err instanceof ShellSyntaxError)) throw err;
    return [forbidden(syntaxReason(err.message))];
  }
  const parts: Part[] = [];
  let cwd = ctx.cwd;
  for (const command of commands) {
    const here = withCwd(ctx, cwd);
    for (const word of [...command.assignments, ...command.argv, ...command.redirects.map((r) => r.target)])
      parts.push(...wordParts(word, here));
    for (const redirect of command.redirects) parts.push(redirectRisk(redirect.op, redirect.target, here));
    for (const assignment of command.assignments) parts.push(assignmentRisk(assignment));
    if (command.argv.length) parts.push(...classifyArgv(command.argv, here, command.pipedFrom));
    cwd = cwdAfter(command.argv, cwd);
  }
  return parts;
}

function syntaxReason(message: string): string {
  if (message === 'backtick') return 'backtick command substitution cannot be checked; use $(…)';
  if (message === 'background job') return 'background jobs outlive the step and cannot be supervised';
  if (message === 'comment') return 'comments are not allowed in a command';
  if (message === 'several lines') return 'several lines: send one command per step';
  return `unsupported shell syntax (${message})`;
}

/** Substitutions run, and some variables hold secrets: both count wherever the word stands. */
function wordParts(word: Word, ctx: Ctx): Part[] {
  const parts: Part[] = [];
  for (const sub of word.subs) parts.push(...classifyScript(sub, deeper(ctx), {}));
  for (const name of word.vars) {
    if (name.startsWith('!')) parts.push(high(`\${!${name.slice(1)}} expands variables by name`));
    else if (looksSecret(name)) parts.push(high(`expands $${name}, whose name says it holds a secret`));
  }
  return parts;
}

function redirectRisk(op: string, target: Word, ctx: Ctx): Part {
  if (op === '<<<') return readOnly('reads a here-string');
  if ((op === '>&' || op === '<&') && /^(?:\d+|-)$/.test(target.text) && !target.dynamic) return readOnly('duplicates a descriptor');
  if (op === '<') return readRisk(target, ctx) ?? readOnly('reads a file');
  return writeRisk(target, ctx, { verb: 'redirects output to' });
}

function cwdAfter(argv: readonly Word[], cwd: string | null): string | null {
  const name = argv[0]?.text;
  if (name !== 'cd' && name !== 'pushd' && name !== 'popd') return cwd;
  const target = argv.slice(1).find((w) => !/^-[LPe@]+$/.test(w.text));
  if (name === 'popd' || target?.text === '-') return null;
  if (!target) return HOME;
  if (target.dynamic || target.glob || target.brace) return null;
  return normalizePattern(target.pattern, cwd);
}

const basename = (path: string) => path.replace(/\/+$/, '').replace(/^.*\//, '') || path;

export function classifyArgv(words: readonly Word[], ctx: Ctx, pipedFrom: boolean): Part[] {
  if (ctx.depth > MAX_DEPTH) return [forbidden('nested too deeply to check')];
  if (--ctx.budget.left < 0) return [forbidden('too complex to check')];
  const [first, ...rest] = words;
  if (!first) return [];
  if (first.dynamic) return [high(`the command name ${first.text} is only known when it runs`), ...embedded(words, ctx)];
  if ((first.glob || first.brace) && !/^\[\[?$/.test(first.text)) {
    // A pattern as the command name runs whatever it matches: judge every command it may be.
    const names = new Set<string>();
    for (const alternative of first.brace ? expandBraces(first.pattern) : [first.pattern]) {
      if (!/(?:^|[^\\])[*?[]/.test(alternative)) names.add(alternative.replace(/\\(.)/g, '$1'));
      else {
        const regex = globRegex(basename(alternative));
        for (const known of KNOWN_NAMES) if (regex.test(known)) names.add(known);
      }
    }
    if (names.size > MAX_NAME_MATCHES)
      return [forbidden(`the command name ${first.text} is a pattern that matches ${names.size} commands`)];
    const parts: Part[] = [high(`the command name ${first.text} is a pattern`)];
    for (const name of names) parts.push(...classifyArgv([literalWord(name), ...rest], ctx, pipedFrom));
    return parts;
  }
  const text = first.text;
  const name = basename(text);
  const parts: Part[] = [];
  if (text.includes('/')) {
    // A relative path depends on the working directory: never a system program.
    const dir = text.startsWith('/') ? normalizePattern(text.slice(0, text.lastIndexOf('/')) || '/', null) : null;
    if (!dir || !SYSTEM_BIN.test(dir)) parts.push(high(`runs ${text}, a program outside the system directories`));
  }
  return [...parts, ...classifyNamed(name, rest, ctx, pipedFrom, words)];
}

function globRegex(pattern: string): RegExp {
  const source = pattern.replace(/\\(.)|([*?])|(\[[^\]]*\])|([.+^${}()|\\/])/g, (_, escaped, wild, cls, special) =>
    escaped
      ? escaped.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
      : wild === '*'
        ? '.*'
        : wild === '?'
          ? '.'
          : cls
            ? cls.replace(/^\[!/, '[^')
            : `\\${special}`,
  );
  return new RegExp(`^${source}$`);
}

function classifyNamed(name: string, args: readonly Word[], ctx: Ctx, pipedFrom: boolean, words: readonly Word[]): Part[] {
  if (KEYWORD_PREFIX.has(name)) return args.length ? classifyArgv(args, ctx, pipedFrom) : [readOnly(`${name} alone`)];
  if (KEYWORD_END.has(name)) return args.length ? [high(`${name} followed by words`)] : [readOnly(`${name} ends a block`)];
  if (/^(?:for|case|select|function|coproc|until|in)$/.test(name))
    return [high(`the shell construct ${name} is not modelled`), ...embedded(words, ctx)];
  if (name === 'eval') return [forbidden('eval runs text that cannot be checked')];
  const builtin = builtinRisk(name, args, ctx);
  if (builtin) return builtin;
  if (SHELLS.has(name)) return shellRisk(name, args, ctx, pipedFrom);
  if (INTERPRETERS.test(name)) {
    if (pipedFrom || args.length === 0) return [forbidden(`${name} runs text from a pipe or stdin that cannot be checked`)];
    return [high(`${name} runs a program that cannot be checked`), ...embedded(words, ctx)];
  }
  if (Object.hasOwn(WRAPPERS, name) || name === 'xargs' || name === 'busybox' || name === 'toybox') {
    const unwrapped = unwrap(name, args, ctx);
    const inner = unwrapped.cwd !== undefined ? withCwd(deeper(ctx), unwrapped.cwd) : deeper(ctx);
    const parts = [...unwrapped.parts];
    if (unwrapped.script !== undefined) parts.push(...classifyScript(unwrapped.script, inner, {}));
    if (unwrapped.inner) parts.push(...classifyArgv(unwrapped.inner, inner, pipedFrom));
    for (const variant of unwrapped.variants ?? [])
      parts.push(...classifyArgv(variant, inner, pipedFrom).filter((p) => p.risk === 'forbidden' || p.risk === 'high'));
    if (!unwrapped.inner && unwrapped.script === undefined && parts.some((p) => p.reason.includes(': option')))
      parts.push(...embedded(words, ctx));
    return parts.length ? parts : [readOnly(`${name} without a command`)];
  }
  const verdict = fitReadOnly(name, args, ctx);
  if (verdict?.fits) return verdict.parts.length ? verdict.parts : [readOnly(`${name} ${grammarOf(name)!.about}`)];
  const seen = verdict?.fits === false ? (verdict.parts ?? []).filter((p) => p.risk === 'forbidden') : [];
  const rule = changeRule(name);
  if (rule) return [...seen, ...rule(name, args, ctx)];
  if (verdict) return [high(`${name}: ${verdict.reason} (outside its read-only grammar)`), ...seen];
  return [high(`${name} is not a command InfraAI knows; a human decides`), ...embedded(words, ctx)];
}

/** A command InfraAI does not know may run its arguments: a forbidden command among them counts. */
function embedded(words: readonly Word[], ctx: Ctx): Part[] {
  if (ctx.depth >= MAX_DEPTH) return [];
  for (let k = 1; k < words.length; k++) {
    const word = words[k]!;
    if (word.dynamic || !KNOWN_NAMES.includes(basename(word.text))) continue;
    const found = classifyArgv(words.slice(k), deeper(ctx), false).filter((p) => p.risk === 'forbidden');
    if (found.length) return found.map((p) => ({ risk: p.risk, reason: `its arguments hold a command: ${p.reason}` }));
  }
  return [];
}

function shellRisk(name: string, args: readonly Word[], ctx: Ctx, pipedFrom: boolean): Part[] {
  let i = 0;
  let script: Word | undefined;
  const parts: Part[] = [];
  for (; i < args.length; i++) {
    const t = args[i]!.text;
    if (t === '-c' || (/^-[a-z]*c[a-z]*$/.test(t) && !t.startsWith('--'))) {
      script = args[++i];
      i++;
      break;
    }
    if (t === '-o' || t === '+o') {
      i++;
      continue;
    }
    if (t === '-s' || (t.startsWith('-') && t.includes('s') && !t.startsWith('--')))
      return [forbidden(`${name} -s runs text from stdin that cannot be checked`)];
    if (t === '-i') parts.push(high(`${name} -i runs an interactive shell (it reads start-up files)`));
    if (/^[-+][a-zA-Z]+$|^--(?:norc|noprofile|posix|login|restricted)$/.test(t)) continue;
    break;
  }
  if (script) {
    if (script.dynamic) return [high(`${name} -c runs text only known when the command runs`)];
    // $0 is the next argument, $1… the ones after it.
    const bindings: Record<string, string> = {};
    args.slice(i).forEach((word, k) => {
      if (!word.dynamic && /^[^\s'"\\$`*?[\]{}]*$/.test(word.text)) bindings[String(k)] = word.text;
    });
    return [...parts, ...classifyScript(script.text, deeper(ctx), bindings)];
  }
  if (pipedFrom || i >= args.length) return [forbidden(`${name} runs text from a pipe or stdin that cannot be checked`)];
  return [...parts, high(`${name} runs the script ${args[i]!.text}, which cannot be checked`)];
}

/** Shell builtins that change the shell itself. */
function builtinRisk(name: string, args: readonly Word[], ctx: Ctx): Part[] | null {
  switch (name) {
    case 'export':
    case 'declare':
    case 'typeset':
    case 'local':
    case 'readonly': {
      const words = args.filter((w) => !/^[-+][a-zA-Z]+$/.test(w.text));
      if (args.some((w) => /^-[a-zA-Z]*[fnp]/.test(w.text)) || words.length === 0)
        return [high(`${name} without assignments prints variables or functions (secrets included)`)];
      return words.map((w) => (w.text.includes('=') ? assignmentRisk(w) : assignmentRisk(literalWord(`${w.text}=`))));
    }
    case 'unset':
      return args.some((w) => /^(?:HISTFILE|HISTSIZE|HISTFILESIZE)$/.test(w.text))
        ? [high('unset of the shell history settings')]
        : [readOnly('unset a variable')];
    case 'set':
      if (
        args.length &&
        args.every((w) => /^[-+](?:[euxvfCnhbBHTEPo]+)$|^(?:pipefail|errexit|nounset|xtrace|noclobber|noglob|--)$/.test(w.text))
      )
        return [readOnly('set shell options')];
      return [high('set without options prints every variable (secrets included)')];
    case 'alias':
      return args.length ? [high('alias changes what a command name runs')] : [readOnly('alias lists aliases')];
    case 'unalias':
    case 'shift':
    case 'exit':
    case 'return':
    case 'wait':
    case 'ulimit':
    case 'umask':
    case 'hash':
      return [readOnly(`${name}`)];
    case 'trap': {
      const action = args.find((w) => w.text !== '--');
      if (!action || action.text === '-' || action.text === '' || /^-[lp]$/.test(action.text))
        return [readOnly('trap resets or lists traps')];
      return [
        ...(action.dynamic ? [high('trap runs text only known when the command runs')] : classifyScript(action.text, deeper(ctx), {})),
      ];
    }
    case 'source':
    case '.':
      return [high(`${name} runs a script file that cannot be checked`)];
    case 'read':
      return [
        readOnly('read a line into variables'),
        ...args.filter((w) => !w.text.startsWith('-')).map((w) => assignmentRisk(literalWord(`${w.text}=`))),
      ];
    case 'let':
      return [high('let assigns variables by arithmetic')];
    default:
      return null;
  }
}
