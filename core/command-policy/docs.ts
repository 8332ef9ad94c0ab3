// docs/command-grammar.md, generated from the grammar table (npm run docs:policy); a unit test
// fails when the file is stale.

import type { Grammar, Kind, Operands } from './args.js';
import { READ_ONLY_GRAMMAR } from './grammar.js';
import { HARMLESS_VARIABLES, WRAPPERS, XARGS } from './wrappers.js';

const kindName = (kind: Kind): string => (typeof kind === 'string' ? kind.toUpperCase() : kind.map((k) => `\`${k}\``).join('\\|'));

function optionList(g: Pick<Grammar, 'flags' | 'values' | 'long' | 'numericOption'>): string[] {
  const out: string[] = [];
  for (const flag of g.flags ?? '') out.push(`-${flag}`);
  for (const [letter, kind] of Object.entries(g.values ?? {})) out.push(`-${letter} ${kindName(kind)}`);
  for (const [name, kind] of Object.entries(g.long ?? {})) {
    if (name.endsWith('=')) continue;
    const optional = g.long?.[`${name}=`];
    out.push(kind ? `${name}=${kindName(kind)}` : optional ? `${name}[=${kindName(optional)}]` : name);
  }
  if (g.numericOption) out.push('-NUMBER');
  return out;
}

function operandText(operands: Grammar['operands']): string {
  if (operands === undefined) return 'none';
  if (typeof operands === 'function') return 'depends on the options (see the entry in grammar.ts)';
  const o: Operands = operands;
  const parts = (o.kinds ?? []).map((k) => `[${kindName(k)}]`);
  if (o.rest) parts.push(`[${kindName(o.rest)}…]`);
  const text = parts.join(' ') || 'none';
  return o.min ? `${text} (at least ${o.min})` : text;
}

const code = (items: string[]) => (items.length ? items.map((i) => `\`${i.replace(/\|/g, '\\|')}\``).join(' ') : '—');

function describeGrammar(g: Grammar, prefix = ''): string[] {
  if (g.custom) return [`${prefix}${g.doc ?? 'parsed by its own rule'}`];
  const lines: string[] = [];
  const options = optionList(g);
  if (g.sub) {
    if (options.length) lines.push(`${prefix}options ${code(options)}`);
    for (const [names, sub] of Object.entries(g.sub)) {
      const inner = describeGrammar(sub, '').join('; ');
      lines.push(`${prefix}\`${names.split('|').join('`, `')}\`${names === g.defaultSub ? ' (default)' : ''}: ${inner || 'no options'}`);
    }
    return lines;
  }
  if (g.anyArgs) return [`${prefix}any arguments`];
  lines.push(`${prefix}options ${code(options)}; operands ${operandText(g.operands)}${g.check ? '; further checks in grammar.ts' : ''}`);
  return lines;
}

function countOptions(g: Grammar): number {
  let n = optionList(g).length;
  for (const sub of Object.values(g.sub ?? {})) n += countOptions(sub);
  return n;
}

/** Commands, subcommand forms and declared options of the read-only grammar. */
export function grammarStats(): { commands: number; entries: number; options: number; wrappers: number } {
  let commands = 0;
  let options = 0;
  for (const [names, grammar] of Object.entries(READ_ONLY_GRAMMAR)) {
    commands += names.split('|').length;
    options += countOptions(grammar);
  }
  return { commands, entries: Object.keys(READ_ONLY_GRAMMAR).length, options, wrappers: Object.keys(WRAPPERS).length + 2 };
}

export function renderGrammarDoc(): string {
  const stats = grammarStats();
  const lines = [
    '# Command grammar: what runs without approval',
    '',
    '<!-- Generated from core/command-policy/grammar.ts and wrappers.ts by `npm run docs:policy`; do not edit. -->',
    '',
    `A diagnostic or verification command runs without approval only when it is \`read-only\`: every`,
    `command in it (pipelines, \`&&\`/\`||\`/\`;\` chains, \`$(…)\`, \`sh -c '…'\`, wrappers) is one of the`,
    `${stats.commands} commands below, with only the options listed and operands of the kinds listed, and no`,
    'argument or redirection reaches a secret or writes anywhere. Anything else is judged by the change',
    'rules (`low`, `high`, `forbidden`); an unknown command, option or operand is `high`. The same holds',
    'for diagnostics an LLM proposes.',
    '',
    `The table: ${stats.entries} entries, ${stats.commands} command names, ${stats.options} declared options (subcommands included).`,
    '',
    '## Kinds of values and operands',
    '',
    '| kind | what it may be |',
    '| --- | --- |',
    '| FILE | a file whose content is read: refused (`high`) when it may be a secret — private keys anywhere, `.ssh/`, `/etc/shadow`, `/etc/ssl/private`, cloud and container credentials (`.aws`, `.kube`, `.docker`, kubeconfigs, service-account tokens), `/proc/<pid>/environ`, `/proc/kcore`, raw devices under `/dev`, shell histories, `.netrc`, `.pgpass`, files named as secrets; a pattern (`*`, `{a,b}`, a recursive read) is refused when it may match one |',
    '| CERT | a certificate read by a certificate parser (a `.pem` is no objection; `.key` and private directories are) |',
    '| PATH | a path whose metadata only is read (ls, stat, du, df, test) |',
    "| WRITE | a destination: `-` is standard output; anything else makes the command a write, rated by destination: `low` inside the CMDB item's data and log paths, `high` elsewhere and for start-up files, scheduling, service units, `bin/` and library directories, `/proc`, `/sys` and system paths, `forbidden` for access-granting paths (passwd, shadow, sudoers, authorized_keys, `.ssh`, PAM, sshd), boot files, devices, `/proc/sysrq-trigger` and the audit logs |",
    '| PATTERN, TEXT | free text (a search pattern, a format) |',
    '| NUMBER | a number with an optional sign and unit (`+100M`, `5s`) |',
    '| PID | process ids |',
    '| SIGNAL | a signal name or number |',
    '| NAME | a plain name (unit, user, interface, resource): no spaces, no leading dash, no `..` |',
    '| HOST | a host name or address; instance metadata services (169.254.169.254 and friends) are refused |',
    '| URL | an `http://` or `https://` URL without credentials; metadata services are refused |',
    '| ENVNAME | a variable name that does not look like a secret (no KEY, TOKEN, SECRET, PASS, AUTH…) |',
    '| `a`\\|`b` | one of these words |',
    '',
    'Expansions (`$VAR`, `$(…)`) where an option may stand do not fit (they may become any option),',
    'except for commands that take any arguments (echo, test). Expanding a variable whose name looks',
    'like a secret is `high` anywhere.',
    '',
    '## Read-only commands',
    '',
    '| command | what | grammar |',
    '| --- | --- | --- |',
  ];
  for (const [names, grammar] of Object.entries(READ_ONLY_GRAMMAR).sort(([a], [b]) => a.localeCompare(b))) {
    const grammarText = describeGrammar(grammar).join('<br>');
    lines.push(
      `| ${names
        .split('|')
        .map((n) => `\`${n.replace('|', '\\|')}\``)
        .join(', ')} | ${grammar.about} | ${grammarText.replace(/\n/g, ' ')} |`,
    );
  }
  lines.push(
    '',
    '## Wrappers',
    '',
    'A wrapper runs the command after its options; that command is classified as if it stood alone.',
    'Options not listed make the whole command `high`.',
    '',
    '| wrapper | what | options | adds |',
    '| --- | --- | --- | --- |',
  );
  for (const [name, wrapper] of Object.entries(WRAPPERS)) {
    const adds = [
      ...(wrapper.floor ? [`${wrapper.floor.risk}: ${wrapper.floor.reason}`] : []),
      ...Object.entries(wrapper.risky ?? {}).map(([option, part]) => `\`${option}\` ${part.risk}`),
      ...(wrapper.leading ? [`takes ${wrapper.leading.map(kindName).join(' ')} first`] : []),
      ...(wrapper.assignments ? ['`NAME=value` words (see below)'] : []),
      `alone: ${wrapper.bare.risk}`,
    ];
    lines.push(`| \`${name}\` | ${wrapper.about} | ${code(optionList(wrapper))} | ${adds.join('; ')} |`);
  }
  lines.push(
    `| \`xargs\` | ${XARGS.about} | ${code(optionList(XARGS))} | the command is classified with an unknown argument and with \`/\` and \`1\` in its place: \`xargs rm\` is as bad as \`rm /\`, \`xargs cat\` is \`high\`, \`xargs echo\` stays read-only |`,
    '| `busybox`, `toybox` | run an applet | — | the applet is classified as the command of that name |',
    '',
    '## Variables an assignment may set',
    '',
    '`NAME=value cmd`, `env NAME=value cmd`, `export NAME=value`: a lower-case name is a plain shell',
    'variable (except `path`, `fpath`, `cdpath`, `manpath`, proxies and `ld_*`); an upper-case name is',
    `\`read-only\` only if it matches \`${HARMLESS_VARIABLES.source}\`; any other name (LD_PRELOAD, PATH, BASH_ENV, ENV,`,
    'PROMPT_COMMAND, PS4, IFS, PYTHONPATH, NODE_OPTIONS, PAGER, GIT_*…) is `high`.',
    '',
  );
  return lines.join('\n');
}
