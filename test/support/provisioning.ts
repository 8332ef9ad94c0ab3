import type { ProvisionRequirements, ProvisionResourceType } from '../../core/provisioning/types.js';

/** One ordinary request per resource type, for rendering and policy tests. */
export function sampleRequirements(
  resourceType: ProvisionResourceType,
  overrides: Partial<ProvisionRequirements> = {},
): ProvisionRequirements {
  const options: Record<ProvisionResourceType, ProvisionRequirements['options']> = {
    postgres_database: { engineVersion: '16' },
    mysql_database: { engineVersion: '8.0' },
    s3_bucket: { versioning: true },
    sqs_queue: { fifo: true, deadLetterQueue: true },
    redis_cache: { nodeCount: 2 },
    eks_cluster: { nodeCount: 3 },
    dns_record: { recordType: 'A', recordName: 'api.example.com', zone: 'example.com', recordValue: '10.0.0.5' },
  };
  return {
    resourceType,
    name: resourceType === 'dns_record' ? 'api-example-com-a' : `payments-${resourceType.split('_')[0]}`,
    environment: 'production',
    size: 'small',
    team: 'billing',
    service: 'payments',
    region: 'eu-central-1',
    tags: { 'cost-center': '42' },
    options: options[resourceType],
    ...overrides,
  };
}

/** The content of the file whose path ends with `name`. */
export function fileNamed(files: ReadonlyArray<{ path: string; content: string }>, name: string): string {
  const file = files.find((f) => f.path.endsWith(`/${name}`));
  if (!file) throw new Error(`no ${name} among ${files.map((f) => f.path).join(', ')}`);
  return file.content;
}
