import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHcl, validateProvisionFiles } from '../../core/provisioning/hcl.js';
import { evaluateProvisionPolicy } from '../../core/provisioning/policy.js';
import { provisionDirectory, renderProvisionFiles } from '../../core/provisioning/templates/index.js';
import { PROVISION_ENVIRONMENTS, PROVISION_RESOURCE_TYPES, type ProvisionFile } from '../../core/provisioning/types.js';
import { fileNamed, sampleRequirements } from '../support/provisioning.js';

// Every template renders four files that HashiCorp's HCL parser reads, that hold what the template
// declares, and that pass the policy in every environment; rendering is canonical and stable.

// HashiCorp's terraform binary is on some machines but cannot be installed from the registries this
// project installs from (npm, PyPI, Debian): where it is present, its `fmt` checks our formatting too;
// where it is not, the HCL parser (hcl2json) and the alignment checks below still run.
const TERRAFORM = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;

/** Each run of consecutive one-line `key = value` lines at one indentation has its `=` in one column. */
function misalignedRuns(content: string): string[] {
  const problems: string[] = [];
  let run: Array<{ indent: number; column: number; line: string }> = [];
  const flush = () => {
    if (new Set(run.map((r) => r.column)).size > 1) problems.push(run.map((r) => r.line).join('\n'));
    run = [];
  };
  for (const line of content.split('\n')) {
    const match = /^( *)([\w"-]+)( +)= (?!\{$)/.exec(line);
    if (!match || (run[0] && run[0].indent !== (match[1] ?? '').length)) flush();
    if (match) run.push({ indent: (match[1] ?? '').length, column: line.indexOf('='), line });
  }
  flush();
  return problems;
}

describe('renderProvisionFiles', () => {
  for (const resourceType of PROVISION_RESOURCE_TYPES)
    for (const environment of PROVISION_ENVIRONMENTS)
      it(`${resourceType} in ${environment}: parses, matches its schema and passes the policy`, async () => {
        const requirements = sampleRequirements(resourceType, { environment });
        const files = renderProvisionFiles(requirements);
        expect(files.map((f) => f.path)).toEqual(
          ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf'].map(
            (name) => `terraform/${environment}/${resourceType}/${requirements.name}/${name}`,
          ),
        );
        expect(await validateProvisionFiles(files)).toEqual([]);
        expect(await evaluateProvisionPolicy(files, requirements)).toEqual([]);
        for (const file of files) {
          expect(file.content.endsWith('\n') && !file.content.endsWith('\n\n')).toBe(true);
          expect(file.content).not.toMatch(/\t| +$/m);
          expect(misalignedRuns(file.content)).toEqual([]);
        }
      });

  it('renders the same bytes every time, with the tags merged in the conventions order', () => {
    const requirements = sampleRequirements('postgres_database', { tags: { 'cost-center': '42', 'data-class': 'pii' } });
    const first = renderProvisionFiles(requirements);
    expect(renderProvisionFiles(structuredClone(requirements))).toEqual(first);
    const main = fileNamed(first, 'main.tf');
    expect(main).toContain(
      [
        '  tags = {',
        '    team        = "billing"',
        '    service     = "payments"',
        '    environment = "production"',
        '    managed-by  = "infraai"',
        '    cost-center = "42"',
        '    data-class  = "pii"',
        '  }',
      ].join('\n'),
    );
    expect(main).toContain('  identifier            = "prod-payments-postgres"\n  engine                = "postgres"\n');
  });

  it('puts each request in terraform/<env>/<type>/<name> and names resources <env>-<name>', () => {
    const requirements = sampleRequirements('s3_bucket', { environment: 'staging', name: 'invoices' });
    expect(provisionDirectory(requirements)).toBe('terraform/staging/s3_bucket/invoices');
    expect(fileNamed(renderProvisionFiles(requirements), 'main.tf')).toContain('bucket        = "infraai-stg-invoices"');
  });

  it('escapes values so that none is read as a Terraform template or breaks the string', async () => {
    const requirements = sampleRequirements('dns_record', {
      options: { recordType: 'TXT', recordName: 'example.com', zone: 'example.com', recordValue: 'v=spf1 "quoted" ${var.x} %{if} \\ -all' },
    });
    const files = renderProvisionFiles(requirements);
    expect(await validateProvisionFiles(files)).toEqual([]);
    const main = fileNamed(files, 'main.tf');
    expect(main).toContain('records = ["v=spf1 \\"quoted\\" $${var.x} %%{if} \\\\ -all"]');
    // The parser reads one string literal (a reference would have made it an expression).
    const parsed = await parseHcl('main.tf', main);
    const record = (parsed.resource as Record<string, Record<string, Array<{ records: unknown }>>>).aws_route53_record?.this?.[0];
    expect(record?.records).toEqual([expect.stringMatching(/^v=spf1 "quoted" .*var\.x.* -all$/)]);
  });

  it.skipIf(!TERRAFORM)('is what `terraform fmt` leaves unchanged (when terraform is installed)', () => {
    const root = mkdtempSync(join(tmpdir(), 'infraai-fmt-'));
    try {
      const files: ProvisionFile[] = PROVISION_RESOURCE_TYPES.flatMap((type) =>
        PROVISION_ENVIRONMENTS.flatMap((environment) => renderProvisionFiles(sampleRequirements(type, { environment }))),
      );
      for (const file of files) {
        mkdirSync(dirname(join(root, file.path)), { recursive: true });
        writeFileSync(join(root, file.path), file.content);
      }
      const result = spawnSync('terraform', ['fmt', '-check', '-recursive', '-diff', root], { encoding: 'utf8' });
      expect(result.stdout).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('validateProvisionFiles', () => {
  it('reports a file that is not HCL with its line, a missing file and a missing required attribute', async () => {
    const files = renderProvisionFiles(sampleRequirements('postgres_database'));
    const broken = files.map((f) => (f.path.endsWith('/outputs.tf') ? { ...f, content: `${f.content}output "x" {\n  value = \n` } : f));
    const findings = await validateProvisionFiles(broken);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ file: expect.stringMatching(/outputs\.tf$/), message: expect.stringMatching(/^not valid HCL/) });
    expect(findings[0]?.line).toBeGreaterThan(10);

    const withoutVersions = files.filter((f) => !f.path.endsWith('/versions.tf'));
    expect((await validateProvisionFiles(withoutVersions)).map((f) => f.message)).toEqual(['versions.tf is missing']);

    const main = fileNamed(files, 'main.tf');
    const lacking = files.map((f) => (f.path.endsWith('/main.tf') ? { ...f, content: main.replace(/^ *storage_encrypted .*\n/m, '') } : f));
    expect((await validateProvisionFiles(lacking)).map((f) => f.message)).toEqual([
      expect.stringMatching(/aws_db_instance\.this: storage_encrypted/),
    ]);
  });

  it('refuses a block in the wrong file and a resource the template does not produce', async () => {
    const files = renderProvisionFiles(sampleRequirements('sqs_queue'));
    const moved = files.map((f) =>
      f.path.endsWith('/variables.tf') ? { ...f, content: `${f.content}\nresource "aws_s3_bucket" "x" {}\n` } : f,
    );
    expect((await validateProvisionFiles(moved)).map((f) => f.message)).toEqual(['a resource block does not belong in variables.tf']);
    const emptied = files.map((f) => (f.path.endsWith('/main.tf') ? { ...f, content: 'provider "aws" {}\n' } : f));
    expect((await validateProvisionFiles(emptied)).map((f) => f.message)).toEqual(['no aws_sqs_queue resource']);
  });
});
