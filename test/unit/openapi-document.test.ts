import { fileURLToPath } from 'node:url';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../support/openapi-document.js';

// Frontends and SDKs are generated from /openapi.json: it must lint clean (Redocly's recommended
// rules, redocly.yaml at the repo root) and name, secure and answer every operation completely.

const CONFIG = fileURLToPath(new URL('../../redocly.yaml', import.meta.url));

type Operation = { operationId?: string; security?: unknown[]; responses: Record<string, unknown> };
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function operations(doc: Record<string, unknown>): [string, Operation][] {
  const paths = doc.paths as Record<string, Record<string, Operation>>;
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]): [string, Operation] => [`${method.toUpperCase()} ${path}`, operation]),
  );
}

describe('the OpenAPI document', () => {
  it('passes Redocly lint with no errors and no warnings', async () => {
    const doc = await openApiDocument();
    const config = await createConfig(await readFile(CONFIG, 'utf8'), { configPath: CONFIG });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
    const lines = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location.map((l) => l.pointer).join(', ')}`);
    expect(lines).toEqual([]);

    // The linter reads this document: the same one without an operationId is reported.
    const paths = doc.paths as Record<string, Record<string, Operation>>;
    delete paths['/api/v1/me']!.get!.operationId;
    const broken = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
    expect(broken.map((p) => p.ruleId)).toContain('operation-operationId');
  });

  it('gives every operation a unique camelCase operationId, security, and problem responses for its 4xx', async () => {
    const doc = await openApiDocument();
    const ops = operations(doc);
    expect(ops.length).toBe(96);
    const ids = ops.map(([, op]) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ops.length);
    for (const [name, op] of ops) {
      expect(Array.isArray(op.security), name).toBe(true);
      const isPublic = ['GET /health', 'GET /livez', 'GET /readyz', 'GET /openapi.json'].includes(name);
      expect(op.security!.length === 0, name).toBe(isPublic);
      if (name === 'GET /metrics') {
        // Its own optional token (INFRAAI_METRICS_TOKEN), never the API's keys; the store is not asked.
        expect(op.security, name).toEqual([{}, { metricsToken: [] }]);
        expect(Object.keys(op.responses), name).toContain('401');
      } else if (!isPublic) expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(['401', '503']));
      for (const [status, response] of Object.entries(op.responses)) {
        if (!/^4/.test(status)) continue;
        expect(Object.keys((response as { content: object }).content), `${name} ${status}`).toEqual(['application/problem+json']);
      }
    }
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
  });
});
