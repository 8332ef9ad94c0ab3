// The grammar machinery: what an entry of the table (grammar.ts) declares, and the argument
// parser that holds a command to it. A command fits its grammar when every option is declared and
// every value and operand is of the declared kind; what the arguments then reach (a file read, a
// destination written) is rated by path class.

import { dropPrefix, type Bindings, type Word } from './lexer.js';
import { readRisk, writeRisk, type PathContext } from './paths.js';
import { high, type CommandPolicy, type Part } from './risk.js';

/** What the classifier offers a grammar check: path context and nested classification. */
export interface Ctx extends PathContext {
  policy: CommandPolicy;
  depth: number;
  /** Classification steps left for the whole command: a command too complex to check is refused. */
  budget: { left: number };
  /** Classifies a nested command line (`sh -c`, sed's `e`, awk's `system()`). */
  script(text: string, bindings?: Bindings): Part[];
  /** Classifies a nested argument vector (`find -exec`, a wrapper's command). */
  argv(words: readonly Word[]): Part[];
}

/**
 * What an argument is. `file`: a file whose content is read (refused when it may be a secret);
 * `cert`: a certificate read by a certificate parser; `path`: a path whose metadata only is read;
 * `write`: a destination written (rated by path class); `pattern`, `text`: free text;
 * `number`, `pid`, `signal`, `name`, `host`, `url`, `envname`: checked by shape; a string
 * array: one of these words.
 */
export type Kind =
  | 'file'
  | 'cert'
  | 'path'
  | 'write'
  | 'pattern'
  | 'text'
  | 'number'
  | 'pid'
  | 'signal'
  | 'name'
  | 'host'
  | 'url'
  | 'envname'
  | readonly string[];

export interface Operands {
  /** Kinds of the first operands, in order. */
  kinds?: readonly Kind[];
  /** Kind of every further operand; without it, no further operand fits. */
  rest?: Kind;
  min?: number;
}

export interface Grammar {
  /** One line for the generated documentation. */
  about: string;
  /** Short options without a value, e.g. `'nvc'`. */
  flags?: string;
  /** Short options with a value, e.g. `{ n: 'number' }` (`-n 5`, `-n5`). */
  values?: Readonly<Record<string, Kind>>;
  /** Long options, `null` for those without a value (`--lines=5`, `--lines 5`). */
  long?: Readonly<Record<string, Kind | null>>;
  /** `-name`-style long options with one dash (openssl). */
  singleDashLong?: boolean;
  /** `-5` for a count (head, tail). */
  numericOption?: boolean;
  operands?: Operands | ((options: ReadonlySet<string>) => Operands);
  /** Subcommands selected by the first operand; `a|b` names aliases. */
  sub?: Readonly<Record<string, Grammar>>;
  /** Subcommand used when no operand names one. */
  defaultSub?: string;
  /** Further checks on a parse that fits (a program's text, an operand's meaning). */
  check?: (parsed: Parsed, ctx: Ctx) => Part[] | string;
  /** Parses the arguments itself (find, test, ps…); `doc` says what it accepts. */
  custom?: (args: readonly Word[], ctx: Ctx) => Verdict;
  doc?: string;
  /** Any argument is harmless, expansions included (echo). */
  anyArgs?: boolean;
  /** Options stand before the first operand only (printf, builtins). */
  optionsFirst?: boolean;
}

export interface Parsed {
  /** Option name as written in the grammar (`-n`, `--lines`) → its values. */
  options: Map<string, Word[]>;
  operands: Word[];
  /** The subcommand path, e.g. `['rollout', 'status']`. */
  path: string[];
}

/** A misfit keeps the parts seen before it: a forbidden one among them still counts. */
export type Verdict = { fits: true; parts: Part[] } | { fits: false; reason: string; parts?: Part[] };
export const fits = (parts: Part[] = []): Verdict => ({ fits: true, parts });
export const misfit = (reason: string, parts?: Part[]): Verdict => (parts ? { fits: false, reason, parts } : { fits: false, reason });

const NUMBER = /^[+-]?\d+(?:\.\d+)?(?:[a-zA-Z%]{1,3})?$/;
const NAME = /^(?!-)[A-Za-z0-9_@%+.:,=/^*?[\]-]+$/;
const HOST = /^(?!-)[A-Za-z0-9_.:%[\]-]+$/;
/** Instance metadata services hand out the host's cloud credentials. */
const METADATA_HOSTS =
  /^(?:169\.254\.169\.254|169\.254\.170\.2|fd00:ec2::254|\[fd00:ec2::254\]|100\.100\.100\.200|metadata(?:\.google\.internal)?|metadata\.azure\.com)$/i;
const SECRET_NAME = /KEY|TOKEN|SECRET|PASS|PWD|CRED|AUTH|SESSION|COOKIE|PRIVATE|SIGN|DSN|CONN|URL|URI|CERT/i;
export const looksSecret = (name: string) => SECRET_NAME.test(name) && name !== 'PWD' && name !== 'OLDPWD';

export function hostRisk(host: string): string | null {
  const bare = host.replace(/^\[|\]$/g, '').replace(/:\d+$/, '');
  if (METADATA_HOSTS.test(host) || METADATA_HOSTS.test(bare)) return `${host} is an instance metadata service (cloud credentials)`;
  return null;
}

/** Risk of one argument of a kind; a string when the argument is not of that kind. */
export function kindRisk(kind: Kind, word: Word, ctx: Ctx): Part[] | string {
  const text = word.text;
  if (typeof kind !== 'string') return !word.dynamic && kind.includes(text) ? [] : `'${text}' is not one of ${kind.join(', ')}`;
  switch (kind) {
    case 'file':
    case 'cert': {
      const risk = readRisk(word, ctx, { certificate: kind === 'cert' });
      return risk ? [risk] : [];
    }
    case 'path':
      return [];
    case 'write':
      // `-` is standard output for the commands that take an output file.
      return !word.dynamic && text === '-' ? [] : [writeRisk(word, ctx)];
    case 'pattern':
    case 'text':
      return [];
    case 'number':
      return !word.dynamic && NUMBER.test(text) ? [] : `'${text}' is not a number`;
    case 'pid':
      return !word.dynamic && /^\d+(?:,\d+)*$/.test(text) ? [] : `'${text}' is not a process id`;
    case 'signal':
      return !word.dynamic && /^(?:SIG)?[A-Z][A-Z0-9+-]*$|^\d{1,2}$/i.test(text) ? [] : `'${text}' is not a signal`;
    case 'name':
      return !word.dynamic && NAME.test(text) && !text.split('/').includes('..') ? [] : `'${text}' is not a plain name`;
    case 'host': {
      const value = text.replace(/^@/, '');
      if (word.dynamic || !HOST.test(value)) return `'${text}' is not a host name or address`;
      const risk = hostRisk(value);
      return risk ? [high(`reads ${risk}`)] : [];
    }
    case 'url': {
      if (word.dynamic) return `'${text}' is a URL only known when the command runs`;
      const m = /^(?:(https?):\/\/)?(\[[^\]]+\]|[^/:?#@]+)(?::\d+)?(?:[/?#].*)?$/i.exec(text);
      if (
        !m ||
        /@/.test(
          text
            .split(/[/?#]/, 3)
            .slice(0, 3)
            .join('/')
            .replace(/^https?:\/\//i, '')
            .split('/')[0]!,
        )
      )
        return `'${text}' is not a plain http(s) URL`;
      const risk = hostRisk(m[2]!);
      return risk ? [high(`reads ${risk}`)] : [];
    }
    case 'envname':
      if (word.dynamic || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) return `'${text}' is not a variable name`;
      return looksSecret(text) ? [high(`prints $${text}, whose name says it holds a secret`)] : [];
  }
}

const subNames = (sub: Readonly<Record<string, Grammar>>, name: string) =>
  Object.entries(sub).find(([names]) => names.split('|').includes(name))?.[1];

export interface OptionTable {
  flags: string;
  values: Record<string, Kind>;
  long: Record<string, Kind | null>;
  singleDashLong: boolean;
  numericOption: boolean;
  optionsFirst: boolean;
}

export const merge = (a: OptionTable, g: Grammar): OptionTable => ({
  flags: a.flags + (g.flags ?? ''),
  values: { ...a.values, ...g.values },
  long: { ...a.long, ...g.long },
  singleDashLong: a.singleDashLong || g.singleDashLong === true,
  numericOption: a.numericOption || g.numericOption === true,
  optionsFirst: a.optionsFirst || g.optionsFirst === true,
});
export const EMPTY: OptionTable = {
  flags: '',
  values: {},
  long: { '--help': null, '--version': null },
  singleDashLong: false,
  numericOption: false,
  optionsFirst: false,
};

/** Holds arguments to a grammar: fits (with the parts its arguments contribute) or not, and why. */
export function fitGrammar(
  grammar: Grammar,
  args: readonly Word[],
  ctx: Ctx,
  inherited: OptionTable = EMPTY,
  path: string[] = [],
): Verdict {
  if (grammar.custom) return grammar.custom(args, ctx);
  const table = merge(inherited, grammar);
  if (grammar.sub) {
    const at = firstOperand(args, table);
    let sub: Grammar | undefined;
    let rest = args;
    let name = grammar.defaultSub;
    if (at >= 0) {
      const word = args[at]!;
      name = word.dynamic ? undefined : word.text;
      sub = name !== undefined ? subNames(grammar.sub, name) : undefined;
      if (!sub) return misfit(`'${word.text}' is not a read-only subcommand`);
      rest = [...args.slice(0, at), ...args.slice(at + 1)];
    } else if (name !== undefined) sub = subNames(grammar.sub, name);
    if (!sub) return misfit('needs a subcommand');
    return fitGrammar(sub, rest, ctx, table, [...path, name!]);
  }
  const parsed = parseOptions(args, table, grammar.anyArgs === true);
  if (typeof parsed === 'string') return misfit(parsed);
  parsed.path = path;
  const parts: Part[] = [];
  for (const [option, values] of parsed.options) {
    const kind =
      option.startsWith('--') || table.singleDashLong ? (table.long[option] ?? table.long[`${option}=`]) : table.values[option.slice(1)];
    if (!kind) continue;
    for (const value of values) {
      const risk = kindRisk(kind, value, ctx);
      if (typeof risk === 'string') return misfit(`${option}: ${risk}`);
      parts.push(...risk);
    }
  }
  const spec = typeof grammar.operands === 'function' ? grammar.operands(new Set(parsed.options.keys())) : (grammar.operands ?? {});
  const kinds = spec.kinds ?? [];
  if (parsed.operands.length < (spec.min ?? 0)) return misfit(`needs at least ${spec.min} operand(s)`);
  for (const [i, operand] of parsed.operands.entries()) {
    const kind = kinds[i] ?? spec.rest;
    if (!kind) return misfit(`takes no operand '${operand.text}' there`);
    if (grammar.anyArgs) continue;
    const risk = kindRisk(kind, operand, ctx);
    if (typeof risk === 'string') return misfit(risk);
    parts.push(...risk);
  }
  if (grammar.check) {
    const checked = grammar.check(parsed, ctx);
    if (typeof checked === 'string') return misfit(checked);
    parts.push(...checked);
  }
  return fits(parts);
}

function firstOperand(args: readonly Word[], table: OptionTable): number {
  let endOfOptions = false;
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!.text;
    if (endOfOptions || args[i]!.dynamic || !t.startsWith('-') || t === '-') return i;
    if (t === '--') {
      endOfOptions = true;
      continue;
    }
    if (t.startsWith('--')) {
      if (!t.includes('=') && table.long[t]) i++;
    } else if (table.singleDashLong && t in table.long) {
      if (table.long[t]) i++;
    } else {
      const letters = t.slice(1);
      for (let j = 0; j < letters.length; j++) {
        if (table.values[letters[j]!]) {
          if (j === letters.length - 1) i++;
          break;
        }
      }
    }
  }
  return -1;
}

/** Options and operands by the table; a string says what does not fit. */
export function parseOptions(args: readonly Word[], table: OptionTable, anyArgs = false): Parsed | string {
  const options = new Map<string, Word[]>();
  const operands: Word[] = [];
  const add = (name: string, value?: Word) => {
    const list = options.get(name) ?? [];
    if (value) list.push(value);
    options.set(name, list);
  };
  let endOfOptions = false;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const t = word.text;
    if (endOfOptions || t === '-' || (!t.startsWith('-') && !word.dynamic)) {
      operands.push(word);
      if (table.optionsFirst) endOfOptions = true;
      continue;
    }
    if (word.dynamic) {
      // An expansion where an option may stand can become any option.
      if (anyArgs) {
        operands.push(word);
        continue;
      }
      return `'${t}' expands when the command runs, where an option may stand`;
    }
    if (t === '--') {
      endOfOptions = true;
      continue;
    }
    if (t.startsWith('--') || (table.singleDashLong && t.split('=')[0]! in table.long)) {
      const eq = t.indexOf('=');
      const name = eq > 0 ? t.slice(0, eq) : t;
      if (!(name in table.long)) {
        if (anyArgs) {
          operands.push(word);
          continue;
        }
        return `option ${name} is outside the grammar`;
      }
      const optional = table.long[`${name}=`];
      const kind = eq > 0 && optional ? optional : table.long[name];
      if (!kind) {
        if (eq > 0) return `option ${name} takes no value`;
        add(name);
        continue;
      }
      const value = eq > 0 ? dropPrefix(word, eq + 1) : args[++i];
      if (!value) return `option ${name} needs a value`;
      add(name, value);
      continue;
    }
    if (table.numericOption && /^-\d+$/.test(t)) {
      add('-#', dropPrefix(word, 1));
      continue;
    }
    const letters = t.slice(1);
    for (let j = 0; j < letters.length; j++) {
      const letter = letters[j]!;
      if (table.flags.includes(letter)) {
        add(`-${letter}`);
        continue;
      }
      if (table.values[letter]) {
        const inline = letters.slice(j + 1);
        const value = inline ? dropPrefix(word, j + 2) : args[++i];
        if (!value) return `option -${letter} needs a value`;
        add(`-${letter}`, value);
        break;
      }
      if (anyArgs) {
        operands.push(word);
        break;
      }
      return `option -${letter} is outside the grammar`;
    }
  }
  return { options, operands, path: [] };
}

/** A grammar that only takes these flags (no operand). */
export const flagsOnly = (about: string, flags = '', long: Record<string, Kind | null> = {}): Grammar => ({ about, flags, long });
