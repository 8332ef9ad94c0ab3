import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

// Reads a runbook's front matter straight from runbooks/<id>.md (not through the product's loader)
// and picks the commands a human would type on a supervisor host.

type Variants = Partial<Record<'systemd' | 'sysv' | 'supervisor' | 'any', string>>;

export interface RunbookFile {
  id: string;
  parameters: { name: string; tag?: string; default?: string }[];
  diagnostics: { id: string; command: Variants; signals?: { pattern: string; finding: string; absent?: boolean }[] }[];
  fixes: { id: string; when: string[]; guard?: Variants; command: Variants }[];
  verification: { description: string; command: Variants; expect: string }[];
}

const RUNBOOKS_DIR = fileURLToPath(new URL('../../runbooks/', import.meta.url));

export function readRunbook(id: string): RunbookFile {
  const text = readFileSync(`${RUNBOOKS_DIR}${id}.md`, 'utf8');
  const match = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (!match?.[1]) throw new Error(`runbooks/${id}.md has no front matter`);
  return parse(match[1]) as RunbookFile;
}

/** The supervisor variant, else the one for any manager. */
export function supervisorVariant(variants: Variants | undefined): string | null {
  return variants?.supervisor ?? variants?.any ?? null;
}

/** Fills {name} placeholders; a missing value is an error (the test must know every parameter). */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{([a-zA-Z][a-zA-Z0-9]*)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for {${name}} in: ${template}`);
    return value;
  });
}

/** Parameter values from CMDB-like tags and the runbook's defaults. */
export function parameterValues(runbook: RunbookFile, tags: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const parameter of runbook.parameters ?? []) {
    const value = (parameter.tag ? tags[parameter.tag] : undefined) ?? parameter.default;
    if (value !== undefined) values[parameter.name] = value;
  }
  return values;
}
