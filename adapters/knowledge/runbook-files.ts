import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { RISKS, runbookReferenceProblems, SERVICE_MANAGERS, type Runbook } from '../../core/runbook.js';

export const RUNBOOKS_DIR = fileURLToPath(new URL('../../runbooks/', import.meta.url));

const command = z
  .object(Object.fromEntries([...SERVICE_MANAGERS, 'any'].map((key) => [key, z.string().min(1).optional()])))
  .strict()
  .refine((value) => Object.values(value).some(Boolean), 'at least one command variant');

const regex = z.string().refine((value) => {
  try {
    new RegExp(value, 'i');
    return true;
  } catch {
    return false;
  }
}, 'a valid regular expression');

const id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a kebab-case id');

const frontMatter = z
  .object({
    id,
    title: z.string().min(3),
    kind: z.enum(['host', 'kubernetes', 'terraform']),
    patterns: z.array(regex).min(1),
    keywords: z.array(z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(2))).min(1),
    refines: z.array(id).default([]),
    parameters: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z][a-zA-Z0-9]*$/),
            description: z.string(),
            default: z.string().optional(),
            tag: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
    diagnostics: z
      .array(
        z
          .object({
            id,
            description: z.string(),
            command,
            signals: z
              .array(z.object({ pattern: regex, absent: z.boolean().optional(), finding: id, cause: id.optional() }).strict())
              .default([]),
          })
          .strict(),
      )
      .min(1),
    hypotheses: z.array(z.object({ finding: id, rootCause: z.string().min(3) }).strict()).min(1),
    fixes: z
      .array(
        z
          .object({
            id,
            description: z.string(),
            risk: z.enum(RISKS).exclude(['read-only']),
            when: z.array(id).min(1),
            unless: z.array(id).optional(),
            command,
            guard: command.optional(),
            rollback: command.optional(),
          })
          .strict(),
      )
      .default([]),
    verification: z.array(z.object({ description: z.string(), command, expect: regex }).strict()).min(1),
    rollback: z.string().min(3),
    prevention: z.array(z.string()).default([]),
  })
  .strict();

export class RunbookFormatError extends Error {
  override readonly name = 'RunbookFormatError';
}

/** Parses one runbook file: YAML front matter between `---` lines, then the Markdown body. */
export function parseRunbook(text: string, source: string): Runbook {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(text);
  if (!match) throw new RunbookFormatError(`${source}: missing YAML front matter between '---' lines`);
  let raw: unknown;
  try {
    raw = parse(match[1]!);
  } catch (err) {
    throw new RunbookFormatError(`${source}: front matter is not valid YAML (${(err as Error).message})`);
  }
  const parsed = frontMatter.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new RunbookFormatError(`${source}: invalid runbook front matter\n${issues}`);
  }
  const runbook = { ...parsed.data, body: match[2]!.trim(), source } as Runbook;
  const findings = new Set(runbook.diagnostics.flatMap((d) => d.signals.map((s) => s.finding)));
  for (const hypothesis of runbook.hypotheses) {
    if (!findings.has(hypothesis.finding))
      throw new RunbookFormatError(`${source}: hypothesis '${hypothesis.finding}' has no diagnostic signal`);
  }
  for (const fix of runbook.fixes) {
    for (const finding of [...fix.when, ...(fix.unless ?? [])]) {
      if (!findings.has(finding)) throw new RunbookFormatError(`${source}: fix '${fix.id}' needs unknown finding '${finding}'`);
    }
  }
  const declared = new Set(runbook.parameters.map((p) => p.name));
  const commands = [
    ...runbook.diagnostics.map((d) => d.command),
    ...runbook.fixes.flatMap((f) => [f.command, f.guard, f.rollback]),
    ...runbook.verification.map((v) => v.command),
  ].flatMap((variants) => Object.values(variants ?? {}));
  for (const text of commands) {
    for (const [, name] of text.matchAll(/\{([a-zA-Z][a-zA-Z0-9]*)\}/g)) {
      if (!declared.has(name!)) throw new RunbookFormatError(`${source}: command uses undeclared parameter {${name}}`);
    }
  }
  return runbook;
}

/** Loads every `*.md` runbook of a directory (the bundled `runbooks/` by default); ids must be unique. */
export async function loadRunbooks(dir = RUNBOOKS_DIR): Promise<Runbook[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.md') && name !== 'README.md').sort();
  const runbooks = await Promise.all(files.map(async (file) => parseRunbook(await readFile(`${dir}/${file}`, 'utf8'), file)));
  const seen = new Set<string>();
  for (const runbook of runbooks) {
    if (seen.has(runbook.id)) throw new RunbookFormatError(`${runbook.source}: duplicate runbook id '${runbook.id}'`);
    seen.add(runbook.id);
  }
  const [problem] = runbookReferenceProblems(runbooks);
  if (problem) throw new RunbookFormatError(problem);
  return runbooks;
}

/** The text a runbook contributes to the knowledge base: its prose plus what its structure says. */
export function runbookToMarkdown(runbook: Runbook): string {
  const variants = (command: Record<string, string | undefined>) => Object.values(command).filter(Boolean).join(' | ');
  return [
    `# ${runbook.title}`,
    '',
    `Symptoms and keywords: ${runbook.keywords.join(', ')}.`,
    '',
    runbook.body.replace(/^# .*\n/, ''),
    '',
    '## Diagnostics',
    ...runbook.diagnostics.map((d) => `- ${d.description} \`${variants(d.command)}\``),
    '',
    '## Root causes',
    ...runbook.hypotheses.map((h) => `- ${h.rootCause}`),
    '',
    '## Fixes',
    ...runbook.fixes.map((f) => `- (${f.risk} risk) ${f.description} \`${variants(f.command)}\``),
    '',
    '## Rollback',
    runbook.rollback,
    '',
    '## Prevention',
    ...runbook.prevention.map((p) => `- ${p}`),
  ].join('\n');
}
