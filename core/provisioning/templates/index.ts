import { DEFAULT_PROVISION_CONVENTIONS, provisionDirectory, type ProvisionConventions } from '../conventions.js';
import type { ProvisionFile, ProvisionRequirements, ProvisionResourceType } from '../types.js';
import { versionsFile, type ProvisionTemplate } from './common.js';
import { dnsRecordTemplate } from './dns-record.js';
import { eksClusterTemplate } from './eks-cluster.js';
import { printHcl } from './hcl-writer.js';
import { mysqlDatabaseTemplate } from './mysql-database.js';
import { postgresDatabaseTemplate } from './postgres-database.js';
import { redisCacheTemplate } from './redis-cache.js';
import { s3BucketTemplate } from './s3-bucket.js';
import { sqsQueueTemplate } from './sqs-queue.js';

// Requirements into the files of one Terraform root module: main.tf (provider and resources),
// variables.tf, outputs.tf and versions.tf, under the conventions' directory for the request.

export { provisionDirectory };

export const PROVISION_TEMPLATES: Readonly<Record<ProvisionResourceType, ProvisionTemplate>> = {
  postgres_database: postgresDatabaseTemplate,
  mysql_database: mysqlDatabaseTemplate,
  s3_bucket: s3BucketTemplate,
  sqs_queue: sqsQueueTemplate,
  redis_cache: redisCacheTemplate,
  eks_cluster: eksClusterTemplate,
  dns_record: dnsRecordTemplate,
};

export const PROVISION_FILE_NAMES = ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf'] as const;

export function renderProvisionFiles(
  requirements: ProvisionRequirements,
  conventions: ProvisionConventions = DEFAULT_PROVISION_CONVENTIONS,
): ProvisionFile[] {
  const output = PROVISION_TEMPLATES[requirements.resourceType].render(requirements, conventions);
  const directory = provisionDirectory(requirements, conventions);
  const contents: Record<(typeof PROVISION_FILE_NAMES)[number], string> = {
    'main.tf': printHcl(output.main),
    'variables.tf': printHcl(output.variables),
    'outputs.tf': printHcl(output.outputs),
    'versions.tf': printHcl(versionsFile()),
  };
  return PROVISION_FILE_NAMES.map((file) => ({ path: `${directory}/${file}`, content: contents[file] }));
}
