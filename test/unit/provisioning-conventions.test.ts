import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_PROVISION_CONVENTIONS,
  loadProvisionConventions,
  ProvisionConventionsInvalid,
  ProvisionConventionsSchema,
} from '../../core/provisioning/conventions.js';
import { renderProvisionFiles } from '../../core/provisioning/templates/index.js';
import { fileNamed, sampleRequirements } from '../support/provisioning.js';

const dir = mkdtempSync(join(tmpdir(), 'infraai-conventions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('loadProvisionConventions', () => {
  it('is the validated defaults without a file', async () => {
    expect(ProvisionConventionsSchema.parse(DEFAULT_PROVISION_CONVENTIONS)).toEqual(DEFAULT_PROVISION_CONVENTIONS);
    expect(await loadProvisionConventions()).toBe(DEFAULT_PROVISION_CONVENTIONS);
  });

  it('merges a YAML file over the defaults, and the templates follow it', async () => {
    const path = write(
      'conventions.yaml',
      [
        'organisation: acme',
        'defaultRegion: eu-west-1',
        'naming:',
        '  environmentShort:',
        '    production: prd',
        'tags:',
        '  values:',
        '    cost-center: "1234"',
      ].join('\n'),
    );
    const conventions = await loadProvisionConventions(path);
    expect(conventions.defaultRegion).toBe('eu-west-1');
    expect(conventions.naming.environmentShort).toEqual({ dev: 'dev', staging: 'stg', production: 'prd' });
    expect(conventions.tags.required).toEqual(DEFAULT_PROVISION_CONVENTIONS.tags.required);
    const main = fileNamed(renderProvisionFiles(sampleRequirements('s3_bucket', { tags: {} }), conventions), 'main.tf');
    expect(main).toContain('"acme-prd-payments-s3"');
    expect(main).toContain('cost-center = "1234"');
  });

  it('reads JSON files too', async () => {
    const path = write('conventions.json', JSON.stringify({ production: { minBackupRetentionDays: 30 } }));
    expect((await loadProvisionConventions(path)).production).toEqual({ minBackupRetentionDays: 30, deletionProtection: true });
  });

  it('refuses a bad file with the file and what is wrong', async () => {
    const invalid = write('bad.yaml', 'sizes:\n  allowed:\n    dev: [small, gigantic]\ndefaultRegion: mars-1\nunknownKey: 1\n');
    const error = await loadProvisionConventions(invalid).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ProvisionConventionsInvalid);
    expect((error as ProvisionConventionsInvalid).message).toContain(invalid);
    expect((error as ProvisionConventionsInvalid).problems.join('\n')).toMatch(/sizes\.allowed\.dev\.1/);
    expect((error as ProvisionConventionsInvalid).problems.join('\n')).toMatch(/defaultRegion/);
    expect((error as ProvisionConventionsInvalid).problems.join('\n')).toMatch(/unknownKey/);

    await expect(loadProvisionConventions(write('broken.json', '{"organisation": '))).rejects.toThrow(/is not valid JSON/);
    await expect(loadProvisionConventions(write('list.yaml', '- a\n- b\n'))).rejects.toThrow(/top level must be an object/);
    await expect(loadProvisionConventions(join(dir, 'absent.yaml'))).rejects.toThrow(/cannot be read/);
    await expect(loadProvisionConventions(write('region.yaml', 'allowedRegions: [us-east-1]\n'))).rejects.toThrow(
      /defaultRegion must be one of allowedRegions/,
    );
  });
});
