import { DEFAULT_PROVISION_CONVENTIONS, type ProvisionConventions } from './conventions.js';
import { lineOf, parseProvisionFiles, type ParsedHcl } from './hcl.js';
import type { ProvisionFile, ProvisionPolicyFinding, ProvisionRequirements, ProvisionSize } from './types.js';

// The organisation's rules for generated Terraform, evaluated on the parsed HCL (the same JSON the
// validation reads), never on the text: a rule sees a resource's attributes as Terraform would. Each
// finding names the file and the line of the resource or attribute. Errors block the pull request.

type Body = Record<string, unknown>;

interface Resource {
  file: ProvisionFile;
  type: string;
  label: string;
  body: Body;
}

interface PolicyContext {
  resources: Resource[];
  requirements: ProvisionRequirements;
  conventions: ProvisionConventions;
}

export interface ProvisionPolicyRule {
  id: string;
  description: string;
  evaluate(context: PolicyContext): ProvisionPolicyFinding[];
}

/** Resource types that carry tags (Route 53 records and the S3 companion resources do not). */
export const TAGGABLE_RESOURCES = new Set([
  'aws_db_instance',
  'aws_s3_bucket',
  'aws_sqs_queue',
  'aws_elasticache_replication_group',
  'aws_eks_cluster',
  'aws_eks_node_group',
]);

function finding(rule: string, resource: Resource, attribute: string | null, message: string): ProvisionPolicyFinding {
  return {
    rule,
    source: 'rules',
    severity: 'error',
    file: resource.file.path,
    line: lineOf(resource.file.content, resource.type, resource.label, attribute ?? undefined),
    resource: `${resource.type}.${resource.label}`,
    message,
  };
}

const of = (context: PolicyContext, type: string) => context.resources.filter((r) => r.type === type);
/** A nested block's first body (`rule { … }` is a list of one body in the parsed form). */
const nested = (body: Body, key: string): Body | null => {
  const value = body[key];
  return Array.isArray(value) && value[0] && typeof value[0] === 'object' ? (value[0] as Body) : null;
};
/** Whether a companion resource's `bucket = aws_s3_bucket.<label>.id` points at this bucket. */
const refersTo = (body: Body, bucket: Resource) =>
  typeof body.bucket === 'string' && new RegExp(`^\\$\\{aws_s3_bucket\\.${bucket.label}\\.(?:id|bucket)\\}$`).test(body.bucket);

export const PROVISION_POLICY_RULES: readonly ProvisionPolicyRule[] = [
  {
    id: 'required_tags',
    description: "Every taggable resource carries the conventions' required tags, each with a value.",
    evaluate: (context) =>
      context.resources
        .filter((r) => TAGGABLE_RESOURCES.has(r.type))
        .flatMap((resource) => {
          const tags = resource.body.tags && typeof resource.body.tags === 'object' ? (resource.body.tags as Record<string, unknown>) : {};
          const missing = context.conventions.tags.required.filter((key) => typeof tags[key] !== 'string' || tags[key] === '');
          return missing.length === 0
            ? []
            : [
                finding(
                  'required_tags',
                  resource,
                  resource.body.tags ? 'tags' : null,
                  `missing required tag${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
                ),
              ];
        }),
  },
  {
    id: 'no_public_buckets',
    description: 'Every S3 bucket has a public access block with all four settings on, and no public ACL.',
    evaluate: (context) =>
      of(context, 'aws_s3_bucket').flatMap((bucket) => {
        const out: ProvisionPolicyFinding[] = [];
        if (typeof bucket.body.acl === 'string' && /public/.test(bucket.body.acl))
          out.push(finding('no_public_buckets', bucket, 'acl', `the bucket's ACL is ${bucket.body.acl}`));
        const block = of(context, 'aws_s3_bucket_public_access_block').find((b) => refersTo(b.body, bucket));
        if (!block) return [...out, finding('no_public_buckets', bucket, null, 'the bucket has no aws_s3_bucket_public_access_block')];
        const open = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'].filter(
          (key) => block.body[key] !== true,
        );
        for (const key of open) out.push(finding('no_public_buckets', block, key, `${key} is not true: the bucket could be made public`));
        return out;
      }),
  },
  {
    id: 'encryption_at_rest',
    description: 'Databases, buckets, queues, caches and cluster secrets are encrypted at rest.',
    evaluate: (context) => [
      ...of(context, 'aws_db_instance')
        .filter((r) => r.body.storage_encrypted !== true)
        .map((r) => finding('encryption_at_rest', r, 'storage_encrypted', 'storage_encrypted is not true')),
      ...of(context, 'aws_s3_bucket')
        .filter((bucket) => {
          const config = of(context, 'aws_s3_bucket_server_side_encryption_configuration').find((c) => refersTo(c.body, bucket));
          const byDefault = config ? nested(nested(config.body, 'rule') ?? {}, 'apply_server_side_encryption_by_default') : null;
          return typeof byDefault?.sse_algorithm !== 'string';
        })
        .map((r) => finding('encryption_at_rest', r, null, 'the bucket has no default server-side encryption')),
      ...of(context, 'aws_sqs_queue')
        .filter((r) => r.body.sqs_managed_sse_enabled !== true && typeof r.body.kms_master_key_id !== 'string')
        .map((r) =>
          finding(
            'encryption_at_rest',
            r,
            'sqs_managed_sse_enabled',
            'the queue is not encrypted (sqs_managed_sse_enabled or kms_master_key_id)',
          ),
        ),
      ...of(context, 'aws_elasticache_replication_group')
        .filter((r) => r.body.at_rest_encryption_enabled !== true)
        .map((r) => finding('encryption_at_rest', r, 'at_rest_encryption_enabled', 'at_rest_encryption_enabled is not true')),
      ...of(context, 'aws_eks_cluster')
        .filter((r) => {
          const config = nested(r.body, 'encryption_config');
          return !config || !Array.isArray(config.resources) || !config.resources.includes('secrets');
        })
        .map((r) => finding('encryption_at_rest', r, 'encryption_config', 'Kubernetes secrets are not encrypted (encryption_config)')),
    ],
  },
  {
    id: 'backups_in_production',
    description: 'In production, databases and caches keep backups for at least the conventions minimum.',
    evaluate: (context) => {
      if (context.requirements.environment !== 'production') return [];
      const minimum = context.conventions.production.minBackupRetentionDays;
      const check = (type: string, attribute: string) =>
        of(context, type)
          .filter((r) => typeof r.body[attribute] !== 'number' || (r.body[attribute] as number) < minimum)
          .map((r) =>
            finding(
              'backups_in_production',
              r,
              attribute,
              `${attribute} is ${String(r.body[attribute] ?? 'unset')}; production keeps backups ≥ ${minimum} days`,
            ),
          );
      return [
        ...check('aws_db_instance', 'backup_retention_period'),
        ...check('aws_elasticache_replication_group', 'snapshot_retention_limit'),
      ];
    },
  },
  {
    id: 'deletion_protection_in_production',
    description: 'In production, databases have deletion protection and a final snapshot, and buckets are not force-destroyed.',
    evaluate: (context) => {
      if (context.requirements.environment !== 'production' || !context.conventions.production.deletionProtection) return [];
      return [
        ...of(context, 'aws_db_instance')
          .filter((r) => r.body.deletion_protection !== true)
          .map((r) => finding('deletion_protection_in_production', r, 'deletion_protection', 'deletion_protection is not true')),
        ...of(context, 'aws_db_instance')
          .filter((r) => r.body.skip_final_snapshot === true)
          .map((r) =>
            finding(
              'deletion_protection_in_production',
              r,
              'skip_final_snapshot',
              'skip_final_snapshot is true: deleting it would lose the data',
            ),
          ),
        ...of(context, 'aws_s3_bucket')
          .filter((r) => r.body.force_destroy === true)
          .map((r) =>
            finding(
              'deletion_protection_in_production',
              r,
              'force_destroy',
              'force_destroy is true: destroying it would delete its objects',
            ),
          ),
      ];
    },
  },
  {
    id: 'allowed_sizes',
    description: "The size, and each instance class or node type, is one the environment's conventions allow.",
    evaluate: (context) => {
      const { requirements, conventions } = context;
      const allowed = conventions.sizes.allowed[requirements.environment];
      const classes = (conventions.sizes.classes as Partial<Record<string, Record<ProvisionSize, string>>>)[requirements.resourceType];
      // Buckets, queues and records have no size: a "large bucket" is just a bucket.
      if (!classes) return [];
      const allowedClasses = new Set(allowed.map((size) => classes[size]));
      const out: ProvisionPolicyFinding[] = [];
      const sized: Array<[string, string]> = [
        ['aws_db_instance', 'instance_class'],
        ['aws_elasticache_replication_group', 'node_type'],
        ['aws_eks_node_group', 'instance_types'],
      ];
      for (const [type, attribute] of sized)
        for (const resource of of(context, type)) {
          const value = resource.body[attribute];
          const stated = (Array.isArray(value) ? value : [value]).map(String);
          const refused = stated.filter((v) => !allowedClasses.has(v));
          if (refused.length > 0)
            out.push(
              finding(
                'allowed_sizes',
                resource,
                attribute,
                `${refused.join(', ')} is not allowed in ${requirements.environment} (allowed: ${allowed.join(', ')} = ${[...allowedClasses].join(', ') || 'none'})`,
              ),
            );
        }
      if (!allowed.includes(requirements.size) && out.length === 0)
        out.push({
          rule: 'allowed_sizes',
          source: 'rules',
          severity: 'error',
          file: context.resources[0]?.file.path ?? '',
          line: null,
          resource: null,
          message: `size ${requirements.size} is not allowed in ${requirements.environment} (allowed: ${allowed.join(', ')})`,
        });
      return out;
    },
  },
];

function resourcesOf(files: readonly ProvisionFile[], parsed: Map<string, ParsedHcl>): Resource[] {
  const resources: Resource[] = [];
  for (const file of files) {
    const json = parsed.get(file.path);
    const blocks = (json?.resource ?? {}) as Record<string, Record<string, Body[]>>;
    for (const [type, labels] of Object.entries(blocks))
      for (const [label, bodies] of Object.entries(labels)) for (const body of bodies) resources.push({ file, type, label, body });
  }
  return resources;
}

/**
 * The declared rules' findings about generated files. A file that does not parse is itself an
 * error finding (`hcl_syntax`): nothing unparsed passes the policy.
 */
export async function evaluateProvisionPolicy(
  files: readonly ProvisionFile[],
  requirements: ProvisionRequirements,
  conventions: ProvisionConventions = DEFAULT_PROVISION_CONVENTIONS,
  rules: readonly ProvisionPolicyRule[] = PROVISION_POLICY_RULES,
): Promise<ProvisionPolicyFinding[]> {
  const { parsed, findings } = await parseProvisionFiles(files);
  const syntax: ProvisionPolicyFinding[] = findings.map((f) => ({
    rule: 'hcl_syntax',
    source: 'rules',
    severity: 'error',
    file: f.file,
    line: f.line,
    resource: null,
    message: f.message,
  }));
  const context: PolicyContext = { resources: resourcesOf(files, parsed), requirements, conventions };
  // In the order of the files and their lines (hcl2json orders blocks by label, not as written).
  const order = new Map(files.map((f, index) => [f.path, index]));
  return [...syntax, ...rules.flatMap((rule) => rule.evaluate(context))].sort(
    (a, b) =>
      (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER),
  );
}
