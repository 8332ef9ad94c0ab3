// Terraform HCL written the way `terraform fmt` leaves it: two-space indentation, the `=` of
// consecutive one-line attributes aligned, a multi-line attribute (a map) standing on its own, one
// blank line between blocks. Templates build a small tree and this file prints it, so no template
// can get the layout wrong and the same tree always prints the same text.

/** A Terraform expression written as is (`var.region`, `aws_s3_bucket.this.id`). */
export class HclExpression {
  constructor(readonly text: string) {}
}

export const expr = (text: string): HclExpression => new HclExpression(text);

export type HclValue = string | number | boolean | HclExpression | HclValue[] | HclMap;
/** A map literal, printed one key per line. */
export class HclMap {
  constructor(readonly entries: ReadonlyArray<readonly [string, HclValue]>) {}
}

export const map = (record: Record<string, HclValue> | ReadonlyArray<readonly [string, HclValue]>): HclMap =>
  new HclMap(Array.isArray(record) ? (record as ReadonlyArray<readonly [string, HclValue]>) : Object.entries(record));

export interface HclAttribute {
  kind: 'attribute';
  name: string;
  value: HclValue;
}

export interface HclBlock {
  kind: 'block';
  type: string;
  labels: string[];
  body: HclItem[];
}

/** A blank line: ends a run of aligned attributes. */
export interface HclBreak {
  kind: 'break';
}

export type HclItem = HclAttribute | HclBlock | HclBreak;

export const attr = (name: string, value: HclValue): HclAttribute => ({ kind: 'attribute', name, value });
export const block = (type: string, labels: string[], body: Array<HclItem | null | false>): HclBlock => ({
  kind: 'block',
  type,
  labels,
  body: body.filter((item): item is HclItem => Boolean(item)),
});
export const gap: HclBreak = { kind: 'break' };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const INDENT = '  ';

/** A quoted HCL string: escapes, and `${`/`%{` doubled so a value is never read as a template. */
export function quote(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\$\{/g, () => '$${')
    .replace(/%\{/g, () => '%%{');
  return `"${escaped}"`;
}

function isMultiline(value: HclValue): boolean {
  return value instanceof HclMap && value.entries.length > 0;
}

function inline(value: HclValue): string {
  if (value instanceof HclExpression) return value.text;
  if (value instanceof HclMap) return '{}';
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (typeof value === 'string') return quote(value);
  return String(value);
}

type Line = { key: string; rest: string } | { text: string };

/** Aligns the `=` of each run of `{ key, rest }` lines, as terraform fmt does. */
function alignRuns(lines: Line[], indent: string): string[] {
  const out: string[] = [];
  let run: Array<{ key: string; rest: string }> = [];
  const flush = () => {
    const width = Math.max(0, ...run.map((line) => line.key.length));
    for (const line of run) out.push(`${indent}${line.key.padEnd(width)} = ${line.rest}`);
    run = [];
  };
  for (const line of lines) {
    if ('key' in line) run.push(line);
    else {
      flush();
      out.push(line.text);
    }
  }
  flush();
  return out;
}

function mapLines(value: HclMap, depth: number): string[] {
  const indent = INDENT.repeat(depth);
  const lines: Line[] = [];
  for (const [key, item] of value.entries) {
    const name = IDENTIFIER.test(key) ? key : quote(key);
    if (isMultiline(item))
      lines.push({ text: `${indent}${name} = {` }, ...mapLines(item as HclMap, depth + 1).map((text) => ({ text })), {
        text: `${indent}}`,
      });
    else lines.push({ key: name, rest: inline(item) });
  }
  return alignRuns(lines, indent);
}

function bodyLines(items: HclItem[], depth: number): string[] {
  const indent = INDENT.repeat(depth);
  const lines: Line[] = [];
  items.forEach((item, index) => {
    if (item.kind === 'break') {
      if (index > 0 && lines.length > 0) lines.push({ text: '' });
    } else if (item.kind === 'block') {
      const previous = items[index - 1];
      if (previous && previous.kind !== 'break') lines.push({ text: '' });
      for (const text of blockLines(item, depth)) lines.push({ text });
    } else if (isMultiline(item.value)) {
      lines.push({ text: `${indent}${item.name} = {` }, ...mapLines(item.value as HclMap, depth + 1).map((text) => ({ text })), {
        text: `${indent}}`,
      });
    } else lines.push({ key: item.name, rest: inline(item.value) });
  });
  return alignRuns(lines, indent);
}

function blockLines(node: HclBlock, depth: number): string[] {
  const indent = INDENT.repeat(depth);
  const head = [node.type, ...node.labels.map(quote)].join(' ');
  if (node.body.length === 0) return [`${indent}${head} {}`];
  return [`${indent}${head} {`, ...bodyLines(node.body, depth + 1), `${indent}}`];
}

/** A file of top-level blocks, separated by blank lines, ending in one newline. */
export function printHcl(blocks: HclBlock[]): string {
  return `${blocks.map((node) => blockLines(node, 0).join('\n')).join('\n\n')}\n`;
}
