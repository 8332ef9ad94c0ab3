// A small POSIX-shell lexer and parser for one command line: words (with what was quoted, what
// expands and what is a pattern), operators, redirections. It models only what the policy needs
// and refuses the rest (subshells, here-documents, backticks, several lines) rather than guess:
// a guess in a parser is how a hostile plan walks past the policy.

export interface Word {
  /** The text after quote removal; expansions stay as written (`$X`, `$(…)`). */
  text: string;
  /** The same text as a shell pattern: quoted pattern characters escaped with a backslash. */
  pattern: string;
  /** Unquoted `*`, `?` or `[`: the word is a pathname pattern. */
  glob: boolean;
  /** Unquoted `{a,b}` or `{1..3}`: the word expands to several. */
  brace: boolean;
  /** Variables expanded, by name (`$HOME` → HOME, `${X:-y}` → X, `$1` → 1). */
  vars: string[];
  /** Commands substituted with `$(…)`, as written. */
  subs: string[];
  /** Some of the text is only known when the command runs (a variable or a substitution). */
  dynamic: boolean;
  /** An unquoted expansion: the value may split into several words (or options). */
  splits: boolean;
}

export interface Redirect {
  /** `>`, `>>`, `>|`, `<`, `<>`, `<<<`, `>&`, `<&`, `&>`, `&>>`. */
  op: string;
  fd: number | null;
  target: Word;
}

export interface SimpleCommand {
  /** Leading `NAME=value` words. */
  assignments: Word[];
  argv: Word[];
  redirects: Redirect[];
  /** Its standard input comes from the command before it through a pipe. */
  pipedFrom: boolean;
  pipeTo: boolean;
}

export class ShellSyntaxError extends Error {}

/** Values the caller knows for variables (positional parameters of `sh -c`, `find`'s `{}`). */
export type Bindings = Readonly<Record<string, string>>;

/**
 * `$(…)` whose output is known to be a plain word: `date +%s` and similar formats only. Its value
 * here stands for any such output; anything else in `$(…)` leaves the word dynamic.
 */
const SAFE_SUBSTITUTION = /^\s*date\s+(?:-u\s+)?['"]?\+[%A-Za-z0-9_.:-]+['"]?\s*$/;
export const SAFE_SUBSTITUTION_VALUE = '0';

const GLOB_CHARS = new Set(['*', '?', '[']);
const escapePattern = (ch: string) => (/[*?[\]{}\\,]/.test(ch) ? `\\${ch}` : ch);

function ansiC(body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)/g, (_, seq: string) => {
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v' };
    if (seq[0] === 'x' || seq[0] === 'u' || seq[0] === 'U') return String.fromCodePoint(parseInt(seq.slice(1), 16));
    if (/^[0-7]/.test(seq)) return String.fromCharCode(parseInt(seq, 8));
    if (seq[0] === 'c') return String.fromCharCode(seq.charCodeAt(1) & 31);
    return simple[seq] ?? seq;
  });
}

/** Index just past the `)` closing a `$(` whose body starts at `start`, minding quotes and nesting. */
function closingParen(s: string, start: number): number {
  let depth = 1;
  for (let i = start; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\') i++;
    else if (ch === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) break;
      i = end;
    } else if (ch === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
    } else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i + 1;
  }
  throw new ShellSyntaxError('unterminated $(…)');
}

type Token = { kind: 'word'; word: Word } | { kind: 'op'; op: string; fd: number | null };

const OPERATORS = [
  '&&',
  '||',
  ';;',
  '|&',
  '&>>',
  '&>',
  '<<<',
  '<<-',
  '<<',
  '<>',
  '<&',
  '>&',
  '>>',
  '>|',
  '<(',
  '>(',
  '|',
  '&',
  ';',
  '(',
  ')',
  '<',
  '>',
];

export function tokenize(s: string, bindings: Bindings = {}): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    if (ch === ' ' || ch === '\t') {
      i++;
      continue;
    }
    if (ch === '\n' || ch === '\r') throw new ShellSyntaxError('several lines');
    if (ch === '#') throw new ShellSyntaxError('comment');
    const fd = /^\d+(?=[<>])/.exec(s.slice(i));
    if (fd) {
      i += fd[0].length;
      const op = OPERATORS.find((o) => s.startsWith(o, i))!;
      tokens.push({ kind: 'op', op, fd: Number(fd[0]) });
      i += op.length;
      continue;
    }
    const op = OPERATORS.find((o) => s.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', op, fd: null });
      i += op.length;
      continue;
    }
    const [word, next] = readWord(s, i, bindings);
    tokens.push({ kind: 'word', word });
    i = next;
  }
  return tokens;
}

function readWord(s: string, start: number, bindings: Bindings): [Word, number] {
  const word: Word = { text: '', pattern: '', glob: false, brace: false, vars: [], subs: [], dynamic: false, splits: false };
  const literal = (text: string) => {
    word.text += text;
    for (const ch of text) word.pattern += escapePattern(ch);
  };
  const unquoted = (ch: string) => {
    word.text += ch;
    word.pattern += ch === '\\' ? '\\\\' : ch;
    if (GLOB_CHARS.has(ch)) word.glob = true;
  };
  const expansion = (raw: string, quoted: boolean) => {
    word.text += raw;
    word.pattern += quoted ? raw.replace(/[*?[\]{}\\,]/g, '\\$&') : raw;
    word.dynamic = true;
    if (!quoted) word.splits = true;
  };
  /** `$…` at s[i] (i points at `$`); returns the index after it. */
  const dollar = (i: number, quoted: boolean): number => {
    const nextCh = s[i + 1];
    if (nextCh === '(' && s[i + 2] === '(') {
      const end = s.indexOf('))', i + 3);
      if (end < 0) throw new ShellSyntaxError('unterminated $((…))');
      const body = s.slice(i + 3, end);
      if (/[`$]\(|`/.test(body)) throw new ShellSyntaxError('command substitution inside arithmetic');
      for (const m of body.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) word.vars.push(m[1]!);
      expansion(s.slice(i, end + 2), quoted);
      return end + 2;
    }
    if (nextCh === '(') {
      const end = closingParen(s, i + 2);
      const body = s.slice(i + 2, end - 1);
      if (SAFE_SUBSTITUTION.test(body)) {
        word.subs.push(body);
        literal(SAFE_SUBSTITUTION_VALUE);
      } else {
        word.subs.push(body);
        expansion(s.slice(i, end), quoted);
      }
      return end;
    }
    if (nextCh === '{') {
      const end = s.indexOf('}', i + 2);
      if (end < 0) throw new ShellSyntaxError('unterminated ${…}');
      const body = s.slice(i + 2, end);
      if (/[`$]/.test(body) || /['"\\]/.test(body)) throw new ShellSyntaxError('nested expansion inside ${…}');
      const name = /^[#!]?([A-Za-z_][A-Za-z0-9_]*|\d+|[@*#?$!-])/.exec(body);
      if (!name) throw new ShellSyntaxError(`unsupported expansion \${${body}}`);
      // `${!X}` and `${!X*}` name other variables: nothing about them is known.
      word.vars.push(body.startsWith('!') ? `!${name[1]}` : name[1]!);
      const bound = body === name[1] ? bindings[name[1]!] : undefined;
      if (bound !== undefined) literal(bound);
      else expansion(s.slice(i, end + 1), quoted);
      return end + 1;
    }
    const simple = /^(?:[A-Za-z_][A-Za-z0-9_]*|\d|[@*#?$!-])/.exec(s.slice(i + 1));
    if (!simple) {
      literal('$');
      return i + 1;
    }
    word.vars.push(simple[0]);
    const bound = bindings[simple[0]];
    if (bound !== undefined) literal(bound);
    else expansion(`$${simple[0]}`, quoted);
    return i + 1 + simple[0].length;
  };

  let i = start;
  let braceOpen = -1;
  while (i < s.length) {
    const ch = s[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || /[|&;()<>]/.test(ch)) break;
    if (ch === '`') throw new ShellSyntaxError('backtick');
    if (ch === '\\') {
      if (i + 1 >= s.length) throw new ShellSyntaxError('trailing backslash');
      literal(s[i + 1]!);
      i += 2;
    } else if (ch === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError('unterminated single quote');
      literal(s.slice(i + 1, end));
      i = end + 1;
    } else if (ch === '$' && s[i + 1] === "'") {
      let end = i + 2;
      while (end < s.length && s[end] !== "'") end += s[end] === '\\' ? 2 : 1;
      if (end >= s.length) throw new ShellSyntaxError("unterminated $'…'");
      const decoded = ansiC(s.slice(i + 2, end));
      if (/[\n\r\0]/.test(decoded)) throw new ShellSyntaxError('several lines');
      literal(decoded);
      i = end + 1;
    } else if (ch === '"' || (ch === '$' && s[i + 1] === '"')) {
      i += ch === '$' ? 2 : 1;
      for (;;) {
        if (i >= s.length) throw new ShellSyntaxError('unterminated double quote');
        const c = s[i]!;
        if (c === '"') break;
        if (c === '`') throw new ShellSyntaxError('backtick');
        if (c === '\\' && i + 1 < s.length && /[$`"\\]/.test(s[i + 1]!)) {
          literal(s[i + 1]!);
          i += 2;
        } else if (c === '$') i = dollar(i, true);
        else {
          literal(c);
          i++;
        }
      }
      i++;
    } else if (ch === '$') {
      i = dollar(i, false);
    } else {
      if (ch === '{') braceOpen = word.pattern.length;
      if (ch === '}' && braceOpen >= 0 && /,|\.\./.test(word.pattern.slice(braceOpen))) word.brace = true;
      unquoted(ch);
      i++;
    }
  }
  return [word, i];
}

/** Splits a command line into simple commands; throws ShellSyntaxError on what it does not model. */
export function parseCommandLine(s: string, bindings: Bindings = {}): SimpleCommand[] {
  const tokens = tokenize(s, bindings);
  const commands: SimpleCommand[] = [];
  let current: SimpleCommand = { assignments: [], argv: [], redirects: [], pipedFrom: false, pipeTo: false };
  const flush = (pipeTo: boolean) => {
    if (!current.argv.length && !current.assignments.length && !current.redirects.length)
      throw new ShellSyntaxError('an operator without a command');
    current.pipeTo = pipeTo;
    commands.push(current);
    current = { assignments: [], argv: [], redirects: [], pipedFrom: pipeTo, pipeTo: false };
  };
  let dangling = false;
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!;
    dangling = token.kind === 'op' && ['|', '|&', '&&', '||'].includes(token.op);
    if (token.kind === 'word') {
      if (!current.argv.length && /^[A-Za-z_][A-Za-z0-9_]*\+?=/.test(token.word.text)) current.assignments.push(token.word);
      else current.argv.push(token.word);
      continue;
    }
    const { op, fd } = token;
    switch (op) {
      case '|':
      case '|&':
        flush(true);
        break;
      case '&&':
      case '||':
      case ';':
        flush(false);
        break;
      case '&':
        throw new ShellSyntaxError('background job');
      case '<<':
      case '<<-':
        throw new ShellSyntaxError('here-document');
      case '(':
      case ')':
      case '<(':
      case '>(':
      case ';;':
        throw new ShellSyntaxError(`'${op}'`);
      default: {
        const next = tokens[t + 1];
        if (next?.kind !== 'word') throw new ShellSyntaxError(`redirection ${op} without a target`);
        current.redirects.push({ op, fd, target: next.word });
        t++;
      }
    }
  }
  if (dangling) throw new ShellSyntaxError('an operator without a command after it');
  if (current.argv.length || current.assignments.length || current.redirects.length) commands.push(current);
  if (!commands.length) throw new ShellSyntaxError('empty command');
  return commands;
}

/** A word made from a literal string (an argument built by the classifier itself). */
export function literalWord(text: string): Word {
  return {
    text,
    pattern: text.replace(/[*?[\]{}\\,]/g, '\\$&'),
    glob: false,
    brace: false,
    vars: [],
    subs: [],
    dynamic: false,
    splits: false,
  };
}

/** The word without its first `n` characters of text (`--output=FILE` → `FILE`). */
export function dropPrefix(word: Word, n: number): Word {
  let p = 0;
  for (let consumed = 0; consumed < n && p < word.pattern.length; consumed++) p += word.pattern[p] === '\\' ? 2 : 1;
  const pattern = word.pattern.slice(p);
  return {
    ...word,
    text: word.text.slice(n),
    pattern,
    glob: word.glob && /(?:^|[^\\])[*?[]/.test(pattern),
    brace: word.brace && /(?:^|[^\\])\{/.test(pattern),
  };
}
