// Jinja in a playbook is code that runs on the controller: `{{ lookup('pipe', 'id') }}` runs a command
// there, `{{ ''.__class__… }}` escapes Jinja, and text decoded at run time (`'e3s='|b64decode`) can
// build a second expression that ansible evaluates later. So an expression may use variables,
// literals, operators and an allowlist of filters, tests and methods; anything else is refused.

/** Filters that compute from their input; none reads files, runs commands or decodes text. */
const FILTERS = new Set(
  (
    'default d int float string bool lower upper capitalize title trim length count first last join list unique sort reverse ' +
    'min max sum abs round basename dirname to_json to_nice_json to_yaml to_nice_yaml quote replace regex_search regex_replace ' +
    'split dict2items items2dict combine select reject selectattr rejectattr map flatten zip difference union intersect ' +
    'ternary mandatory type_debug hash checksum splitext realpath wordcount center indent truncate batch slice items ' +
    'human_readable human_to_bytes'
  ).split(' '),
);
/** Jinja and ansible tests. */
const TESTS = new Set(
  (
    'defined undefined none sameas number string mapping sequence iterable boolean integer float true false lower upper ' +
    'equalto eq ne lt le gt ge in contains match search regex version version_compare succeeded success failed failure ' +
    'changed change skipped skip finished started divisibleby even odd subset superset any all abs exists is_abs'
  ).split(' '),
);
const METHODS = new Set(
  'split strip lstrip rstrip lower upper startswith endswith items keys values get replace join count index'.split(' '),
);
/** Words that are statements or globals reaching outside the expression. */
const DENIED_WORDS =
  /\b(?:lookup|query|q|include|import|extends|from|macro|call|self|cycler|joiner|namespace|range|lipsum|attr|format|config|request|environ|os|popen|subprocess|eval|exec|compile|globals|builtins|getattr)\b/;

interface Expression {
  text: string;
  /** From `{% %}`: its first word is a statement keyword. */
  statement: boolean;
}

/** Expressions inside `{{ }}` and `{% %}` of a templated string; the whole text for a bare condition. */
export function expressionsOf(text: string, bare: boolean): Expression[] {
  if (bare) return [{ text, statement: false }];
  const out: Expression[] = [];
  for (const m of text.matchAll(/\{\{([\s\S]*?)\}\}|\{%-?([\s\S]*?)-?%\}/g))
    out.push(m[1] !== undefined ? { text: m[1], statement: false } : { text: m[2] ?? '', statement: true });
  // An opening delimiter without its end is refused too: ansible may still see a template there.
  if (/\{\{(?![\s\S]*\}\})|\{%(?![\s\S]*%\})/.test(text)) out.push({ text: '{', statement: false });
  return out;
}

/** Why a templated string or a bare condition is refused; null when it may run. */
export function templatingProblem(text: string, bare = false): string | null {
  if (!bare && !/[{][{%#]/.test(text)) return null;
  for (const { text: raw, statement } of expressionsOf(text, bare)) {
    if (statement && !/^\s*(?:if|elif|else|endif|for|endfor|set)\b/.test(raw))
      return `the statement ${show(raw)} is not allowed (if, for and set only)`;
    const expression = stripStrings(raw);
    if (/[{}\\%]/.test(expression.text) || expression.strings.some((s) => /[{}%\\]|__/.test(s)))
      return `the expression ${show(raw)} builds braces, escapes or format strings (a second template)`;
    if (/__|\.\s*_/.test(expression.text)) return `the expression ${show(raw)} reaches private attributes`;
    const denied = DENIED_WORDS.exec(expression.text);
    if (denied) return `the expression ${show(raw)} uses ${denied[0]}, which reaches outside the play`;
    for (const m of expression.text.matchAll(/\|\s*([A-Za-z_][\w.]*)/g)) {
      const name = m[1]!.replace(/^ansible\.builtin\./, '');
      if (!FILTERS.has(name)) return `the expression ${show(raw)} uses the filter ${m[1]}, which is not on the allowlist`;
    }
    for (const m of expression.text.matchAll(/\bis\s+(?:not\s+)?([A-Za-z_][\w.]*)/g)) {
      const name = m[1]!.replace(/^ansible\.builtin\./, '');
      if (!TESTS.has(name)) return `the expression ${show(raw)} uses the test ${m[1]}, which is not on the allowlist`;
    }
    // Filter and test names given as strings (map('b64decode'), select('match')) obey the same lists.
    for (const m of raw.matchAll(/\b(map|select|reject|selectattr|rejectattr)\s*\(\s*(['"])([^'"]*)\2/g)) {
      const allowed = m[1] === 'map' ? FILTERS : TESTS;
      if (m[1] === 'selectattr' || m[1] === 'rejectattr') continue;
      if (!allowed.has(m[3]!)) return `the expression ${show(raw)} applies ${m[3]} through ${m[1]}, which is not on the allowlist`;
    }
    for (const m of expression.text.matchAll(/(^|[^|.\w\s]|\s)\s*([A-Za-z_]\w*)\s*\(/g)) {
      const before = expression.text.slice(0, m.index + m[0].length - m[2]!.length - 1).trimEnd();
      if (before.endsWith('|') || FILTERS.has(m[2]!) || TESTS.has(m[2]!)) continue;
      return `the expression ${show(raw)} calls ${m[2]}(), which is not allowed`;
    }
    for (const m of expression.text.matchAll(/\.\s*([A-Za-z_]\w*)\s*\(/g))
      if (!METHODS.has(m[1]!)) return `the expression ${show(raw)} calls the method ${m[1]}(), which is not allowed`;
  }
  return null;
}

/** The expression with its string literals blanked (so words inside strings are not read as code). */
function stripStrings(expression: string): { text: string; strings: string[] } {
  const strings: string[] = [];
  const text = expression.replace(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g, (_m, a: string | undefined, b: string | undefined) => {
    strings.push(a ?? b ?? '');
    return '""';
  });
  return { text, strings };
}

const show = (raw: string) => {
  const t = raw.trim();
  return `"${t.length > 60 ? `${t.slice(0, 57)}...` : t}"`;
};
