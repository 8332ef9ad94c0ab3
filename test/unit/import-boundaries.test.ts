import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The lint rule keeps api/ and activities/ on port files; this follows the static runtime imports
// (`import type` is erased, a dynamic import() loads only when called) from each entry point and
// lists the packages that loading it loads, so a vendor SDK reached through any chain shows up.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VENDOR_SDKS = [
  'ssh2',
  '@kubernetes/client-node',
  'openai',
  '@anthropic-ai/sdk',
  '@pinecone-database/pinecone',
  '@infisical/sdk',
  '@supabase/supabase-js',
  'pdf-parse',
  'pg',
  '@electric-sql/pglite',
  'minisearch',
  'prom-client',
  // The MCP server side loads on the first /mcp request (api/mcp/routes.ts); the client lives in adapters/mcp.
  '@modelcontextprotocol/sdk',
  '@octokit/rest',
];

const RUNTIME_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function packagesLoadedBy(entry: string): { packages: Set<string>; via: Map<string, string> } {
  const packages = new Set<string>();
  const via = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(RUNTIME_IMPORT)) {
      const spec = match[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        packages.add(name);
        if (!via.has(name)) via.set(name, file.slice(ROOT.length));
      }
    }
  };
  visit(resolve(ROOT, entry));
  return { packages, via };
}

describe('import boundaries', () => {
  // The chat tools load their integration's client on first use (a dynamic import of create.ts).
  for (const entry of [
    'api/app.ts',
    'activities/index.ts',
    'workflows/index.ts',
    'tools/github.ts',
    'tools/jira.ts',
    'tools/confluence.ts',
  ]) {
    it(`${entry} loads no vendor SDK`, () => {
      const { packages, via } = packagesLoadedBy(entry);
      const loaded = VENDOR_SDKS.filter((sdk) => packages.has(sdk)).map((sdk) => `${sdk} (imported by ${via.get(sdk)})`);
      expect(loaded).toEqual([]);
    });
  }

  it('finds an SDK where one is imported (the walk itself works)', () => {
    expect(packagesLoadedBy('adapters/ssh/create.ts').packages.has('ssh2')).toBe(true);
    expect(packagesLoadedBy('wiring.ts').packages.has('@kubernetes/client-node')).toBe(true);
    expect(packagesLoadedBy('adapters/github/octokit.ts').packages.has('@octokit/rest')).toBe(true);
  });
});
