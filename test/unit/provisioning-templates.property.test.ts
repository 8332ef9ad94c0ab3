import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROVISION_CONVENTIONS } from '../../core/provisioning/conventions.js';
import { parseProvisionRequest } from '../../core/provisioning/grammar.js';
import { validateProvisionFiles } from '../../core/provisioning/hcl.js';
import { evaluateProvisionPolicy } from '../../core/provisioning/policy.js';
import { renderProvisionFiles } from '../../core/provisioning/templates/index.js';
import { PROVISION_ENVIRONMENTS, type ProvisionRequirements } from '../../core/provisioning/types.js';

// Whatever a request says, if the grammar accepts it, the rendered files parse, hold what their
// template declares, and fail the policy only where the request itself breaks a rule (a size the
// environment does not allow, a public bucket). Requests are built from real phrasings, with
// names, tags and values drawn at random, some of them hostile to HCL (quotes, `${`, backslashes).

const resource = fc.constantFrom(
  'a postgres database',
  'a PostgreSQL 15 db',
  'a mysql 8.0 database',
  'an RDS database',
  'an S3 bucket',
  'a versioned bucket',
  'a public bucket',
  'an SQS queue',
  'a FIFO queue with a dead-letter queue',
  'a redis cache with 2 replicas',
  'an EKS cluster with 4 nodes',
  'a kubernetes 1.30 cluster',
);
const dnsValue = fc.oneof(
  fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `an A record for api.example.com pointing to 10.${a}.${b}.1`),
  fc.stringMatching(/^[a-z]{1,12}$/).map((host) => `a CNAME www.example.com pointing to ${host}.example.net`),
  fc.string({ maxLength: 40 }).map((text) => `a TXT record for example.com with value "${text.replace(/["\n\r\u201c\u201d]/g, '')}"`),
);
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
const fragments = fc.record({
  what: fc.oneof({ weight: 4, arbitrary: resource }, { weight: 1, arbitrary: dnsValue }),
  naming: fc.oneof(
    name.map((n) => `named ${n}`),
    name.map((n) => `for the ${n} service`),
  ),
  environment: fc.constantFrom('in prod', 'in production', 'in staging', 'in dev', 'for development', ''),
  size: fc.constantFrom('small', 'medium', 'large', 'tiny', 'big', ''),
  team: fc.option(name.map((n) => `owned by the ${n} team`)),
  tag: fc.option(
    fc
      .tuple(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
        fc.oneof(
          { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:/+@-]{1,12}$/) },
          { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9${}\\%._-]{1,12}$/) },
        ),
      )
      .map(([k, v]) => `tagged ${k}=${v}`),
  ),
  region: fc.constantFrom('', 'in eu-west-1', 'in Frankfurt', 'in us-east-2'),
});

describe('rendered Terraform (property)', () => {
  it('any accepted request renders valid HCL that passes every rule it does not itself break', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fragments, fc.constantFrom(...PROVISION_ENVIRONMENTS), async (f, fallback) => {
        const text = [f.size, f.what, f.naming, f.environment, f.team ?? '', f.tag ?? '', f.region].filter(Boolean).join(' ');
        const outcome = parseProvisionRequest(text, { environment: fallback });
        if (!outcome.ok) return;
        accepted++;
        const requirements: ProvisionRequirements = outcome.requirements;
        const files = renderProvisionFiles(requirements);
        expect(await validateProvisionFiles(files), text).toEqual([]);
        const expected = new Set<string>();
        const sized = requirements.resourceType in DEFAULT_PROVISION_CONVENTIONS.sizes.classes;
        if (sized && !DEFAULT_PROVISION_CONVENTIONS.sizes.allowed[requirements.environment].includes(requirements.size))
          expected.add('allowed_sizes');
        if (requirements.options.public === true) expected.add('no_public_buckets');
        const rules = new Set((await evaluateProvisionPolicy(files, requirements)).map((finding) => finding.rule));
        expect([...rules].sort(), text).toEqual([...expected].sort());
      }),
      { numRuns: 60 },
    );
    // The property says something only if a good share of generated requests is accepted (about 80% are).
    expect(accepted).toBeGreaterThanOrEqual(20);
  }, 120_000);
});
