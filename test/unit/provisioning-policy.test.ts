import { describe, expect, it } from 'vitest';
import { mergeProvisionConventions } from '../../core/provisioning/conventions.js';
import { parseProvisionRequest } from '../../core/provisioning/grammar.js';
import { evaluateProvisionPolicy, PROVISION_POLICY_RULES } from '../../core/provisioning/policy.js';
import { renderProvisionFiles } from '../../core/provisioning/templates/index.js';
import type { ProvisionFile, ProvisionRequirements } from '../../core/provisioning/types.js';
import { fileNamed, sampleRequirements } from '../support/provisioning.js';

// Each declared rule refuses a request (or a hand-edited file) that breaks it, naming the file and
// the line of the offending attribute; the rules read parsed HCL, so text that only looks right
// (a comment) does not satisfy them.

/** The 1-based line of the first line of `content` matching `pattern`. */
function lineMatching(content: string, pattern: RegExp): number {
  const index = content.split('\n').findIndex((line) => pattern.test(line));
  if (index < 0) throw new Error(`no line matches ${pattern}`);
  return index + 1;
}

function editMain(files: ProvisionFile[], edit: (content: string) => string): ProvisionFile[] {
  return files.map((f) => (f.path.endsWith('/main.tf') ? { ...f, content: edit(f.content) } : f));
}

function parsed(text: string, environment?: ProvisionRequirements['environment']): ProvisionRequirements {
  const outcome = parseProvisionRequest(text, environment ? { environment } : {});
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.requirements;
}

describe('evaluateProvisionPolicy', () => {
  it('declares the six rules of the conventions', () => {
    expect(PROVISION_POLICY_RULES.map((r) => r.id)).toEqual([
      'required_tags',
      'no_public_buckets',
      'encryption_at_rest',
      'backups_in_production',
      'deletion_protection_in_production',
      'allowed_sizes',
    ]);
  });

  it('no_public_buckets: refuses a bucket asked to be public, at each open setting', async () => {
    const requirements = parsed('Make a public S3 bucket called marketing-site in production');
    const files = renderProvisionFiles(requirements);
    const findings = await evaluateProvisionPolicy(files, requirements);
    const main = fileNamed(files, 'main.tf');
    expect(findings.map((f) => [f.rule, f.severity, f.line, f.resource])).toEqual(
      ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'].map((key) => [
        'no_public_buckets',
        'error',
        lineMatching(main, new RegExp(`^  ${key} `)),
        'aws_s3_bucket_public_access_block.this',
      ]),
    );
    expect(findings[0]?.file).toBe('terraform/production/s3_bucket/marketing-site/main.tf');
  });

  it('required_tags: refuses resources without a tag the conventions require', async () => {
    const conventions = mergeProvisionConventions({ tags: { required: ['team', 'service', 'environment', 'managed-by', 'data-class'] } });
    const requirements = sampleRequirements('sqs_queue', { options: { deadLetterQueue: true } });
    const files = renderProvisionFiles(requirements, conventions);
    const findings = await evaluateProvisionPolicy(files, requirements, conventions);
    const main = fileNamed(files, 'main.tf');
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'required_tags',
        resource: 'aws_sqs_queue.this',
        line: lineMatching(main, /^ {2}tags = \{/),
        message: 'missing required tag: data-class',
      }),
      expect.objectContaining({
        rule: 'required_tags',
        resource: 'aws_sqs_queue.dead_letter',
        message: 'missing required tag: data-class',
      }),
    ]);
    // With the tag in the request, the same conventions pass.
    const tagged = { ...requirements, tags: { 'data-class': 'internal' } };
    expect(await evaluateProvisionPolicy(renderProvisionFiles(tagged, conventions), tagged, conventions)).toEqual([]);
  });

  it('backups_in_production: refuses a production database whose backups are kept too briefly', async () => {
    const conventions = mergeProvisionConventions({ backups: { retentionDays: { production: 1 } } });
    const requirements = parsed('Create a postgres database for the payments API in production');
    const files = renderProvisionFiles(requirements, conventions);
    const findings = await evaluateProvisionPolicy(files, requirements, conventions);
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'backups_in_production',
        line: lineMatching(fileNamed(files, 'main.tf'), /^ {2}backup_retention_period /),
        message: 'backup_retention_period is 1; production keeps backups ≥ 7 days',
      }),
    ]);
    // The same files are fine outside production.
    const staging = { ...requirements, environment: 'staging' as const };
    expect(await evaluateProvisionPolicy(renderProvisionFiles(staging, conventions), staging, conventions)).toEqual([]);
  });

  it('deletion_protection_in_production: refuses a production database edited to drop its protection', async () => {
    const requirements = sampleRequirements('mysql_database');
    const files = editMain(renderProvisionFiles(requirements), (c) =>
      c.replace(/deletion_protection( +)= true/, 'deletion_protection$1= false'),
    );
    const findings = await evaluateProvisionPolicy(files, requirements);
    expect(findings.map((f) => [f.rule, f.line])).toEqual([
      ['deletion_protection_in_production', lineMatching(fileNamed(files, 'main.tf'), /^ {2}deletion_protection +=/)],
    ]);
  });

  it('allowed_sizes: refuses a large database in dev, at its instance class', async () => {
    const requirements = parsed('a large postgres database named big-db in dev');
    const files = renderProvisionFiles(requirements);
    const findings = await evaluateProvisionPolicy(files, requirements);
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'allowed_sizes',
        line: lineMatching(fileNamed(files, 'main.tf'), /^ {2}instance_class /),
        message: 'db.r6g.xlarge is not allowed in dev (allowed: small, medium = db.t4g.micro, db.m6g.large)',
      }),
    ]);
    expect(
      await evaluateProvisionPolicy(renderProvisionFiles({ ...requirements, environment: 'staging' }), {
        ...requirements,
        environment: 'staging',
      }),
    ).toEqual([]);
  });

  it('allowed_sizes: leaves resources without a size alone (a "large bucket" in dev)', async () => {
    const requirements = parsed('a large bucket named big-bucket in dev');
    expect(requirements.size).toBe('large');
    expect(await evaluateProvisionPolicy(renderProvisionFiles(requirements), requirements)).toEqual([]);
  });

  it('encryption_at_rest: reads the parsed attribute, so a comment saying it is on does not count', async () => {
    const requirements = sampleRequirements('postgres_database', { environment: 'dev' });
    const files = editMain(renderProvisionFiles(requirements), (c) =>
      c.replace(/^( *)storage_encrypted( +)= true$/m, '$1# storage_encrypted$2= true'),
    );
    expect((await evaluateProvisionPolicy(files, requirements)).map((f) => [f.rule, f.message])).toEqual([
      ['encryption_at_rest', 'storage_encrypted is not true'],
    ]);
    const queue = sampleRequirements('sqs_queue', { environment: 'dev' });
    const plainQueue = editMain(renderProvisionFiles(queue), (c) =>
      c.replace(/sqs_managed_sse_enabled( +)= true/g, 'sqs_managed_sse_enabled$1= false'),
    );
    expect((await evaluateProvisionPolicy(plainQueue, queue)).map((f) => [f.rule, f.resource])).toEqual([
      ['encryption_at_rest', 'aws_sqs_queue.this'],
      ['encryption_at_rest', 'aws_sqs_queue.dead_letter'],
    ]);
  });

  it('refuses files that do not parse (hcl_syntax) rather than passing them', async () => {
    const requirements = sampleRequirements('redis_cache');
    const files = editMain(renderProvisionFiles(requirements), (c) => c.replace('engine ', 'engine = = '));
    const findings = await evaluateProvisionPolicy(files, requirements);
    expect(findings.map((f) => [f.rule, f.severity])).toEqual([['hcl_syntax', 'error']]);
    expect(findings[0]?.line).toBe(lineMatching(fileNamed(files, 'main.tf'), /engine = =/));
  });
});
