import { z } from 'zod';
import { resourceName } from '../conventions.js';
import { output, providerBlock, reference, regionVariable, tagMap, tagsAttribute, type ProvisionTemplate } from './common.js';
import { attr, block, expr } from './hcl-writer.js';

// An S3 bucket with its companion resources: versioning, default encryption (KMS) and a public
// access block. A bucket asked to be public gets an open access block, which the policy refuses:
// the request is shown with the reason rather than silently made private.

const bucketRef = expr('aws_s3_bucket.this.id');

export const s3BucketTemplate: ProvisionTemplate = {
  render(requirements, conventions) {
    const production = requirements.environment === 'production';
    const versioning = typeof requirements.options.versioning === 'boolean' ? requirements.options.versioning : production;
    const open = requirements.options.public === true;
    const main = [
      providerBlock(),
      block(
        'resource',
        ['aws_s3_bucket', 'this'],
        [
          attr('bucket', resourceName(requirements, conventions)),
          attr('force_destroy', !production),
          tagsAttribute(requirements, conventions),
        ],
      ),
      block(
        'resource',
        ['aws_s3_bucket_versioning', 'this'],
        [attr('bucket', bucketRef), block('versioning_configuration', [], [attr('status', versioning ? 'Enabled' : 'Disabled')])],
      ),
      block(
        'resource',
        ['aws_s3_bucket_server_side_encryption_configuration', 'this'],
        [
          attr('bucket', bucketRef),
          block(
            'rule',
            [],
            [block('apply_server_side_encryption_by_default', [], [attr('sse_algorithm', 'aws:kms')]), attr('bucket_key_enabled', true)],
          ),
        ],
      ),
      block(
        'resource',
        ['aws_s3_bucket_public_access_block', 'this'],
        [
          attr('bucket', bucketRef),
          attr('block_public_acls', !open),
          attr('block_public_policy', !open),
          attr('ignore_public_acls', !open),
          attr('restrict_public_buckets', !open),
        ],
      ),
    ];
    const outputs = [
      output('bucket', 'aws_s3_bucket.this.id', 'Name of the bucket.'),
      output('arn', 'aws_s3_bucket.this.arn', 'ARN of the bucket.'),
    ];
    return { main, variables: [regionVariable(requirements)], outputs };
  },
  schema: [
    { type: 'aws_s3_bucket', attributes: z.looseObject({ bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/), tags: tagMap }) },
    {
      type: 'aws_s3_bucket_versioning',
      attributes: z.looseObject({
        bucket: reference,
        versioning_configuration: z.array(z.looseObject({ status: z.enum(['Enabled', 'Suspended', 'Disabled']) })).length(1),
      }),
    },
    {
      type: 'aws_s3_bucket_server_side_encryption_configuration',
      attributes: z.looseObject({
        bucket: reference,
        rule: z
          .array(z.looseObject({ apply_server_side_encryption_by_default: z.array(z.looseObject({ sse_algorithm: z.string() })) }))
          .min(1),
      }),
    },
    {
      type: 'aws_s3_bucket_public_access_block',
      attributes: z.looseObject({
        bucket: reference,
        block_public_acls: z.boolean(),
        block_public_policy: z.boolean(),
        ignore_public_acls: z.boolean(),
        restrict_public_buckets: z.boolean(),
      }),
    },
  ],
};
