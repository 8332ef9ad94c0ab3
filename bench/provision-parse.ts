import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { parseProvisionRequest } from '../core/provisioning/grammar.js';
import { PROVISION_ENVIRONMENTS, type ProvisionParseOutcome } from '../core/provisioning/types.js';

// The grammar (core/provisioning/grammar.ts) scored against the request fixture: a request counts
// when its requirements equal the expected ones exactly; an ambiguous request counts when it is
// refused with exactly the expected missing fields. `npm run bench:provision` reports the share;
// run directly it prints the score and the misses:
//   npx tsx bench/provision-parse.ts [test/fixtures/provisioning/requests.json]

export const PROVISION_REQUESTS_FIXTURE = 'test/fixtures/provisioning/requests.json';

const Defaults = z.object({ environment: z.enum(PROVISION_ENVIRONMENTS).optional(), requester: z.string().nullable().optional() });
const Fixture = z.object({
  requests: z.array(z.object({ text: z.string(), defaults: Defaults.optional(), expected: z.record(z.string(), z.unknown()) })),
  ambiguous: z.array(z.object({ text: z.string(), defaults: Defaults.optional(), missing: z.array(z.string()).min(1) })),
});

export interface GrammarMiss {
  text: string;
  expected: unknown;
  got: ProvisionParseOutcome;
}

export interface GrammarScore {
  total: number;
  exact: number;
  share: number;
  /** The same, for the unambiguous requests and the ambiguous ones apart. */
  requests: { total: number; exact: number };
  ambiguous: { total: number; exact: number };
  misses: GrammarMiss[];
}

export async function measureGrammar(fixturePath: string = PROVISION_REQUESTS_FIXTURE): Promise<GrammarScore> {
  const fixture = Fixture.parse(JSON.parse(await readFile(fixturePath, 'utf8')));
  const misses: GrammarMiss[] = [];
  let requestsExact = 0;
  for (const item of fixture.requests) {
    const got = parseProvisionRequest(item.text, item.defaults ?? {});
    if (got.ok && isDeepStrictEqual({ ...got.requirements }, item.expected)) requestsExact++;
    else misses.push({ text: item.text, expected: item.expected, got });
  }
  let ambiguousExact = 0;
  for (const item of fixture.ambiguous) {
    const got = parseProvisionRequest(item.text, item.defaults ?? {});
    if (!got.ok && isDeepStrictEqual([...got.missing].sort(), [...item.missing].sort())) ambiguousExact++;
    else misses.push({ text: item.text, expected: { missing: item.missing }, got });
  }
  const total = fixture.requests.length + fixture.ambiguous.length;
  const exact = requestsExact + ambiguousExact;
  return {
    total,
    exact,
    share: total === 0 ? 0 : exact / total,
    requests: { total: fixture.requests.length, exact: requestsExact },
    ambiguous: { total: fixture.ambiguous.length, exact: ambiguousExact },
    misses,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const score = await measureGrammar(process.argv[2] ?? PROVISION_REQUESTS_FIXTURE);
  console.log(
    `grammar: ${score.exact}/${score.total} exact (${(score.share * 100).toFixed(1)}%); requests ${score.requests.exact}/${score.requests.total}, ambiguous ${score.ambiguous.exact}/${score.ambiguous.total}`,
  );
  for (const miss of score.misses)
    console.log(`miss: ${miss.text}\n  expected ${JSON.stringify(miss.expected)}\n  got      ${JSON.stringify(miss.got)}`);
}
