import { z } from 'zod';
import { resourceName, sizeClass } from '../conventions.js';
import { output, providerBlock, reference, regionVariable, tagMap, tagsAttribute, variable, type ProvisionTemplate } from './common.js';
import { attr, block, expr } from './hcl-writer.js';

// An EKS cluster and one managed node group: secrets encrypted with a KMS key, the API endpoint
// private in production, control-plane audit logs on. Roles and subnets come from the platform's
// network and IAM stacks as variables.

export const eksClusterTemplate: ProvisionTemplate = {
  render(requirements, conventions) {
    const name = resourceName(requirements, conventions);
    const option = requirements.options;
    const nodes = typeof option.nodeCount === 'number' ? option.nodeCount : conventions.nodes.eksDefault;
    const production = requirements.environment === 'production';
    const main = [
      providerBlock(),
      block(
        'resource',
        ['aws_eks_cluster', 'this'],
        [
          attr('name', name),
          attr('role_arn', expr('var.cluster_role_arn')),
          attr('version', typeof option.engineVersion === 'string' ? option.engineVersion : conventions.engines.kubernetes.defaultVersion),
          attr('enabled_cluster_log_types', ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler']),
          block(
            'vpc_config',
            [],
            [
              attr('subnet_ids', expr('var.subnet_ids')),
              attr('endpoint_private_access', true),
              attr('endpoint_public_access', !production),
            ],
          ),
          block(
            'encryption_config',
            [],
            [attr('resources', ['secrets']), block('provider', [], [attr('key_arn', expr('var.kms_key_arn'))])],
          ),
          tagsAttribute(requirements, conventions),
        ],
      ),
      block(
        'resource',
        ['aws_eks_node_group', 'default'],
        [
          attr('cluster_name', expr('aws_eks_cluster.this.name')),
          attr('node_group_name', `${name}-default`),
          attr('node_role_arn', expr('var.node_role_arn')),
          attr('subnet_ids', expr('var.subnet_ids')),
          attr('instance_types', [sizeClass(requirements.resourceType, requirements.size, conventions) ?? '']),
          block(
            'scaling_config',
            [],
            [attr('desired_size', nodes), attr('min_size', nodes), attr('max_size', Math.min(nodes * 2, conventions.nodes.eksMax))],
          ),
          block('update_config', [], [attr('max_unavailable', 1)]),
          tagsAttribute(requirements, conventions),
        ],
      ),
    ];
    const variables = [
      regionVariable(requirements),
      variable('cluster_role_arn', 'string', 'IAM role the EKS control plane assumes.'),
      variable('node_role_arn', 'string', 'IAM role of the worker nodes.'),
      variable('subnet_ids', 'list(string)', 'Private subnets of the cluster and its nodes.'),
      variable('kms_key_arn', 'string', 'KMS key that encrypts Kubernetes secrets.'),
    ];
    const outputs = [
      output('endpoint', 'aws_eks_cluster.this.endpoint', 'API server endpoint of the cluster.'),
      output('arn', 'aws_eks_cluster.this.arn', 'ARN of the cluster.'),
      output('certificate_authority', 'aws_eks_cluster.this.certificate_authority[0].data', 'Cluster CA certificate (base64).'),
    ];
    return { main, variables, outputs };
  },
  schema: [
    {
      type: 'aws_eks_cluster',
      attributes: z.looseObject({
        name: z.string().min(1),
        role_arn: reference,
        version: z.string().regex(/^1\.\d+$/),
        vpc_config: z.array(z.looseObject({ subnet_ids: reference })).length(1),
        tags: tagMap,
      }),
    },
    {
      type: 'aws_eks_node_group',
      attributes: z.looseObject({
        cluster_name: reference,
        node_role_arn: reference,
        instance_types: z.array(z.string().min(1)).min(1),
        scaling_config: z.array(z.looseObject({ desired_size: z.number(), min_size: z.number(), max_size: z.number() })).length(1),
        tags: tagMap,
      }),
    },
  ],
};
