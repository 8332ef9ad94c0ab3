import { z } from 'zod';
import { resourceName, sizeClass, type ProvisionConventions } from '../conventions.js';
import type { ProvisionRequirements } from '../types.js';
import { output, providerBlock, reference, regionVariable, tagMap, tagsAttribute, variable, type ProvisionTemplate } from './common.js';
import { attr, block, expr, gap } from './hcl-writer.js';

// An RDS instance (PostgreSQL or MySQL): encrypted, private, its master password kept by RDS in
// Secrets Manager (no password in the repository or the state), backups and deletion protection
// from the conventions per environment.

type Engine = 'postgres' | 'mysql';

function renderDatabase(engine: Engine, requirements: ProvisionRequirements, conventions: ProvisionConventions) {
  const identifier = resourceName(requirements, conventions);
  const production = requirements.environment === 'production';
  const spec = conventions.engines[engine];
  const option = requirements.options;
  const storage = typeof option.storageGb === 'number' ? option.storageGb : conventions.sizes.databaseStorageGb[requirements.size];
  const protect = production && conventions.production.deletionProtection;
  const main = [
    providerBlock(),
    block(
      'resource',
      ['aws_db_instance', 'this'],
      [
        attr('identifier', identifier),
        attr('engine', engine),
        attr('engine_version', typeof option.engineVersion === 'string' ? option.engineVersion : spec.defaultVersion),
        attr('instance_class', sizeClass(requirements.resourceType, requirements.size, conventions) ?? ''),
        attr('allocated_storage', storage),
        attr('max_allocated_storage', storage * 2),
        attr('storage_type', 'gp3'),
        attr('storage_encrypted', true),
        gap,
        attr('db_name', requirements.name.replace(/-/g, '_')),
        attr('username', expr('var.master_username')),
        attr('manage_master_user_password', true),
        attr('db_subnet_group_name', expr('var.db_subnet_group_name')),
        attr('vpc_security_group_ids', expr('var.vpc_security_group_ids')),
        attr('publicly_accessible', false),
        attr('iam_database_authentication_enabled', true),
        attr('multi_az', option.multiAz === true || production),
        gap,
        attr('backup_retention_period', conventions.backups.retentionDays[requirements.environment]),
        attr('copy_tags_to_snapshot', true),
        attr('deletion_protection', protect),
        attr('skip_final_snapshot', !production),
        production && attr('final_snapshot_identifier', `${identifier}-final`),
        attr('auto_minor_version_upgrade', true),
        attr('enabled_cloudwatch_logs_exports', engine === 'postgres' ? ['postgresql', 'upgrade'] : ['error', 'slowquery']),
        gap,
        tagsAttribute(requirements, conventions),
      ],
    ),
  ];
  const variables = [
    regionVariable(requirements),
    variable('master_username', 'string', 'Master user of the database; RDS keeps its password in Secrets Manager.', 'app_admin'),
    variable('db_subnet_group_name', 'string', 'DB subnet group of the private subnets the database runs in.'),
    variable('vpc_security_group_ids', 'list(string)', 'Security groups allowed to reach the database.'),
  ];
  const outputs = [
    output('endpoint', 'aws_db_instance.this.endpoint', 'Host and port of the database.'),
    output('arn', 'aws_db_instance.this.arn', 'ARN of the database instance.'),
    output(
      'master_user_secret_arn',
      'aws_db_instance.this.master_user_secret[0].secret_arn',
      'Secrets Manager secret of the master password.',
      true,
    ),
  ];
  return { main, variables, outputs };
}

const dbInstance = (engine: Engine) =>
  z.looseObject({
    identifier: z.string().min(1),
    engine: z.literal(engine),
    engine_version: z.string().min(1),
    instance_class: z.string().regex(/^db\./),
    allocated_storage: z.number().int().positive(),
    storage_encrypted: z.boolean(),
    manage_master_user_password: z.literal(true),
    publicly_accessible: z.boolean(),
    backup_retention_period: z.number().int().min(0),
    deletion_protection: z.boolean(),
    db_subnet_group_name: reference,
    tags: tagMap,
  });

export const databaseTemplate = (engine: Engine): ProvisionTemplate => ({
  render: (requirements, conventions) => renderDatabase(engine, requirements, conventions),
  schema: [{ type: 'aws_db_instance', attributes: dbInstance(engine) }],
});
