// The provisioning family's domain types: what a natural-language request is parsed into, the files
// generated from it and the policy findings about them. Pure data; shared by the grammar, the
// templates, the policy, the git host port, the workflow and the API.

/** Resource types InfraAI has a maintained template for. Extend together with the grammar. */
export const PROVISION_RESOURCE_TYPES = [
  'postgres_database',
  'mysql_database',
  's3_bucket',
  'sqs_queue',
  'redis_cache',
  'eks_cluster',
  'dns_record',
] as const;
export type ProvisionResourceType = (typeof PROVISION_RESOURCE_TYPES)[number];

export const PROVISION_ENVIRONMENTS = ['dev', 'staging', 'production'] as const;
export type ProvisionEnvironment = (typeof PROVISION_ENVIRONMENTS)[number];

export const PROVISION_SIZES = ['small', 'medium', 'large'] as const;
export type ProvisionSize = (typeof PROVISION_SIZES)[number];

/**
 * What a request asks for. `name` is the resource's own name (lowercase, digits and hyphens), used
 * in the directory `terraform/<env>/<type>/<name>` and in resource names. Fields the request did not
 * state and that have a safe default are filled from the conventions (region, size); fields without
 * one (the resource type, a DNS record's target) are "missing" and the request is refused (422).
 */
export interface ProvisionRequirements {
  resourceType: ProvisionResourceType;
  name: string;
  environment: ProvisionEnvironment;
  size: ProvisionSize;
  team: string | null;
  service: string | null;
  region: string;
  /** Extra tags the request names (`tagged cost-center=42`); the conventions' tags are added on render. */
  tags: Record<string, string>;
  /**
   * Type-specific options the request states, e.g. `engineVersion` (databases), `fifo` (queues),
   * `versioning` (buckets), `nodeCount` (caches, clusters), `recordType`/`recordValue`/`zone`/`ttl`
   * (DNS records), `public` (a bucket asked to be public: the policy refuses it).
   */
  options: Record<string, string | number | boolean>;
}

/** Parsing a request: the requirements, or what is missing/ambiguous (answered as a 422). */
export type ProvisionParseOutcome =
  { ok: true; requirements: ProvisionRequirements; parser: 'grammar' | 'llm' } | { ok: false; missing: string[]; message: string };

/** One generated file, path relative to the repository root (`terraform/<env>/<type>/<name>/main.tf`). */
export interface ProvisionFile {
  path: string;
  content: string;
}

export interface ProvisionPolicyFinding {
  /** Rule id: `required_tags`, `no_public_buckets`, `encryption_at_rest`, `backups_in_production`, `deletion_protection_in_production`, `allowed_sizes`, or a Checkov check id (`CKV_AWS_…`). */
  rule: string;
  source: 'rules' | 'checkov';
  /** `error` blocks the pull request; `warning` is reported only. */
  severity: 'error' | 'warning';
  file: string;
  line: number | null;
  resource: string | null;
  message: string;
}
