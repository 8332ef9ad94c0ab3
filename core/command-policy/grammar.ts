// The read-only grammar: one entry per command that may run as a diagnostic without approval.
// An entry declares the options the command may take (and the kind of each option's value) and
// what its operands are. A command that fits its entry is `read-only` unless an argument reaches
// a secret (a file read) or writes (an output option, rated by destination); one that does not fit
// is judged by the change rules (changes.ts) or is `high`. docs/command-grammar.md is generated
// from this table (npm run docs:policy).

import { fitGrammar, fits, kindRisk, misfit, parseOptions, EMPTY, merge, type Ctx, type Grammar, type Kind, type Verdict } from './args.js';
import { literalWord, type Word } from './lexer.js';
import { ANY_BELOW, readRisk } from './paths.js';
import { high, type Part } from './risk.js';
import { awkProgramRisk, findVerdict, FIND_DOC, sedScriptRisk } from './scripts.js';

const files = { rest: 'file' } as const;
const paths = { rest: 'path' } as const;
const names = { rest: 'name' } as const;
const none = {} as const;

/** A recursive read (`grep -r DIR`) reaches everything below DIR. */
function treeReads(operands: readonly Word[], ctx: Ctx): Part[] {
  const roots = operands.length ? operands : [literalWord('.')];
  return roots.flatMap((root) => {
    if (root.dynamic) return [high(`reads ${root.text}, a path only known when the command runs`)];
    const base = root.text.replace(/\/+$/, '');
    const risk = readRisk(literalWord(`${base === '' ? '' : base}/${ANY_BELOW}`), ctx);
    return risk ? [{ risk: risk.risk, reason: `${risk.reason} (recursively)` }] : [];
  });
}

const grepGrammar = (about: string): Grammar => ({
  about,
  flags: 'EFGPiyvwxclLoqshHnbTZzaIrRU',
  values: {
    e: 'pattern',
    f: 'file',
    m: 'number',
    A: 'number',
    B: 'number',
    C: 'number',
    d: ['read', 'skip', 'recurse'],
    D: ['read', 'skip'],
  },
  long: {
    '--regexp': 'pattern',
    '--file': 'file',
    '--ignore-case': null,
    '--no-ignore-case': null,
    '--invert-match': null,
    '--word-regexp': null,
    '--line-regexp': null,
    '--count': null,
    '--color': null,
    '--color=': ['auto', 'always', 'never'],
    '--colour': null,
    '--colour=': ['auto', 'always', 'never'],
    '--max-count': 'number',
    '--after-context': 'number',
    '--before-context': 'number',
    '--context': 'number',
    '--files-with-matches': null,
    '--files-without-match': null,
    '--only-matching': null,
    '--quiet': null,
    '--silent': null,
    '--no-messages': null,
    '--with-filename': null,
    '--no-filename': null,
    '--line-number': null,
    '--byte-offset': null,
    '--null': null,
    '--null-data': null,
    '--text': null,
    '--recursive': null,
    '--dereference-recursive': null,
    '--include': 'pattern',
    '--exclude': 'pattern',
    '--exclude-dir': 'pattern',
    '--label': 'text',
    '--binary-files': ['binary', 'text', 'without-match'],
    '--perl-regexp': null,
    '--extended-regexp': null,
    '--fixed-strings': null,
    '--basic-regexp': null,
    '--line-buffered': null,
  },
  operands: (options) =>
    options.has('-e') || options.has('-f') || options.has('--regexp') || options.has('--file')
      ? files
      : { kinds: ['pattern'], rest: 'file', min: 1 },
  check: (parsed, ctx) => {
    const recursive = ['-r', '-R', '--recursive', '--dereference-recursive'].some((o) => parsed.options.has(o));
    if (!recursive) return [];
    const patternFirst = !(
      parsed.options.has('-e') ||
      parsed.options.has('-f') ||
      parsed.options.has('--regexp') ||
      parsed.options.has('--file')
    );
    return treeReads(parsed.operands.slice(patternFirst ? 1 : 0), ctx);
  },
});

const checksum = (about: string): Grammar => ({
  about,
  flags: 'bctwz',
  long: {
    '--binary': null,
    '--check': null,
    '--tag': null,
    '--text': null,
    '--zero': null,
    '--quiet': null,
    '--status': null,
    '--strict': null,
    '--warn': null,
    '--ignore-missing': null,
  },
  operands: files,
});

const dump = (about: string, flags: string, values: Record<string, Kind> = {}): Grammar => ({ about, flags, values, operands: files });

/** ps: UNIX options with a dash, BSD options without; BSD `e` prints each process's environment. */
function psVerdict(args: readonly Word[], ctx: Ctx): Verdict {
  const table = merge(EMPTY, {
    about: '',
    flags: 'AadefFHjlLMNTwxycmVZ',
    values: { o: 'text', O: 'text', p: 'pid', q: 'pid', C: 'name', u: 'name', U: 'name', g: 'name', G: 'name', t: 'name', s: 'pid' },
    long: {
      '--sort': 'text',
      '--format': 'text',
      '--pid': 'pid',
      '--ppid': 'pid',
      '--quick-pid': 'pid',
      '--user': 'name',
      '--User': 'name',
      '--group': 'name',
      '--Group': 'name',
      '--sid': 'pid',
      '--tty': 'name',
      '--no-headers': null,
      '--no-header': null,
      '--headers': null,
      '--forest': null,
      '--cols': 'number',
      '--columns': 'number',
      '--width': 'number',
      '--lines': 'number',
      '--rows': 'number',
      '--cumulative': null,
      '--deselect': null,
      '--context': null,
    },
  });
  const parsed = parseOptions(args, table);
  if (typeof parsed === 'string') return misfit(parsed);
  const parts: Part[] = [];
  for (const [option, values] of parsed.options) {
    const kind = option.startsWith('--') ? table.long[option] : table.values[option.slice(1)];
    for (const value of values)
      if (kind && typeof kindRisk(kind, value, ctx) === 'string') return misfit(`${option} ${value.text} is not of its kind`);
  }
  for (const operand of parsed.operands) {
    if (/^\d+(?:,\d+)*$/.test(operand.text)) continue;
    if (!/^[aAcfhjlmnrsSTuvwxXZ]+$/.test(operand.text)) {
      return misfit(
        operand.text.includes('e') && /^[a-zA-Z]+$/.test(operand.text)
          ? `BSD option e prints the environment of every process`
          : `'${operand.text}' is outside the grammar`,
      );
    }
  }
  return fits(parts);
}

/** dig: `@server`, `+option`s, `-t/-c/-p/-x`, then names and types. `-f` and `-k` read files. */
function digVerdict(args: readonly Word[], ctx: Ctx): Verdict {
  const parts: Part[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const t = word.text;
    if (word.dynamic) return misfit(`'${t}' expands when the command runs`);
    if (/^\+(?:no)?[a-z-]+(?:=[\w.:-]+)?$/.test(t)) continue;
    if (/^-[46hmuv]+$/.test(t) || t === '-r') continue;
    if (/^-[tcpqx]$/.test(t)) {
      const value = args[++i];
      if (!value || value.dynamic || !/^[\w.:-]+$/.test(value.text)) return misfit(`${t} needs a plain value`);
      continue;
    }
    if (/^-[tcpqx][\w.:-]+$/.test(t)) continue;
    if (t.startsWith('-')) return misfit(`dig ${t} is outside the grammar`);
    const risk = kindRisk('host', word, ctx);
    if (typeof risk === 'string') return misfit(risk);
    parts.push(...risk);
  }
  return fits(parts);
}

/** curl: reads a URL to standard output; anything that sends, uploads, writes or reads local files does not fit. */
const curlGrammar: Grammar = {
  about: 'fetches http(s) URLs to standard output (GET/HEAD only)',
  flags: 'sSfIiLkv46NgG',
  values: {
    m: 'number',
    w: 'text',
    H: 'text',
    A: 'text',
    e: 'text',
    X: ['GET', 'HEAD'],
    o: 'write',
    D: 'write',
    r: 'text',
    Y: 'number',
    y: 'number',
  },
  long: {
    '--silent': null,
    '--show-error': null,
    '--fail': null,
    '--fail-with-body': null,
    '--head': null,
    '--include': null,
    '--location': null,
    '--insecure': null,
    '--verbose': null,
    '--compressed': null,
    '--globoff': null,
    '--get': null,
    '--no-buffer': null,
    '--http1.1': null,
    '--http2': null,
    '--ipv4': null,
    '--ipv6': null,
    '--max-time': 'number',
    '--connect-timeout': 'number',
    '--retry': 'number',
    '--retry-delay': 'number',
    '--retry-max-time': 'number',
    '--max-filesize': 'number',
    '--write-out': 'text',
    '--header': 'text',
    '--user-agent': 'text',
    '--referer': 'text',
    '--resolve': 'text',
    '--connect-to': 'text',
    '--request': ['GET', 'HEAD'],
    '--output': 'write',
    '--dump-header': 'write',
    '--range': 'text',
    '--cacert': 'cert',
    '--capath': 'path',
    '--noproxy': 'text',
  },
  operands: { rest: 'url', min: 1 },
  check: (parsed) => {
    // `-w @file` and `-H @file` read a local file into the request or the output.
    for (const option of ['-w', '--write-out', '-H', '--header'])
      for (const value of parsed.options.get(option) ?? []) if (value.text.startsWith('@')) return `${option} @file reads a local file`;
    return [];
  },
};

const wgetGrammar: Grammar = {
  about: 'fetches http(s) URLs to standard output (`-O -`) or checks them (`--spider`)',
  flags: 'qSv46',
  values: { O: 'write', T: 'number', t: 'number', U: 'text' },
  long: {
    '--quiet': null,
    '--server-response': null,
    '--spider': null,
    '--no-check-certificate': null,
    '--timeout': 'number',
    '--tries': 'number',
    '--user-agent': 'text',
    '--header': 'text',
    '--output-document': 'write',
    '--no-verbose': null,
    '--max-redirect': 'number',
  },
  operands: { rest: 'url', min: 1 },
  check: (parsed) => {
    const out = [...(parsed.options.get('-O') ?? []), ...(parsed.options.get('--output-document') ?? [])];
    // Without -O or --spider, wget saves the page in the working directory.
    if (!out.length && !parsed.options.has('--spider')) return 'wget without -O - or --spider saves a file';
    return [];
  },
};

const X509_OPTIONS: Record<string, Kind | null> = {
  '-noout': null,
  '-subject': null,
  '-issuer': null,
  '-enddate': null,
  '-startdate': null,
  '-dates': null,
  '-serial': null,
  '-fingerprint': null,
  '-sha1': null,
  '-sha256': null,
  '-text': null,
  '-hash': null,
  '-subject_hash': null,
  '-issuer_hash': null,
  '-email': null,
  '-ocsp_uri': null,
  '-purpose': null,
  '-pubkey': null,
  '-modulus': null,
  '-ext': 'text',
  '-nameopt': 'text',
  '-certopt': 'text',
  '-checkend': 'number',
  '-in': 'cert',
  '-inform': ['PEM', 'DER', 'pem', 'der'],
};

/** ip: only the forms that show state; `netns exec` and every change are judged elsewhere. */
function ipVerdict(args: readonly Word[], ctx: Ctx): Verdict {
  let i = 0;
  for (; i < args.length; i++) {
    const t = args[i]!.text;
    if (args[i]!.dynamic) return misfit(`'${t}' expands when the command runs`);
    if (/^-(?:4|6|s|d|o|c|j|p|h|N|a|r|br|brief|details|stats|statistics|oneline|color|json|pretty|human|iec|numeric|resolve|all)$/.test(t))
      continue;
    if (t === '-n' || t === '-netns' || t === '-f' || t === '-family') {
      if (!args[++i] || typeof kindRisk('name', args[i]!, ctx) === 'string') return misfit(`${t} needs a name`);
      continue;
    }
    if (t.startsWith('-')) return misfit(`ip ${t} is outside the grammar`);
    break;
  }
  const object = args[i]?.text ?? '';
  const objects =
    /^(?:a|ad|addr|addre|addres|address|l|li|lin|link|r|ro|rou|rout|route|ru|rule|n|ne|neigh|neighbor|neighbour|maddr|maddress|mr|mroute|nexthop|nh|ntable|tunnel|tun|tuntap|l2tp|vrf|netconf|mptcp|stats|tcp_metrics|tcpmetrics|token|netns|sr)$/;
  if (!objects.test(object)) return misfit(object ? `ip ${object} is outside the grammar` : 'ip needs an object');
  const verb = args[i + 1]?.text;
  const readVerbs =
    object === 'netns'
      ? /^(?:list|show|identify|pids)$/
      : object.startsWith('r') && !object.startsWith('ru')
        ? /^(?:show|list|lst|ls|get)$/
        : /^(?:show|list|lst|ls)$/;
  if (verb !== undefined && !readVerbs.test(verb)) return misfit(`ip ${object} ${verb} changes state or is outside the grammar`);
  for (const word of args.slice(i + 2)) {
    if (word.dynamic || !/^[A-Za-z0-9_.:/@%+-]+$/.test(word.text)) return misfit(`'${word.text}' is outside the grammar`);
  }
  return fits();
}

/** service NAME status, service --status-all. */
function serviceVerdict(args: readonly Word[], ctx: Ctx): Verdict {
  if (args.length === 1 && args[0]!.text === '--status-all') return fits();
  if (args.length !== 2 || args[1]!.text !== 'status') return misfit('only `service NAME status` and `service --status-all` only read');
  const name = kindRisk('name', args[0]!, ctx);
  return typeof name === 'string' ? misfit(name) : fits(name);
}

const systemctlRead: Grammar = { about: '', operands: names };
const SYSTEMCTL_OPTIONS: Record<string, Kind | null> = {
  '--no-pager': null,
  '--no-legend': null,
  '--quiet': null,
  '--full': null,
  '--all': null,
  '--plain': null,
  '--value': null,
  '--failed': null,
  '--system': null,
  '--user': null,
  '--no-ask-password': null,
  '--reverse': null,
  '--after': null,
  '--before': null,
  '--recursive': null,
  '--with-dependencies': null,
  '--show-types': null,
  '--lines': 'number',
  '--output': 'name',
  '--type': 'name',
  '--state': 'name',
  '--property': 'name',
};

const kubectlSecretCheck: Grammar['check'] = (parsed) => {
  const resource = parsed.operands[0]?.text ?? '';
  const output = [...(parsed.options.get('-o') ?? []), ...(parsed.options.get('--output') ?? [])].map((w) => w.text);
  if (resource.split(',').some((r) => /^secrets?(?:\/.*)?$/.test(r)))
    if (output.some((o) => !/^(?:wide|name)$/.test(o))) return [high('prints the values of Kubernetes secrets')];
  return [];
};

const KUBECTL_SELECT: Record<string, Kind | null> = {
  '--selector': 'text',
  '--field-selector': 'text',
  '--all-namespaces': null,
};

const dockerRead = (
  flags: string,
  values: Record<string, Kind>,
  long: Record<string, Kind | null>,
  operands: Grammar['operands'] = names,
): Grammar => ({
  about: '',
  flags,
  values,
  long,
  operands,
});

const dockerGrammar: Grammar = {
  about: 'containers, images and logs (never `inspect`: it shows environment values)',
  sub: {
    ps: dockerRead(
      'aqls',
      { f: 'text', n: 'number' },
      {
        '--all': null,
        '--quiet': null,
        '--filter': 'text',
        '--format': 'text',
        '--no-trunc': null,
        '--latest': null,
        '--size': null,
        '--last': 'number',
      },
      none,
    ),
    images: dockerRead(
      'aq',
      { f: 'text' },
      { '--all': null, '--quiet': null, '--filter': 'text', '--format': 'text', '--no-trunc': null, '--digests': null },
      { rest: 'name' },
    ),
    logs: dockerRead(
      't',
      { n: 'number' },
      { '--tail': 'text', '--since': 'text', '--until': 'text', '--timestamps': null, '--details': null },
      { kinds: ['name'] },
    ),
    stats: {
      about: '',
      flags: 'a',
      long: { '--no-stream': null, '--all': null, '--format': 'text', '--no-trunc': null },
      operands: names,
      check: (parsed) => (parsed.options.has('--no-stream') ? [] : 'docker stats without --no-stream never ends'),
    },
    top: dockerRead('', {}, {}, { kinds: ['name'], rest: 'text' }),
    port: dockerRead('', {}, {}, { kinds: ['name'], rest: 'text' }),
    version: dockerRead('', { f: 'text' }, { '--format': 'text' }, none),
    info: dockerRead('', { f: 'text' }, { '--format': 'text' }, none),
  },
};

/** The table: command → grammar. Aliases share an entry through `a|b` names. */
export const READ_ONLY_GRAMMAR: Readonly<Record<string, Grammar>> = {
  cat: {
    about: 'prints files',
    flags: 'AbeEnstTuv',
    long: {
      '--number': null,
      '--show-all': null,
      '--number-nonblank': null,
      '--squeeze-blank': null,
      '--show-ends': null,
      '--show-tabs': null,
      '--show-nonprinting': null,
    },
    operands: files,
  },
  'tac|rev': { about: 'prints files reversed', flags: 'br', values: { s: 'text' }, operands: files },
  'head|tail': {
    about: 'prints the start or end of files (never follows: no -f/-F)',
    flags: 'qvz',
    values: { n: 'number', c: 'number' },
    long: { '--lines': 'number', '--bytes': 'number', '--quiet': null, '--silent': null, '--verbose': null, '--zero-terminated': null },
    numericOption: true,
    operands: files,
  },
  'grep|egrep|fgrep|zgrep': grepGrammar('searches files (recursively only where nothing below may be a secret)'),
  'zcat|bzcat|xzcat|zstdcat': { about: 'prints compressed files', flags: 'fqv', operands: files },
  gzip: {
    about: 'tests, lists or decompresses to standard output (-t, -l, -c; compressing in place is a change)',
    flags: 'cdtlnNqvk123456789',
    long: {
      '--stdout': null,
      '--to-stdout': null,
      '--decompress': null,
      '--test': null,
      '--list': null,
      '--quiet': null,
      '--verbose': null,
      '--keep': null,
      '--fast': null,
      '--best': null,
    },
    operands: files,
    check: (parsed) =>
      parsed.operands.length === 0 || ['-c', '-t', '-l', '--stdout', '--to-stdout', '--test', '--list'].some((o) => parsed.options.has(o))
        ? []
        : 'gzip FILE compresses it in place',
  },
  strings: dump('prints the text in files', 'afw', { n: 'number', t: ['d', 'o', 'x'] }),
  'od|xxd|hexdump': dump('dumps files in hex or octal', 'bcCdxXov', {
    N: 'number',
    j: 'number',
    l: 'number',
    n: 'number',
    s: 'number',
    A: 'name',
    t: 'name',
    g: 'number',
  }),
  ls: {
    about: 'lists directories (metadata only)',
    flags: 'aAbBcCdfFgGhHiklLmnNopqQrRsStuUvxXZ1',
    values: { I: 'pattern', w: 'number', T: 'number' },
    long: {
      '--all': null,
      '--almost-all': null,
      '--human-readable': null,
      '--si': null,
      '--color': null,
      '--color=': ['auto', 'always', 'never'],
      '--time-style': 'text',
      '--sort': ['none', 'size', 'time', 'version', 'extension', 'width'],
      '--time': 'name',
      '--full-time': null,
      '--group-directories-first': null,
      '--inode': null,
      '--directory': null,
      '--classify': null,
      '--ignore': 'pattern',
      '--hide': 'pattern',
      '--format': 'name',
      '--block-size': 'text',
      '--recursive': null,
      '--reverse': null,
      '--size': null,
      '--numeric-uid-gid': null,
      '--no-group': null,
      '--literal': null,
      '--quoting-style': 'name',
      '--indicator-style': 'name',
      '--dereference': null,
      '--context': null,
    },
    operands: paths,
  },
  tree: {
    about: 'lists directory trees (metadata only)',
    flags: 'adfhilpsugDFCnJx',
    values: { L: 'number', P: 'pattern', I: 'pattern' },
    long: { '--du': null, '--noreport': null, '--dirsfirst': null },
    operands: paths,
  },
  stat: {
    about: 'file metadata',
    flags: 'LftZ',
    values: { c: 'text' },
    long: { '--format': 'text', '--printf': 'text', '--dereference': null, '--file-system': null, '--terse': null },
    operands: { rest: 'path', min: 1 },
  },
  'getfacl|lsattr': { about: 'file permissions and attributes', flags: 'aceEnpRstdvl', operands: paths },
  df: {
    about: 'filesystem usage',
    flags: 'ahHiklPTv',
    values: { t: 'name', x: 'name', B: 'text' },
    long: {
      '--all': null,
      '--human-readable': null,
      '--si': null,
      '--inodes': null,
      '--local': null,
      '--portability': null,
      '--print-type': null,
      '--total': null,
      '--output': null,
      '--output=': 'text',
      '--block-size': 'text',
      '--type': 'name',
      '--exclude-type': 'name',
      '--sync': null,
      '--no-sync': null,
    },
    operands: paths,
  },
  du: {
    about: 'directory usage (metadata only)',
    flags: 'abcDhHkLlmPsSx0',
    values: { d: 'number', B: 'text', t: 'number', X: 'file' },
    long: {
      '--max-depth': 'number',
      '--summarize': null,
      '--human-readable': null,
      '--apparent-size': null,
      '--one-file-system': null,
      '--total': null,
      '--threshold': 'number',
      '--time': null,
      '--exclude': 'pattern',
      '--block-size': 'text',
      '--all': null,
      '--bytes': null,
      '--count-links': null,
      '--dereference': null,
      '--si': null,
      '--null': null,
      '--separate-dirs': null,
      '--inodes': null,
    },
    operands: paths,
  },
  free: {
    about: 'memory use (once: no -s)',
    flags: 'bkmgthlwv',
    values: { c: 'number' },
    long: {
      '--bytes': null,
      '--kilo': null,
      '--mega': null,
      '--giga': null,
      '--tera': null,
      '--human': null,
      '--si': null,
      '--lohi': null,
      '--total': null,
      '--wide': null,
      '--kibi': null,
      '--mebi': null,
      '--gibi': null,
    },
    operands: none,
  },
  uptime: { about: 'load and uptime', flags: 'ps', long: { '--pretty': null, '--since': null } },
  ps: {
    about: 'processes',
    custom: psVerdict,
    doc: 'UNIX options `-AadefFHjlLMNTwxycmVZ`, `-o/-O FORMAT`, `-p/-q PID`, `-C/-u/-U/-g/-G/-t NAME`, `--sort`, `--format`, `--pid`, `--ppid`, `--user`, `--no-headers`, `--forest`, `--cols`, `--width`…; BSD letters `aAcfhjlmnrsSTuvwxXZ` (never `e`: it prints every process environment) and PIDs',
  },
  top: {
    about: 'one batch snapshot of processes (-b with -n)',
    flags: 'bcHiSs1E',
    values: { n: 'number', d: 'number', p: 'pid', u: 'name', U: 'name', o: 'text', w: 'number', O: 'text' },
    check: (parsed) => (parsed.options.has('-b') && parsed.options.has('-n') ? [] : 'top runs until stopped without -b -n N'),
  },
  pstree: { about: 'process tree', flags: 'aAcgGhlnpsStTuUZ', operands: { rest: 'name' } },
  pgrep: {
    about: 'finds processes',
    flags: 'lafnovxcirw',
    values: { u: 'name', U: 'name', g: 'name', G: 'name', P: 'pid', s: 'pid', t: 'name', d: 'text' },
    long: {
      '--list-name': null,
      '--list-full': null,
      '--full': null,
      '--newest': null,
      '--oldest': null,
      '--exact': null,
      '--count': null,
      '--ignore-case': null,
      '--euid': 'name',
      '--uid': 'name',
      '--parent': 'pid',
      '--delimiter': 'text',
    },
    operands: { rest: 'pattern' },
  },
  pidof: { about: 'PIDs of programs', flags: 'sxzcq', values: { o: 'pid' }, operands: names },
  ss: {
    about: 'sockets (never -K: it kills them; never -E: it never ends)',
    flags: 'HnrRalmpoiesZzb46twuxSdM0O',
    values: { f: 'name', A: 'name', N: 'name', F: 'file' },
    long: {
      '--numeric': null,
      '--resolve': null,
      '--all': null,
      '--listening': null,
      '--options': null,
      '--extended': null,
      '--memory': null,
      '--processes': null,
      '--info': null,
      '--summary': null,
      '--tcp': null,
      '--udp': null,
      '--unix': null,
      '--raw': null,
      '--ipv4': null,
      '--ipv6': null,
      '--no-header': null,
      '--oneline': null,
      '--family': 'name',
      '--query': 'name',
    },
    operands: { rest: 'text' },
  },
  netstat: {
    about: 'sockets, routes and interfaces (once: no -c)',
    flags: 'atulpresWvgiMnNoxwe46',
    long: {
      '--numeric': null,
      '--all': null,
      '--tcp': null,
      '--udp': null,
      '--listening': null,
      '--program': null,
      '--route': null,
      '--statistics': null,
      '--interfaces': null,
      '--wide': null,
      '--extend': null,
      '--verbose': null,
      '--timers': null,
    },
  },
  lsof: {
    about: 'open files and sockets (once: no -r)',
    flags: 'anPlbtwVhRKXUi',
    values: { p: 'pid', u: 'name', c: 'name', d: 'text', g: 'text', s: 'text', F: 'text' },
    operands: { rest: 'text' },
  },
  id: { about: 'user and groups', flags: 'gGnruzaZ', operands: names },
  'whoami|groups|users|logname|tty|arch|nproc|getenforce|sestatus|lsmod|tload': {
    about: 'who and what the host is',
    flags: 'a',
    long: { '--all': null },
    operands: names,
  },
  hostname: {
    about: 'prints the host name (setting it is a change)',
    flags: 'sfdaiIAy',
    long: {
      '--short': null,
      '--fqdn': null,
      '--long': null,
      '--domain': null,
      '--alias': null,
      '--ip-address': null,
      '--all-ip-addresses': null,
      '--all-fqdns': null,
    },
    operands: none,
  },
  hostnamectl: {
    about: 'host name and OS (status only)',
    long: { '--no-pager': null, '--json': 'name' },
    sub: { status: { about: '', operands: none } },
    defaultSub: 'status',
  },
  uname: {
    about: 'kernel and machine',
    flags: 'asnrvmpio',
    long: {
      '--all': null,
      '--kernel-name': null,
      '--nodename': null,
      '--kernel-release': null,
      '--kernel-version': null,
      '--machine': null,
      '--processor': null,
      '--hardware-platform': null,
      '--operating-system': null,
    },
  },
  getent: {
    about: 'name-service lookups (never shadow or gshadow)',
    flags: 'i',
    values: { s: 'name' },
    long: { '--service': 'name', '--no-idn': null, '--no-addrconfig': null },
    operands: {
      kinds: [
        [
          'passwd',
          'group',
          'hosts',
          'ahosts',
          'ahostsv4',
          'ahostsv6',
          'services',
          'protocols',
          'networks',
          'netgroup',
          'initgroups',
          'ethers',
          'rpc',
          'aliases',
        ],
      ],
      rest: 'name',
      min: 1,
    },
  },
  dig: {
    about: 'DNS lookups',
    custom: digVerdict,
    doc: '`@server`, `+[no]option`, `-4 -6 -h -m -u -v -r`, `-t TYPE`, `-c CLASS`, `-p PORT`, `-q NAME`, `-x ADDR`, then names and types (never `-f` or `-k`: they read files)',
  },
  nslookup: {
    about: 'DNS lookups',
    long: {
      '-debug': null,
      '-nodebug': null,
      '-vc': null,
      '-novc': null,
      '-norecurse': null,
      '-type': 'name',
      '-query': 'name',
      '-timeout': 'number',
      '-port': 'number',
      '-retry': 'number',
      '-class': 'name',
    },
    singleDashLong: true,
    operands: { kinds: ['host', 'host'], min: 1 },
  },
  host: {
    about: 'DNS lookups',
    flags: 'aACdlrTvVw46',
    values: { t: 'name', W: 'number', R: 'number', c: 'name', N: 'number', m: 'name' },
    operands: { kinds: ['host', 'host'], min: 1 },
  },
  resolvectl: {
    about: 'resolver status and queries',
    long: { '--no-pager': null, '--legend': 'name' },
    sub: {
      'status|query|statistics|dns|domain|nta': { about: '', flags: '46', values: { t: 'name', i: 'name' }, operands: { rest: 'host' } },
    },
    defaultSub: 'status',
  },
  wc: {
    about: 'counts lines, words and bytes',
    flags: 'clmwL',
    long: { '--bytes': null, '--chars': null, '--lines': null, '--words': null, '--max-line-length': null },
    operands: files,
  },
  sort: {
    about: 'sorts lines (-o is a write rated by destination)',
    flags: 'bdfgiMhnRrVcCsuz',
    values: { k: 'text', t: 'text', S: 'number', T: 'write', o: 'write' },
    long: {
      '--output': 'write',
      '--key': 'text',
      '--field-separator': 'text',
      '--numeric-sort': null,
      '--reverse': null,
      '--unique': null,
      '--human-numeric-sort': null,
      '--general-numeric-sort': null,
      '--month-sort': null,
      '--version-sort': null,
      '--ignore-case': null,
      '--ignore-leading-blanks': null,
      '--stable': null,
      '--buffer-size': 'number',
      '--parallel': 'number',
      '--check': null,
      '--zero-terminated': null,
      '--random-sort': null,
      '--dictionary-order': null,
      '--temporary-directory': 'write',
    },
    operands: files,
  },
  uniq: {
    about: 'filters repeated lines (an OUTPUT operand is a write rated by destination)',
    flags: 'cdDiuz',
    values: { f: 'number', s: 'number', w: 'number' },
    long: {
      '--count': null,
      '--repeated': null,
      '--all-repeated': null,
      '--ignore-case': null,
      '--unique': null,
      '--skip-fields': 'number',
      '--skip-chars': 'number',
      '--check-chars': 'number',
      '--zero-terminated': null,
    },
    operands: { kinds: ['file', 'write'] },
  },
  cut: {
    about: 'selects fields',
    flags: 'snz',
    values: { b: 'text', c: 'text', f: 'text', d: 'text' },
    long: {
      '--bytes': 'text',
      '--characters': 'text',
      '--fields': 'text',
      '--delimiter': 'text',
      '--complement': null,
      '--only-delimited': null,
      '--output-delimiter': 'text',
      '--zero-terminated': null,
    },
    operands: files,
  },
  tr: {
    about: 'translates characters of standard input',
    flags: 'cCdst',
    long: { '--complement': null, '--delete': null, '--squeeze-repeats': null, '--truncate-set1': null },
    operands: { kinds: ['text', 'text'] },
  },
  column: { about: 'formats columns', flags: 'tnxeJ', values: { s: 'text', o: 'text', c: 'number', N: 'text' }, operands: files },
  nl: {
    about: 'numbers lines',
    flags: 'p',
    values: { b: 'text', d: 'text', f: 'text', h: 'text', i: 'number', l: 'number', n: 'name', s: 'text', v: 'number', w: 'number' },
    operands: files,
  },
  seq: {
    about: 'prints numbers',
    flags: 'w',
    values: { s: 'text', f: 'text' },
    long: { '--equal-width': null, '--separator': 'text', '--format': 'text' },
    operands: { kinds: ['number', 'number', 'number'], min: 1 },
  },
  jq: {
    about: 'filters JSON (never env or $ENV: they print the environment)',
    flags: 'rjacnsSeCM',
    long: {
      '--raw-output': null,
      '--compact-output': null,
      '--slurp': null,
      '--null-input': null,
      '--sort-keys': null,
      '--tab': null,
      '--indent': 'number',
      '--exit-status': null,
      '--join-output': null,
      '--ascii-output': null,
      '--color-output': null,
      '--monochrome-output': null,
    },
    operands: { kinds: ['text'], rest: 'file' },
    check: (parsed) =>
      /\benv\b|\$ENV\b|\$__prog_args|\binput_filename\b|\bgetpath\b.*\benv/.test(parsed.operands[0]?.text ?? '')
        ? [high('jq filter reads the environment')]
        : [],
  },
  diff: {
    about: 'compares files',
    flags: 'qsurNaibwBEyltpTdH',
    values: { U: 'number', C: 'number', x: 'pattern', W: 'number' },
    long: {
      '--brief': null,
      '--report-identical-files': null,
      '--unified': null,
      '--unified=': 'number',
      '--recursive': null,
      '--new-file': null,
      '--text': null,
      '--ignore-case': null,
      '--ignore-all-space': null,
      '--ignore-space-change': null,
      '--ignore-blank-lines': null,
      '--side-by-side': null,
      '--color': null,
      '--color=': ['auto', 'always', 'never'],
      '--exclude': 'pattern',
      '--label': 'text',
      '--normal': null,
      '--minimal': null,
      '--suppress-common-lines': null,
    },
    operands: { kinds: ['file', 'file'], min: 2 },
    check: (parsed, ctx) => (parsed.options.has('-r') || parsed.options.has('--recursive') ? treeReads(parsed.operands, ctx) : []),
  },
  cmp: {
    about: 'compares files byte by byte',
    flags: 'blsv',
    values: { i: 'number', n: 'number' },
    long: {
      '--print-bytes': null,
      '--verbose': null,
      '--quiet': null,
      '--silent': null,
      '--ignore-initial': 'number',
      '--bytes': 'number',
    },
    operands: { kinds: ['file', 'file', 'number', 'number'], min: 2 },
  },
  comm: {
    about: 'compares sorted files',
    flags: '123iz',
    long: { '--check-order': null, '--nocheck-order': null, '--output-delimiter': 'text', '--total': null, '--zero-terminated': null },
    operands: { kinds: ['file', 'file'], min: 2 },
  },
  'md5sum|sha1sum|sha224sum|sha256sum|sha384sum|sha512sum|b2sum|cksum|sum': checksum('checksums of files'),
  file: {
    about: 'file types',
    flags: 'bhiLNnpkz',
    long: {
      '--brief': null,
      '--mime': null,
      '--mime-type': null,
      '--mime-encoding': null,
      '--dereference': null,
      '--no-dereference': null,
      '--keep-going': null,
    },
    operands: { rest: 'path', min: 1 },
  },
  'readlink|realpath': {
    about: 'resolves paths',
    flags: 'efmnqsvzLP',
    long: {
      '--canonicalize': null,
      '--canonicalize-existing': null,
      '--canonicalize-missing': null,
      '--no-newline': null,
      '--quiet': null,
      '--silent': null,
      '--verbose': null,
      '--zero': null,
      '--relative-to': 'path',
      '--relative-base': 'path',
    },
    operands: { rest: 'path', min: 1 },
  },
  'basename|dirname|echo|expr|true|false|:|test|[|[[': {
    about: 'prints or tests its arguments (any arguments: none runs or reads anything)',
    anyArgs: true,
    operands: { rest: 'text' },
  },
  printf: { about: 'formats its arguments (never -v: it assigns a variable)', optionsFirst: true, operands: { rest: 'text', min: 1 } },
  sleep: { about: 'waits a number of seconds', operands: { rest: 'number', min: 1 } },
  'which|type': { about: 'where a command is', flags: 'asafptP', operands: { rest: 'name', min: 1 } },
  printenv: {
    about: 'prints named variables whose names do not look like secrets (never all of them)',
    flags: '0',
    long: { '--null': null },
    operands: { rest: 'envname', min: 1 },
  },
  pwd: { about: 'the working directory', flags: 'LP' },
  'cd|pushd|popd': {
    about: 'changes the working directory (later relative paths are resolved from it)',
    flags: 'LPe',
    operands: { kinds: ['path'] },
  },
  w: {
    about: 'who is logged in',
    flags: 'hiusfo',
    long: { '--no-header': null, '--ip-addr': null, '--short': null, '--from': null, '--old-style': null, '--no-current': null },
    operands: names,
  },
  who: {
    about: 'who is logged in',
    flags: 'abdHlmpqrstTuw',
    long: { '--all': null, '--boot': null, '--heading': null, '--count': null, '--runlevel': null },
    operands: { rest: 'text', kinds: ['text', 'text'] },
  },
  last: {
    about: 'recent logins',
    flags: 'adFiowxR',
    values: { n: 'number', f: 'file', s: 'text', t: 'text' },
    long: {
      '--limit': 'number',
      '--since': 'text',
      '--until': 'text',
      '--fulltimes': null,
      '--ip': null,
      '--dns': null,
      '--nohostname': null,
      '--system': null,
      '--time-format': 'name',
    },
    numericOption: true,
    operands: names,
  },
  lastlog: { about: 'last login per user', values: { u: 'name', b: 'number', t: 'number' } },
  ping: {
    about: 'reachability (with -c or -w: it ends)',
    flags: 'nqv46DOaAU',
    values: { c: 'number', W: 'number', w: 'number', i: 'number', s: 'number', t: 'number', I: 'name' },
    operands: { kinds: ['host'], min: 1 },
    check: (parsed) => (parsed.options.has('-c') || parsed.options.has('-w') ? [] : 'ping without -c or -w never ends'),
  },
  tracepath: {
    about: 'path to a host',
    flags: 'n46b',
    values: { l: 'number', m: 'number', p: 'number' },
    operands: { kinds: ['host'], min: 1 },
  },
  traceroute: {
    about: 'path to a host',
    flags: 'n46ITUFed',
    values: { m: 'number', q: 'number', w: 'number', p: 'number', f: 'number', s: 'host', i: 'name' },
    operands: { kinds: ['host', 'number'], min: 1 },
  },
  nc: {
    about: 'port checks only (-z)',
    flags: 'zvnu46',
    values: { w: 'number' },
    operands: { kinds: ['host'], rest: 'number', min: 2 },
    check: (parsed) => (parsed.options.has('-z') ? [] : 'nc without -z sends or listens'),
  },
  ntpq: { about: 'NTP peers', flags: 'pn46w' },
  chronyc: {
    about: 'chrony status',
    flags: 'nc46',
    sub: {
      'tracking|sources|sourcestats|activity|ntpdata|serverstats|selectdata|authdata': {
        about: '',
        flags: 'va',
        operands: { rest: 'host' },
      },
    },
  },
  ntpstat: { about: 'NTP sync state' },
  timedatectl: {
    about: 'clock status',
    long: { '--no-pager': null, '--no-ask-password': null, '--value': null, '--all': null, '--property': 'name' },
    flags: 'a',
    values: { p: 'name' },
    sub: { 'status|show|timesync-status|show-timesync|list-timezones': { about: '', operands: none } },
    defaultSub: 'status',
  },
  date: {
    about: 'prints the date (setting it is a change)',
    flags: 'uRI',
    values: { d: 'text', r: 'path' },
    long: {
      '--utc': null,
      '--universal': null,
      '--rfc-3339': 'name',
      '--iso-8601': null,
      '--iso-8601=': 'name',
      '--rfc-email': null,
      '--date': 'text',
      '--reference': 'path',
    },
    operands: { kinds: ['text'] },
    check: (parsed) =>
      parsed.operands.length === 0 || parsed.operands[0]!.text.startsWith('+') ? [] : 'date with a non-format operand sets the clock',
  },
  hwclock: {
    about: 'reads the hardware clock',
    flags: 'rv',
    long: { '--show': null, '--verbose': null, '--utc': null, '--localtime': null },
    check: (parsed) => (parsed.options.has('-r') || parsed.options.has('--show') ? [] : 'hwclock without --show may set a clock'),
  },
  lscpu: {
    about: 'CPUs',
    flags: 'aebcJxy',
    long: { '--all': null, '--online': null, '--offline': null, '--json': null, '--extended': null, '--parse': null, '--hex': null },
  },
  lsblk: {
    about: 'block devices (metadata)',
    flags: 'abdDfimnOplrsStuzJ',
    values: { o: 'text', e: 'text', I: 'text', x: 'text' },
    long: {
      '--all': null,
      '--bytes': null,
      '--nodeps': null,
      '--discard': null,
      '--fs': null,
      '--list': null,
      '--json': null,
      '--output': 'text',
      '--paths': null,
      '--raw': null,
      '--scsi': null,
      '--noheadings': null,
      '--topology': null,
      '--tree': null,
    },
    operands: paths,
  },
  blkid: {
    about: 'filesystem identifiers (metadata)',
    flags: 'dghilLpuk',
    values: { o: 'name', s: 'name', t: 'text', c: ['/dev/null'] },
    operands: paths,
  },
  findmnt: {
    about: 'mounts (once: no -p)',
    flags: 'AbcDdfklmnrsUvJP',
    values: { t: 'name', O: 'text', o: 'text', S: 'text', T: 'path', M: 'path', N: 'name' },
    long: {
      '--json': null,
      '--list': null,
      '--noheadings': null,
      '--output': 'text',
      '--types': 'name',
      '--target': 'path',
      '--source': 'text',
      '--df': null,
      '--real': null,
      '--pseudo': null,
      '--submounts': null,
    },
    operands: paths,
  },
  mountpoint: { about: 'whether a path is a mount point', flags: 'qdx', operands: { kinds: ['path'], min: 1 } },
  mount: { about: 'lists mounts (mounting is a change)', flags: 'l', values: { t: 'name' }, operands: none },
  swapon: {
    about: 'swap areas (--show only)',
    long: { '--show': null, '--show=': 'text', '--summary': null, '--bytes': null, '--noheadings': null, '--raw': null },
    flags: 's',
    check: (parsed) => (parsed.options.size ? [] : 'swapon without --show enables swap'),
  },
  'vmstat|iostat|mpstat|sar|pidstat': {
    about: 'system activity (with a count when an interval is given: it ends)',
    flags: 'afmsdDtwVxyzcHhkNuArbBqWRp',
    values: { S: 'name', P: 'text', n: 'text', I: 'text' },
    operands: { kinds: ['number', 'number'] },
    check: (parsed) => (parsed.operands.length === 1 ? 'an interval without a count never ends' : []),
  },
  'lspci|lsusb': { about: 'devices', flags: 'vnkDtmq' },
  arp: { about: 'the ARP cache (never -d or -s)', flags: 'naveH', values: { i: 'name' }, operands: { kinds: ['host'] } },
  ifconfig: { about: 'interfaces (showing only)', flags: 'as', operands: { kinds: ['name'] } },
  route: { about: 'routes (showing only)', flags: 'neCFv46', operands: none },
  ethtool: { about: 'interface settings (showing only)', flags: 'iSkTPa', operands: { kinds: ['name'], min: 1 } },
  ip: {
    about: 'addresses, links, routes, rules, neighbours (show/list/get only)',
    custom: ipVerdict,
    doc: 'options `-4 -6 -s -d -o -c -j -p -br -n NETNS`, then `addr|link|route|rule|neigh|maddr|tunnel|vrf|netconf|netns…` with no verb, `show`/`list` (`route get`, `netns identify|pids`) and their selectors',
  },
  ufw: { about: 'firewall status', sub: { status: { about: '', operands: { kinds: [['verbose', 'numbered']] } } } },
  'firewall-cmd': {
    about: 'firewalld status',
    long: {
      '--state': null,
      '--list-all': null,
      '--list-all-zones': null,
      '--get-active-zones': null,
      '--get-default-zone': null,
      '--list-services': null,
      '--list-ports': null,
      '--zone': 'name',
      '--permanent': null,
    },
  },
  'iptables|ip6tables': {
    about: 'lists firewall rules (-L/-S only)',
    flags: 'LSnvxw',
    values: { t: 'name' },
    long: {
      '--list': null,
      '--list-rules': null,
      '--numeric': null,
      '--verbose': null,
      '--exact': null,
      '--line-numbers': null,
      '--table': 'name',
      '--wait': null,
    },
    operands: { kinds: ['name'] },
    check: (parsed) =>
      ['-L', '-S', '--list', '--list-rules'].some((o) => parsed.options.has(o)) ? [] : 'iptables without -L or -S changes rules',
  },
  'iptables-save|ip6tables-save': { about: 'prints firewall rules', flags: 'c', values: { t: 'name' } },
  nft: { about: 'lists nftables rules', flags: 'anjsy', sub: { list: { about: '', operands: { rest: 'name', min: 1 } } } },
  sysctl: {
    about: 'reads kernel settings (-w, -p, --system and KEY=VALUE are changes)',
    flags: 'aAnNeqbX',
    long: { '--all': null, '--values': null, '--names': null, '--ignore': null, '--binary': null, '--pattern': 'pattern' },
    operands: names,
    check: (parsed) => (parsed.operands.some((o) => o.text.includes('=')) ? 'sysctl KEY=VALUE sets a kernel setting' : []),
  },
  dmesg: {
    about: 'the kernel log (never -c/-C/-n/-D/-E, never follows)',
    flags: 'HTdkrtuxLeP',
    values: { l: 'text', f: 'text', s: 'number' },
    long: {
      '--ctime': null,
      '--human': null,
      '--kernel': null,
      '--level': 'text',
      '--facility': 'text',
      '--decode': null,
      '--time-format': 'name',
      '--notime': null,
      '--raw': null,
      '--userspace': null,
      '--nopager': null,
      '--color': null,
      '--color=': ['auto', 'always', 'never'],
      '--show-delta': null,
      '--reltime': null,
      '--since': 'text',
      '--until': 'text',
    },
  },
  awk: {
    about: 'runs an awk program that neither runs commands, pipes, redirects output, uses getline nor reads ENVIRON',
    values: { F: 'text', v: 'text' },
    long: {
      '--field-separator': 'text',
      '--assign': 'text',
      '--posix': null,
      '--traditional': null,
      '--re-interval': null,
      '--sandbox': null,
    },
    operands: { kinds: ['text'], rest: 'file', min: 1 },
    check: (parsed, ctx) => {
      const [program, ...rest] = parsed.operands;
      const parts = awkProgramRisk(program!.text, ctx);
      // Operands of the form var=value are assignments, not files; the rest were read as files.
      for (const word of rest) if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word.text)) continue;
      return parts;
    },
  },
  sed: {
    about: 'runs a sed script without e, w/W, s///e or s///w, r/R of secrets, or -i',
    flags: 'nErsuz',
    values: { e: 'text', l: 'number' },
    long: {
      '--quiet': null,
      '--silent': null,
      '--regexp-extended': null,
      '--separate': null,
      '--unbuffered': null,
      '--null-data': null,
      '--posix': null,
      '--debug': null,
      '--sandbox': null,
      '--expression': 'text',
      '--line-length': 'number',
    },
    operands: (options) => (options.has('-e') || options.has('--expression') ? files : { kinds: ['text'], rest: 'file', min: 1 }),
    check: (parsed, ctx) => {
      const scripts = [...(parsed.options.get('-e') ?? []), ...(parsed.options.get('--expression') ?? [])];
      if (!scripts.length) scripts.push(parsed.operands[0]!);
      const parts: Part[] = [];
      for (const script of scripts) {
        if (script.dynamic) return `sed script ${script.text} is only known when the command runs`;
        const risk = sedScriptRisk(script.text, ctx);
        if (typeof risk === 'string') return risk;
        parts.push(...risk);
      }
      return parts;
    },
  },
  find: { about: 'finds files; its actions are judged like the commands they are', custom: findVerdict, doc: FIND_DOC },
  tee: {
    about: 'copies standard input to files (each file is a write rated by destination)',
    flags: 'aip',
    long: { '--append': null, '--ignore-interrupts': null },
    operands: { rest: 'write' },
  },
  systemctl: {
    about: 'unit status and listings',
    flags: 'qlar',
    values: { n: 'number', o: 'name', t: 'name', p: 'name' },
    long: SYSTEMCTL_OPTIONS,
    sub: {
      'status|is-active|is-enabled|is-failed|show|cat|list-units|list-unit-files|list-timers|list-sockets|list-dependencies|list-jobs|is-system-running|get-default|help':
        systemctlRead,
    },
    defaultSub: 'list-units',
  },
  service: { about: 'SysV service status', custom: serviceVerdict, doc: '`service NAME status`, `service --status-all`' },
  supervisorctl: {
    about: 'supervisor program status and logs',
    values: { c: 'file' },
    sub: {
      'status|pid|avail|version|help': { about: '', operands: names },
      'tail|maintail': { about: '', numericOption: true, operands: { kinds: ['name', ['stdout', 'stderr']] } },
    },
    defaultSub: 'status',
  },
  journalctl: {
    about: 'the journal (never follows; vacuum, rotate and flush are changes)',
    flags: 'bkrxeqamN',
    values: { u: 'name', n: 'number', p: 'text', S: 'text', U: 'text', o: 'name', t: 'name', g: 'pattern', D: 'path' },
    long: {
      '--unit': 'name',
      '--user-unit': 'name',
      '--lines': 'number',
      '--no-pager': null,
      '--boot': null,
      '--boot=': 'text',
      '--dmesg': null,
      '--priority': 'text',
      '--since': 'text',
      '--until': 'text',
      '--output': 'name',
      '--reverse': null,
      '--catalog': null,
      '--pager-end': null,
      '--quiet': null,
      '--no-hostname': null,
      '--identifier': 'name',
      '--grep': 'pattern',
      '--case-sensitive': null,
      '--case-sensitive=': 'name',
      '--list-boots': null,
      '--disk-usage': null,
      '--utc': null,
      '--all': null,
      '--no-full': null,
      '--output-fields': 'text',
      '--directory': 'path',
      '--merge': null,
      '--system': null,
      '--user': null,
    },
    numericOption: true,
    operands: { rest: 'text' },
  },
  kubectl: {
    about: 'Kubernetes reads (get, describe, logs, top, events, rollout status/history, auth can-i…; never secret values)',
    flags: 'A',
    values: { n: 'name', v: 'number' },
    long: {
      '--namespace': 'name',
      '--context': 'name',
      '--cluster': 'name',
      '--all-namespaces': null,
      '--request-timeout': 'text',
      '--v': 'number',
    },
    sub: {
      get: {
        about: '',
        values: { o: 'text', l: 'text', L: 'text' },
        long: {
          ...KUBECTL_SELECT,
          '--output': 'text',
          '--show-labels': null,
          '--sort-by': 'text',
          '--no-headers': null,
          '--label-columns': 'text',
          '--ignore-not-found': null,
          '--chunk-size': 'number',
          '--show-kind': null,
        },
        operands: { rest: 'name', min: 1 },
        check: kubectlSecretCheck,
      },
      describe: {
        about: '',
        values: { l: 'text' },
        long: { ...KUBECTL_SELECT, '--show-events': null, '--show-events=': 'name' },
        operands: { rest: 'name', min: 1 },
      },
      logs: {
        about: '',
        flags: 'p',
        values: { c: 'name', l: 'text' },
        long: {
          ...KUBECTL_SELECT,
          '--previous': null,
          '--tail': 'number',
          '--since': 'text',
          '--since-time': 'text',
          '--container': 'name',
          '--all-containers': null,
          '--timestamps': null,
          '--limit-bytes': 'number',
          '--prefix': null,
        },
        operands: { rest: 'name', min: 1 },
      },
      top: {
        about: '',
        values: { l: 'text' },
        long: { ...KUBECTL_SELECT, '--containers': null, '--sort-by': 'name', '--no-headers': null, '--use-protocol-buffers': null },
        operands: { rest: 'name', min: 1 },
      },
      events: {
        about: '',
        values: { o: 'text' },
        long: { ...KUBECTL_SELECT, '--for': 'name', '--types': 'text', '--output': 'text' },
        operands: none,
      },
      rollout: {
        about: '',
        sub: {
          'status|history': {
            about: '',
            long: { '--timeout': 'text', '--revision': 'number', '--watch=': ['true', 'false'] },
            operands: { rest: 'name', min: 1 },
          },
        },
      },
      auth: {
        about: '',
        sub: { 'can-i': { about: '', long: { '--list': null }, operands: { rest: 'text' } }, whoami: { about: '', operands: none } },
      },
      'explain|version|api-resources|api-versions|cluster-info': {
        about: '',
        long: { '--client': null, '--recursive': null, '--namespaced': null, '--namespaced=': 'name', '--output': 'text' },
        values: { o: 'text' },
        operands: { rest: 'name' },
      },
    },
  },
  'docker|podman': dockerGrammar,
  terraform: {
    about: 'Terraform plans and state listings (never plan -out, output -json/-raw, show -json)',
    singleDashLong: true,
    long: { '-chdir': 'path' },
    sub: {
      plan: {
        about: '',
        singleDashLong: true,
        long: {
          '-lock-timeout': 'text',
          '-input': ['false'],
          '-no-color': null,
          '-detailed-exitcode': null,
          '-lock': ['true', 'false'],
          '-refresh': ['true', 'false'],
          '-compact-warnings': null,
          '-parallelism': 'number',
          '-var-file': 'file',
        },
        operands: none,
      },
      'show|validate|version|providers': { about: '', singleDashLong: true, long: { '-no-color': null }, operands: none },
      output: { about: '', singleDashLong: true, long: { '-no-color': null }, operands: names },
      fmt: {
        about: '',
        singleDashLong: true,
        long: { '-check': null, '-diff': null, '-recursive': null, '-no-color': null },
        operands: paths,
        check: (parsed) => (parsed.options.has('-check') ? [] : 'terraform fmt without -check rewrites files'),
      },
      state: { about: '', sub: { 'list|show': { about: '', operands: names } } },
      workspace: { about: '', sub: { 'list|show': { about: '', operands: none } } },
    },
  },
  crontab: {
    about: 'lists crontabs (-l only)',
    flags: 'l',
    values: { u: 'name' },
    check: (parsed) => (parsed.options.has('-l') ? [] : 'crontab without -l installs or removes a crontab'),
  },
  logrotate: {
    about: 'dry-runs logrotate (-d only)',
    flags: 'dv',
    operands: { kinds: ['file'], min: 1 },
    check: (parsed) => (parsed.options.has('-d') ? [] : 'logrotate without -d rotates logs'),
  },
  openssl: {
    about: 'inspects certificates and TLS endpoints (never private keys, never -out)',
    sub: {
      x509: { about: '', singleDashLong: true, long: X509_OPTIONS, operands: none },
      verify: {
        about: '',
        singleDashLong: true,
        long: { '-CAfile': 'cert', '-CApath': 'path', '-untrusted': 'cert', '-purpose': 'name', '-show_chain': null, '-verbose': null },
        operands: { rest: 'cert' },
      },
      crl: {
        about: '',
        singleDashLong: true,
        long: {
          '-in': 'cert',
          '-noout': null,
          '-text': null,
          '-inform': ['PEM', 'DER'],
          '-lastupdate': null,
          '-nextupdate': null,
          '-issuer': null,
          '-hash': null,
        },
        operands: none,
      },
      s_client: {
        about: '',
        singleDashLong: true,
        long: {
          '-connect': 'host',
          '-servername': 'host',
          '-showcerts': null,
          '-brief': null,
          '-verify_return_error': null,
          '-CAfile': 'cert',
          '-alpn': 'text',
          '-starttls': 'name',
          '-tls1_2': null,
          '-tls1_3': null,
          '-verify': 'number',
          '-quiet': null,
        },
        operands: none,
      },
      'version|ciphers': {
        about: '',
        singleDashLong: true,
        long: { '-a': null, '-v': null, '-V': null, '-s': null },
        operands: { rest: 'text' },
      },
    },
  },
  curl: curlGrammar,
  wget: wgetGrammar,
  'dpkg|dpkg-query': {
    about: 'installed packages (listing only)',
    flags: 'lLsSpW',
    values: { f: 'text' },
    long: { '--list': null, '--listfiles': null, '--status': null, '--search': null, '--show': null, '--showformat': 'text' },
    operands: { rest: 'pattern' },
    check: (parsed) => (parsed.options.size ? [] : 'dpkg without a query option is a change'),
  },
  rpm: {
    about: 'installed packages (queries only)',
    flags: 'qailfcdRV',
    long: { '--queryformat': 'text', '--whatprovides': null, '--whatrequires': null, '--last': null, '--changelog': null },
    operands: { rest: 'pattern' },
    check: (parsed) => (parsed.options.has('-q') || parsed.options.has('-V') ? [] : 'rpm without -q is a change'),
  },
  'apt|apt-cache': {
    about: 'package information',
    long: { '--installed': null, '--upgradable': null, '--all-versions': null },
    sub: { 'list|show|search|policy|depends|rdepends|madison|showpkg|stats': { about: '', operands: { rest: 'pattern' } } },
  },
  'yum|dnf': {
    about: 'package information',
    flags: 'qC',
    sub: { 'list|info|search|repolist|provides|check-update': { about: '', operands: { rest: 'pattern' } } },
  },
  'systemd-analyze': {
    about: 'boot timing',
    long: { '--no-pager': null },
    sub: { 'time|blame|critical-chain': { about: '', operands: names } },
    defaultSub: 'time',
  },
};

const TABLE = new Map<string, Grammar>();
for (const [keys, grammar] of Object.entries(READ_ONLY_GRAMMAR)) for (const key of keys.split('|')) TABLE.set(key, grammar);

export const grammarOf = (name: string): Grammar | undefined => TABLE.get(name);
export const READ_ONLY_COMMANDS = [...TABLE.keys()].sort();

/** Holds a command to its read-only grammar; null when it has none. */
export function fitReadOnly(name: string, args: readonly Word[], ctx: Ctx): Verdict | null {
  const grammar = TABLE.get(name);
  return grammar ? fitGrammar(grammar, args, ctx) : null;
}
