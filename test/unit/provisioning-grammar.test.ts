import { describe, expect, it } from 'vitest';
import { measureGrammar, PROVISION_REQUESTS_FIXTURE } from '../../bench/provision-parse.js';
import { mergeProvisionConventions } from '../../core/provisioning/conventions.js';
import { parseProvisionRequest } from '../../core/provisioning/grammar.js';

// The grammar against the request fixture (test/fixtures/provisioning/requests.json), and the cases
// where the conventions change what a request must say.

describe('parseProvisionRequest', () => {
  it('reads ≥ 90% of the fixture exactly (requirements, or the missing fields of ambiguous requests)', async () => {
    const score = await measureGrammar(PROVISION_REQUESTS_FIXTURE);
    console.log(`provisioning grammar: ${score.exact}/${score.total} exact (${(score.share * 100).toFixed(1)}%)`);
    expect(score.requests.total).toBeGreaterThanOrEqual(45);
    expect(score.ambiguous.total).toBeGreaterThanOrEqual(8);
    expect(
      score.share,
      `misses:\n${score.misses.map((m) => `${m.text}\n  expected ${JSON.stringify(m.expected)}\n  got ${JSON.stringify(m.got)}`).join('\n')}`,
    ).toBeGreaterThanOrEqual(0.9);
  });

  it('never returns requirements for an ambiguous request, and says what is missing', async () => {
    const outcome = parseProvisionRequest('a DNS record for api.example.com in production', {});
    expect(outcome).toMatchObject({ ok: false, missing: ['recordValue'] });
    expect(!outcome.ok && outcome.message).toMatch(/points to/);
    const two = parseProvisionRequest('a redis cache and an eks cluster for checkout in prod', {});
    expect(two).toMatchObject({ ok: false, missing: ['resourceType'] });
    expect(!two.ok && two.message).toMatch(/one resource per request/);
  });

  it('takes the environment from the caller when the request names none, and the request wins over it', () => {
    const fallback = parseProvisionRequest('a bucket named reports', { environment: 'staging' });
    expect(fallback.ok && fallback.requirements.environment).toBe('staging');
    const stated = parseProvisionRequest('a bucket named reports in production', { environment: 'dev' });
    expect(stated.ok && stated.requirements.environment).toBe('production');
  });

  it('does not read keywords inside names, tag values or host names', () => {
    const outcome = parseProvisionRequest('a bucket named prod-db-exports in dev tagged env=production', {});
    expect(outcome).toMatchObject({
      ok: true,
      requirements: { resourceType: 's3_bucket', name: 'prod-db-exports', environment: 'dev', tags: { env: 'production' } },
    });
  });

  it('reads a storage size only where it stands on its own, and refuses one RDS cannot allocate', () => {
    // "0g" inside the team's name is not a size (the property test found it as allocated_storage = 0).
    expect(parseProvisionRequest('a small postgres database for the a0 service in prod owned by the a-0g-0 team', {})).toMatchObject({
      ok: true,
      requirements: { team: 'a-0g-0', options: {} },
    });
    expect(parseProvisionRequest('a postgres database named x1 in dev with 500 GB', {})).toMatchObject({
      ok: true,
      requirements: { options: { storageGb: 500 } },
    });
    expect(parseProvisionRequest('a postgres database named x1 in dev with 2TB of storage', {})).toMatchObject({
      ok: true,
      requirements: { options: { storageGb: 2048 } },
    });
    expect(parseProvisionRequest('a postgres database named x1 in dev with 0 GB', {})).toMatchObject({ ok: false, missing: ['storageGb'] });
    expect(parseProvisionRequest('a mysql database named x1 in dev with 5gb', {})).toMatchObject({ ok: false, missing: ['storageGb'] });
  });

  it('makes the team part of the request when the conventions have no default team', () => {
    const conventions = mergeProvisionConventions({ tags: { defaultTeam: null } });
    expect(parseProvisionRequest('a postgres database for the payments API in prod', {}, conventions)).toMatchObject({
      ok: false,
      missing: ['team'],
    });
    expect(
      parseProvisionRequest('a postgres database for the payments API in prod owned by the billing team', {}, conventions),
    ).toMatchObject({
      ok: true,
      requirements: { team: 'billing' },
    });
  });

  it('asks for a tag the conventions require and cannot fill, and records the requester when asked to', () => {
    const conventions = mergeProvisionConventions({
      tags: { required: ['team', 'service', 'environment', 'managed-by', 'cost-center', 'requested-by'] },
    });
    expect(parseProvisionRequest('an sqs queue for orders in dev', { requester: 'alice' }, conventions)).toMatchObject({
      ok: false,
      missing: ['tags.cost-center'],
    });
    expect(
      parseProvisionRequest('an sqs queue for orders in dev tagged cost-center=42', { requester: 'alice' }, conventions),
    ).toMatchObject({
      ok: true,
      requirements: { tags: { 'cost-center': '42', 'requested-by': 'alice' } },
    });
  });

  it('refuses a region outside the conventions, an instance class they do not know and an over-long request', () => {
    const conventions = mergeProvisionConventions({ allowedRegions: ['eu-central-1'] });
    expect(parseProvisionRequest('a bucket named x1 in dev in us-east-1', {}, conventions)).toMatchObject({
      ok: false,
      missing: ['region'],
    });
    expect(parseProvisionRequest('a postgres database named x1 on db.r5.24xlarge in dev', {})).toMatchObject({
      ok: false,
      missing: ['size'],
    });
    expect(parseProvisionRequest('a postgres database named x1 on db.m6g.large in dev', {})).toMatchObject({
      ok: true,
      requirements: { size: 'medium' },
    });
    expect(parseProvisionRequest(`a bucket named x1 in dev ${'x'.repeat(3000)}`, {})).toMatchObject({ ok: false, missing: ['request'] });
    expect(parseProvisionRequest('a bucket named x1 in dev tagged owner=${var.x}', {})).toMatchObject({
      ok: false,
      missing: ['tags.owner'],
    });
  });
});
