// Commands that carry a program: awk, sed and find's expression. Each is read far enough to see
// whether the program runs commands, writes files or reads secrets; what is not understood does
// not fit the grammar (and so is `high`).

import { fits, misfit, type Ctx, type Verdict } from './args.js';
import { literalWord, type Word } from './lexer.js';
import { ANY_BELOW, readRisk, writeRisk } from './paths.js';
import { high, maxRisk, type Part } from './risk.js';

/** awk program text: what in it runs commands, writes, or reads beyond its operands. */
export function awkProgramRisk(program: string, ctx: Ctx): Part[] {
  const parts: Part[] = [];
  const code = stripAwkLiterals(program);
  if (/\bsystem\s*\(/.test(code.text)) {
    const inner = code.strings.length === 1 ? ctx.script(code.strings[0]!) : [];
    parts.push(high('awk program runs a command (system())'), ...inner.filter((p) => p.risk === 'forbidden'));
  }
  if (/\bgetline\b/.test(code.text)) parts.push(high('awk program reads with getline (from files or commands)'));
  if (/(?<!\|)\|(?!\|)/.test(code.text)) parts.push(high('awk program pipes to or from a command'));
  if (/\b(?:print|printf)\b[^;}\n]*>/.test(code.text.replace(/\([^()]*\)/g, '()')))
    parts.push(high('awk program redirects print into a file'));
  if (/\bENVIRON\b|\bPROCINFO\b/.test(code.text)) parts.push(high('awk program reads the environment'));
  if (/@(?:load|include|namespace)\b/.test(code.text)) parts.push(high('awk program loads extensions'));
  if (/@[A-Za-z_]\w*\s*\(/.test(code.text)) parts.push(high('awk program calls a function by name (it may be system)'));
  return parts;
}

/** awk code with string and regex literals blanked (their content cannot run anything). */
function stripAwkLiterals(program: string): { text: string; strings: string[] } {
  let text = '';
  const strings: string[] = [];
  let last = '';
  for (let i = 0; i < program.length; i++) {
    const ch = program[i]!;
    if (ch === '"') {
      let j = i + 1;
      let value = '';
      for (; j < program.length && program[j] !== '"'; j++) value += program[j] === '\\' ? program[++j] : program[j];
      strings.push(value);
      text += '""';
      i = j;
      last = '"';
    } else if (ch === '/' && (last === '' || /[(,~!{};&|=?:]/.test(last))) {
      let j = i + 1;
      for (; j < program.length && program[j] !== '/'; j++) if (program[j] === '\\') j++;
      text += '//';
      i = j;
      last = '/';
    } else {
      text += ch;
      if (!/\s/.test(ch)) last = ch;
    }
  }
  return { text, strings };
}

/**
 * A sed script: GNU sed runs commands (`e`, the `s///e` flag), writes files (`w`, `W`, `s///w`)
 * and reads files (`r`, `R`). Returns the parts it adds, or what it cannot read.
 */
export function sedScriptRisk(script: string, ctx: Ctx): Part[] | string {
  const parts: Part[] = [];
  let i = 0;
  const s = script;
  const skipBlanks = () => {
    while (i < s.length && /[\s;]/.test(s[i]!)) i++;
  };
  const delimited = (delim: string): string | null => {
    let out = '';
    for (; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === '\\' && i + 1 < s.length) {
        out += ch + s[++i];
        continue;
      }
      if (ch === delim) {
        i++;
        return out;
      }
      out += ch;
    }
    return null;
  };
  const restOfLine = () => {
    const end = s.indexOf('\n', i);
    const text = s.slice(i, end < 0 ? s.length : end).trim();
    i = end < 0 ? s.length : end + 1;
    return text;
  };
  const untilSemicolon = () => {
    const m = /^[^;}\n]*/.exec(s.slice(i))![0];
    i += m.length;
    return m.trim();
  };
  const address = (): boolean => {
    const ch = s[i];
    if (ch === undefined) return false;
    if (/\d/.test(ch)) {
      while (i < s.length && /[\d~]/.test(s[i]!)) i++;
      return true;
    }
    if (ch === '$') {
      i++;
      return true;
    }
    if (ch === '/' || ch === '\\') {
      const delim = ch === '\\' ? s[++i]! : '/';
      i++;
      if (delimited(delim) === null) return false;
      while (i < s.length && /[IM]/.test(s[i]!)) i++;
      return true;
    }
    return false;
  };
  while (i < s.length) {
    skipBlanks();
    if (i >= s.length) break;
    if (address()) {
      if (s[i] === ',') {
        i++;
        if (s[i] === '+' || s[i] === '~') i++;
        if (!address()) return 'a sed address range it cannot read';
      }
    }
    while (s[i] === ' ' || s[i] === '!') i++;
    const command = s[i++];
    if (command === undefined) return 'a sed address without a command';
    switch (command) {
      case '{':
      case '}':
      case '=':
      case 'd':
      case 'D':
      case 'g':
      case 'G':
      case 'h':
      case 'H':
      case 'n':
      case 'N':
      case 'p':
      case 'P':
      case 'x':
      case 'z':
      case 'F':
        break;
      case 'l':
      case 'q':
      case 'Q':
      case 'L':
        while (i < s.length && /[\d ]/.test(s[i]!)) i++;
        break;
      case 'a':
      case 'i':
      case 'c':
        restOfLine();
        break;
      case 'b':
      case 't':
      case 'T':
      case ':':
      case 'v':
        untilSemicolon();
        break;
      case '#':
        restOfLine();
        break;
      case 'r':
      case 'R': {
        const file = restOfLine();
        const risk = readRisk(literalWord(file), ctx);
        if (risk) parts.push({ risk: risk.risk, reason: `sed ${command}: ${risk.reason}` });
        break;
      }
      case 'w':
      case 'W': {
        const file = restOfLine();
        parts.push(sedWrite(file, ctx));
        break;
      }
      case 'e': {
        const inner = restOfLine();
        parts.push(high(inner ? 'sed e runs a command' : 'sed e runs the pattern space as a command'));
        if (inner) parts.push(...ctx.script(inner));
        break;
      }
      case 's':
      case 'y': {
        const delim = s[i++];
        if (delim === undefined || delim === '\\' || delim === '\n') return 'a sed s command it cannot read';
        if (delimited(delim) === null || delimited(delim) === null) return `an unterminated sed ${command} command`;
        if (command === 'y') break;
        while (i < s.length && /[gpiImMe\d]/.test(s[i]!)) {
          if (s[i] === 'e') parts.push(high('sed s///e runs the result as a command'));
          i++;
        }
        if (s[i] === 'w') {
          i++;
          parts.push(sedWrite(restOfLine(), ctx));
        }
        break;
      }
      default:
        return `sed command '${command}' is outside the grammar`;
    }
  }
  return parts;
}

function sedWrite(file: string, ctx: Ctx): Part {
  if (file === '/dev/stdout' || file === '/dev/stderr') return { risk: 'read-only', reason: 'sed writes to its output' };
  const risk = writeRisk(literalWord(file), ctx);
  return { risk: maxRisk(risk.risk, 'low'), reason: `sed w: ${risk.reason}` };
}

// find: starting points, then an expression of tests and actions.
const FIND_FLAGS = new Set([
  '-empty',
  '-executable',
  '-readable',
  '-writable',
  '-nouser',
  '-nogroup',
  '-true',
  '-false',
  '-print',
  '-print0',
  '-ls',
  '-prune',
  '-quit',
  '-depth',
  '-d',
  '-mount',
  '-xdev',
  '-noleaf',
  '-ignore_readdir_race',
  '-noignore_readdir_race',
  '-daystart',
  '-follow',
  '-nowarn',
  '-warn',
  '-not',
  '!',
  '-a',
  '-and',
  '-o',
  '-or',
  '(',
  ')',
  ',',
]);
const FIND_TESTS: Record<string, 'pattern' | 'number' | 'name' | 'path' | 'text'> = {
  '-name': 'pattern',
  '-iname': 'pattern',
  '-path': 'pattern',
  '-ipath': 'pattern',
  '-wholename': 'pattern',
  '-iwholename': 'pattern',
  '-regex': 'pattern',
  '-iregex': 'pattern',
  '-lname': 'pattern',
  '-ilname': 'pattern',
  '-type': 'name',
  '-xtype': 'name',
  '-size': 'number',
  '-mtime': 'number',
  '-atime': 'number',
  '-ctime': 'number',
  '-mmin': 'number',
  '-amin': 'number',
  '-cmin': 'number',
  '-used': 'number',
  '-links': 'number',
  '-inum': 'number',
  '-uid': 'number',
  '-gid': 'number',
  '-maxdepth': 'number',
  '-mindepth': 'number',
  '-user': 'name',
  '-group': 'name',
  '-perm': 'name',
  '-fstype': 'name',
  '-regextype': 'name',
  '-newer': 'path',
  '-anewer': 'path',
  '-cnewer': 'path',
  '-samefile': 'path',
  '-printf': 'text',
};
export const FIND_DOC =
  `starting points (paths), then tests ${Object.keys(FIND_TESTS).join(' ')} and ${[...FIND_FLAGS].join(' ')}; ` +
  '`-exec`/`-execdir`/`-ok`/`-okdir CMD … ;|+` fit when CMD does (its `{}` stands for any file under the starting points); ' +
  '`-delete`, `-fprint`, `-fprint0`, `-fls`, `-fprintf` are writes rated by destination';

/** find's grammar: read-only unless an action writes or the command it runs does more. */
export function findVerdict(args: readonly Word[], ctx: Ctx): Verdict {
  let i = 0;
  while (i < args.length && /^-(?:H|L|P|O\d|D)$/.test(args[i]!.text)) i += args[i]!.text === '-D' ? 2 : 1;
  const roots: Word[] = [];
  for (; i < args.length; i++) {
    const t = args[i]!.text;
    if (t.startsWith('-') || t === '(' || t === '!' || t === ',') break;
    if (args[i]!.dynamic) return misfit(`starting point ${t} is only known when the command runs`);
    roots.push(args[i]!);
  }
  if (roots.length === 0) roots.push(literalWord('.'));
  // With a plain conjunction of tests, a single -name narrows what `{}` and -delete reach.
  const expression = args.slice(i).map((a) => a.text);
  const nameAt = expression.indexOf('-name');
  const narrow =
    nameAt >= 0 &&
    expression.filter((t) => t === '-name').length === 1 &&
    !expression.some((t) => /^(?:-o|-or|,|!|-not)$/.test(t)) &&
    !args[i + nameAt + 1]?.dynamic
      ? args[i + nameAt + 1]!.text.replace(/[{},]/g, '\\$&')
      : '';
  const below = (root: Word) => {
    const base = root.pattern.replace(/\/+$/, '') || '/';
    return {
      ...literalWord(''),
      text: `${root.text.replace(/\/+$/, '')}/${ANY_BELOW}${narrow}`,
      pattern: `${base === '/' ? '' : base}/${ANY_BELOW}${narrow}`,
      glob: narrow !== '',
    };
  };
  const parts: Part[] = [];
  for (; i < args.length; i++) {
    const word = args[i]!;
    const t = word.text;
    if (word.dynamic) return misfit(`'${t}' in the expression expands when the command runs`, parts);
    if (FIND_FLAGS.has(t)) continue;
    const test = FIND_TESTS[t] ?? (/^-newer[amcBt]{2}$/.test(t) ? 'text' : undefined);
    if (test) {
      const value = args[++i];
      if (!value || value.dynamic) return misfit(`${t} needs a value`, parts);
      if (test === 'number' && !/^[+-]?\d+[a-zA-Z]?$/.test(value.text)) return misfit(`${t} ${value.text} is not a number`, parts);
      continue;
    }
    if (t === '-delete') {
      for (const root of roots) parts.push(writeRisk(below(root), ctx, { removes: true, verb: 'find -delete removes files in' }));
      continue;
    }
    if (t === '-fprint' || t === '-fprint0' || t === '-fls' || t === '-fprintf') {
      const file = args[++i];
      if (!file) return misfit(`${t} needs a file`, parts);
      parts.push(writeRisk(file, ctx, { verb: `find ${t} writes` }));
      if (t === '-fprintf' && !args[++i]) return misfit('-fprintf needs a format');
      continue;
    }
    if (t === '-exec' || t === '-execdir' || t === '-ok' || t === '-okdir') {
      const end = args.findIndex((a, k) => k > i && (a.text === ';' || a.text === '+'));
      if (end < 0) return misfit(`${t} without its terminating ';' or '+'`, parts);
      const inner = args.slice(i + 1, end);
      if (inner.length === 0) return misfit(`${t} without a command`);
      for (const root of roots) {
        const any = below(root);
        // `{}` is any file under the starting point; the command runs once per file.
        const words = inner.map((a) =>
          a.text.includes('{}') && !a.dynamic
            ? {
                ...a,
                text: a.text.replaceAll('{}', any.text),
                pattern: a.pattern.replaceAll('\\{\\}', any.pattern).replaceAll('{}', any.pattern),
                glob: a.glob || any.glob,
              }
            : a,
        );
        parts.push(...ctx.argv(words));
      }
      i = end;
      continue;
    }
    return misfit(`find ${t} is outside the grammar`, parts);
  }
  return fits(parts);
}
