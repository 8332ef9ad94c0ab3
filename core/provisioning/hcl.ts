import { createRequire } from 'node:module';

// Loaded without its type declarations: they reference the DOM lib, which would then type the
// whole project's Blob, File and fetch as a browser's. Its one call we use, typed here.
const { parse } = createRequire(import.meta.url)('@cdktf/hcl2json') as {
  parse(filename: string, contents: string): Promise<Record<string, unknown>>;
};
import { z } from 'zod';
import { PROVISION_FILE_NAMES, PROVISION_TEMPLATES } from './templates/index.js';
import { PROVISION_RESOURCE_TYPES, type ProvisionFile, type ProvisionResourceType } from './types.js';

// Generated files read back with a real HCL parser (HashiCorp's own hcl, compiled to WebAssembly in
// @cdktf/hcl2json) and checked against what their template declares: every file parses, each file
// holds only its kind of block, and main.tf has each expected resource with its required attributes.
// The policy (policy.ts) evaluates the same parsed form.

export interface ProvisionValidationFinding {
  file: string;
  line: number | null;
  message: string;
}
export type ValidationFinding = ProvisionValidationFinding;

/** hcl2json's JSON: blocks by type, then labels, each a list of bodies. */
export type ParsedHcl = Record<string, unknown>;

const blockBodies = z.array(z.record(z.string(), z.unknown()));
const labelled = z.record(z.string(), blockBodies);
const FileShape = z.looseObject({
  resource: z.record(z.string(), labelled).optional(),
  data: z.record(z.string(), labelled).optional(),
  variable: labelled.optional(),
  output: labelled.optional(),
  provider: labelled.optional(),
  terraform: blockBodies.optional(),
});
/** Which top-level blocks each file may hold. */
const FILE_BLOCKS: Record<(typeof PROVISION_FILE_NAMES)[number], string[]> = {
  'main.tf': ['provider', 'resource', 'data', 'locals'],
  'variables.tf': ['variable'],
  'outputs.tf': ['output'],
  'versions.tf': ['terraform'],
};
const Versions = z.looseObject({
  terraform: z
    .array(
      z.looseObject({
        required_providers: z
          .array(z.looseObject({ aws: z.looseObject({ source: z.literal('hashicorp/aws'), version: z.string() }) }))
          .min(1),
      }),
    )
    .length(1),
});

/** Parses one file's text; throws with the parser's message (file:line,col) when it is not HCL. */
export async function parseHcl(file: string, content: string): Promise<ParsedHcl> {
  return (await parse(file, content)) as ParsedHcl;
}

/** The resource type a file belongs to, from its path (`terraform/<env>/<type>/<name>/<file>`). */
export function resourceTypeOfPath(path: string): ProvisionResourceType | null {
  const type = path.split('/').at(-3);
  return (PROVISION_RESOURCE_TYPES as readonly string[]).includes(type ?? '') ? (type as ProvisionResourceType) : null;
}

function lineOfParserError(message: string): number | null {
  const match = /:(\d+),\d+/.exec(message);
  return match?.[1] ? Number(match[1]) : null;
}

/** Every file parsed, in order; a file that does not parse is reported and left out. */
export async function parseProvisionFiles(
  files: readonly ProvisionFile[],
): Promise<{ parsed: Map<string, ParsedHcl>; findings: ValidationFinding[] }> {
  const parsed = new Map<string, ParsedHcl>();
  const findings: ValidationFinding[] = [];
  // hcl2json runs one Go (wasm) instance: parse one file at a time.
  for (const file of files) {
    try {
      parsed.set(file.path, await parseHcl(file.path, file.content));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      findings.push({ file: file.path, line: lineOfParserError(message), message: `not valid HCL: ${message}` });
    }
  }
  return { parsed, findings };
}

/**
 * Findings about generated files: unparsable HCL, a missing or unexpected file, a block in the wrong
 * file, a template resource missing or missing a required attribute. Empty when all is well.
 */
export async function validateProvisionFiles(files: readonly ProvisionFile[]): Promise<ValidationFinding[]> {
  const { parsed, findings } = await parseProvisionFiles(files);
  const directories = new Set(files.map((f) => f.path.slice(0, f.path.lastIndexOf('/'))));
  for (const directory of directories) {
    const type = resourceTypeOfPath(`${directory}/x`);
    if (!type) {
      findings.push({ file: directory, line: null, message: `${directory} is not terraform/<environment>/<resource type>/<name>` });
      continue;
    }
    for (const name of PROVISION_FILE_NAMES)
      if (!files.some((f) => f.path === `${directory}/${name}`))
        findings.push({ file: `${directory}/${name}`, line: null, message: `${name} is missing` });
  }
  for (const file of files) {
    const json = parsed.get(file.path);
    if (!json) continue;
    const name = file.path.split('/').at(-1) as (typeof PROVISION_FILE_NAMES)[number];
    const allowed = FILE_BLOCKS[name];
    if (!allowed) {
      findings.push({ file: file.path, line: null, message: `unexpected file ${name}` });
      continue;
    }
    const shape = FileShape.safeParse(json);
    if (!shape.success) {
      findings.push({ file: file.path, line: null, message: `unexpected block structure: ${shape.error.issues[0]?.message ?? ''}` });
      continue;
    }
    for (const key of Object.keys(json))
      if (!allowed.includes(key)) findings.push({ file: file.path, line: null, message: `a ${key} block does not belong in ${name}` });
    if (name === 'versions.tf' && !Versions.safeParse(json).success)
      findings.push({
        file: file.path,
        line: null,
        message: 'versions.tf must pin the hashicorp/aws provider under terraform.required_providers',
      });
    const type = resourceTypeOfPath(file.path);
    if (name === 'main.tf' && type) findings.push(...checkTemplateSchema(file, json, type));
  }
  return findings;
}

function checkTemplateSchema(file: ProvisionFile, json: ParsedHcl, type: ProvisionResourceType): ValidationFinding[] {
  const findings: ValidationFinding[] = [];
  const resources = (json.resource ?? {}) as Record<string, Record<string, Array<Record<string, unknown>>>>;
  for (const expected of PROVISION_TEMPLATES[type].schema) {
    const instances = resources[expected.type];
    if (!instances || Object.keys(instances).length === 0) {
      findings.push({ file: file.path, line: null, message: `no ${expected.type} resource` });
      continue;
    }
    for (const [label, bodies] of Object.entries(instances))
      for (const body of bodies) {
        const result = expected.attributes.safeParse(body);
        if (!result.success)
          for (const issue of result.error.issues)
            findings.push({
              file: file.path,
              line: lineOf(file.content, expected.type, label, String(issue.path[0] ?? '')),
              message: `${expected.type}.${label}: ${issue.path.join('.') || '(block)'}: ${issue.message}`,
            });
      }
  }
  return findings;
}

/**
 * The 1-based line of `resource "<type>" "<label>"` in `content`, or of its attribute or nested
 * block `attribute` when given and present. `null` when the block is not there.
 */
export function lineOf(content: string, type: string, label: string, attribute?: string, kind = 'resource'): number | null {
  const lines = content.split('\n');
  const head = new RegExp(`^\\s*${kind}\\s+"${escape(type)}"\\s+"${escape(label)}"\\s*\\{`);
  const start = lines.findIndex((line) => head.test(line));
  if (start < 0) return null;
  if (!attribute) return start + 1;
  const wanted = new RegExp(`^\\s*${escape(attribute)}\\s*(?:=|\\{)`);
  let depth = 0;
  for (let index = start; index < lines.length; index++) {
    const line = lines[index] ?? '';
    // Only the block's own attributes (depth 1) count, not a same-named key in a nested map.
    if (index > start && depth === 1 && wanted.test(line)) return index + 1;
    depth += countBraces(line);
    if (index > start && depth <= 0) break;
  }
  return start + 1;
}

function countBraces(line: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === '\\' && inString) i++;
    else if (char === '"') inString = !inString;
    else if (!inString && char === '{') depth++;
    else if (!inString && char === '}') depth--;
  }
  return depth;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
