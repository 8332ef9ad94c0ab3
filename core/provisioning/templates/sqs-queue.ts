import { z } from 'zod';
import { resourceName } from '../conventions.js';
import { output, providerBlock, regionVariable, tagMap, tagsAttribute, type ProvisionTemplate } from './common.js';
import { attr, block, expr, type HclBlock } from './hcl-writer.js';

// An SQS queue, encrypted with SQS-managed keys; a FIFO queue gets the `.fifo` suffix SQS requires
// and content-based deduplication; a dead-letter queue (same kind) takes messages received 5 times.

const DEFAULT_RETENTION_SECONDS = 4 * 86_400;
const DEAD_LETTER_RETENTION_SECONDS = 14 * 86_400;
const MAX_RECEIVES = 5;

export const sqsQueueTemplate: ProvisionTemplate = {
  render(requirements, conventions) {
    const fifo = requirements.options.fifo === true;
    const name = resourceName(requirements, conventions);
    const suffix = fifo ? '.fifo' : '';
    const option = requirements.options;
    const deadLetter = option.deadLetterQueue === true;
    const queue = (label: string, queueName: string, retention: number, redrive: boolean): HclBlock =>
      block(
        'resource',
        ['aws_sqs_queue', label],
        [
          attr('name', `${queueName}${suffix}`),
          fifo && attr('fifo_queue', true),
          fifo && attr('content_based_deduplication', true),
          attr('visibility_timeout_seconds', typeof option.visibilityTimeoutSeconds === 'number' ? option.visibilityTimeoutSeconds : 30),
          attr('message_retention_seconds', retention),
          attr('sqs_managed_sse_enabled', true),
          redrive &&
            attr(
              'redrive_policy',
              expr(`jsonencode({ deadLetterTargetArn = aws_sqs_queue.dead_letter.arn, maxReceiveCount = ${MAX_RECEIVES} })`),
            ),
          tagsAttribute(requirements, conventions),
        ],
      );
    const retention = typeof option.messageRetentionSeconds === 'number' ? option.messageRetentionSeconds : DEFAULT_RETENTION_SECONDS;
    const main = [providerBlock(), queue('this', name, retention, deadLetter)];
    if (deadLetter) main.push(queue('dead_letter', `${name}-dlq`, DEAD_LETTER_RETENTION_SECONDS, false));
    const outputs = [
      output('url', 'aws_sqs_queue.this.url', 'URL of the queue.'),
      output('arn', 'aws_sqs_queue.this.arn', 'ARN of the queue.'),
    ];
    if (deadLetter) outputs.push(output('dead_letter_arn', 'aws_sqs_queue.dead_letter.arn', 'ARN of the dead-letter queue.'));
    return { main, variables: [regionVariable(requirements)], outputs };
  },
  schema: [
    {
      type: 'aws_sqs_queue',
      attributes: z.looseObject({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,75}(?:\.fifo)?$/),
        message_retention_seconds: z.number().int().min(60).max(1_209_600),
        visibility_timeout_seconds: z.number().int().min(0).max(43_200),
        tags: tagMap,
      }),
    },
  ],
};
