import { z } from 'zod';
import { resourceName, sizeClass } from '../conventions.js';
import { output, providerBlock, reference, regionVariable, tagMap, tagsAttribute, variable, type ProvisionTemplate } from './common.js';
import { attr, block, expr } from './hcl-writer.js';

// A Redis replication group on ElastiCache: encrypted at rest and in transit, failover across
// zones when it has more than one node, daily snapshots kept as long as the environment's backups.

export const redisCacheTemplate: ProvisionTemplate = {
  render(requirements, conventions) {
    const option = requirements.options;
    const nodes = typeof option.nodeCount === 'number' ? option.nodeCount : conventions.nodes.cacheDefault;
    const replicated = nodes > 1;
    const main = [
      providerBlock(),
      block(
        'resource',
        ['aws_elasticache_replication_group', 'this'],
        [
          attr('replication_group_id', resourceName(requirements, conventions)),
          attr('description', `Redis cache ${requirements.name} (${requirements.environment})`),
          attr('engine', 'redis'),
          attr(
            'engine_version',
            typeof option.engineVersion === 'string' ? option.engineVersion : conventions.engines.redis.defaultVersion,
          ),
          attr('node_type', sizeClass(requirements.resourceType, requirements.size, conventions) ?? ''),
          attr('num_cache_clusters', nodes),
          attr('port', 6379),
          attr('automatic_failover_enabled', replicated),
          attr('multi_az_enabled', replicated),
          attr('subnet_group_name', expr('var.subnet_group_name')),
          attr('security_group_ids', expr('var.security_group_ids')),
          attr('at_rest_encryption_enabled', true),
          attr('transit_encryption_enabled', true),
          attr('snapshot_retention_limit', conventions.backups.retentionDays[requirements.environment]),
          attr('auto_minor_version_upgrade', true),
          tagsAttribute(requirements, conventions),
        ],
      ),
    ];
    const variables = [
      regionVariable(requirements),
      variable('subnet_group_name', 'string', 'ElastiCache subnet group of the private subnets the cache runs in.'),
      variable('security_group_ids', 'list(string)', 'Security groups allowed to reach the cache.'),
    ];
    const outputs = [
      output('primary_endpoint', 'aws_elasticache_replication_group.this.primary_endpoint_address', 'Primary endpoint of the cache.'),
      output('arn', 'aws_elasticache_replication_group.this.arn', 'ARN of the replication group.'),
    ];
    return { main, variables, outputs };
  },
  schema: [
    {
      type: 'aws_elasticache_replication_group',
      attributes: z.looseObject({
        replication_group_id: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/),
        engine: z.literal('redis'),
        node_type: z.string().regex(/^cache\./),
        num_cache_clusters: z.number().int().min(1),
        at_rest_encryption_enabled: z.boolean(),
        snapshot_retention_limit: z.number().int().min(0),
        subnet_group_name: reference,
        tags: tagMap,
      }),
    },
  ],
};
