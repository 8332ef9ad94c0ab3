import { z } from 'zod';
import { output, providerBlock, reference, regionVariable, type ProvisionTemplate } from './common.js';
import { attr, block, expr } from './hcl-writer.js';

// A Route 53 record in an existing public hosted zone, found by name. Records carry no tags (Route
// 53 has none), so only the zone's own tags apply.

const TXT_CHUNK = 255;

export const dnsRecordTemplate: ProvisionTemplate = {
  render(requirements, conventions) {
    const option = requirements.options;
    const type = String(option.recordType ?? 'A');
    const raw = String(option.recordValue ?? '');
    // A TXT string longer than 255 characters is split into quoted chunks, as Route 53 requires.
    const value = type === 'TXT' && raw.length > TXT_CHUNK ? (raw.match(new RegExp(`.{1,${TXT_CHUNK}}`, 'g')) ?? []).join('""') : raw;
    const main = [
      providerBlock(),
      block('data', ['aws_route53_zone', 'this'], [attr('name', String(option.zone ?? '')), attr('private_zone', false)]),
      block(
        'resource',
        ['aws_route53_record', 'this'],
        [
          attr('zone_id', expr('data.aws_route53_zone.this.zone_id')),
          attr('name', String(option.recordName ?? '')),
          attr('type', type),
          attr('ttl', typeof option.ttl === 'number' ? option.ttl : conventions.dns.defaultTtl),
          attr('records', [value]),
        ],
      ),
    ];
    const outputs = [output('fqdn', 'aws_route53_record.this.fqdn', 'Fully qualified name of the record.')];
    return { main, variables: [regionVariable(requirements)], outputs };
  },
  schema: [
    {
      type: 'aws_route53_record',
      attributes: z.looseObject({
        zone_id: reference,
        name: z.string().min(1),
        type: z.enum(['A', 'AAAA', 'CNAME', 'TXT']),
        ttl: z.number().int().min(1),
        records: z.array(z.string().min(1)).length(1),
      }),
    },
  ],
};
