import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  PROVISION_ENVIRONMENTS,
  PROVISION_SIZES,
  type ProvisionEnvironment,
  type ProvisionResourceType,
  type ProvisionSize,
} from './types.js';

// The organisation's conventions for generated Terraform, in one place: tags, names, regions, sizes,
// engine versions and what production requires. The grammar, the templates and the policy all read
// this object, so a change here changes what is parsed, rendered and enforced together. A deployment
// overrides any part of it with a JSON or YAML file (`loadProvisionConventions(path)`).

const TAG_KEY = /^[a-z][a-z0-9_.:/-]{0,62}$/;
const AWS_REGION = /^[a-z]{2}(?:-gov)?-[a-z]+-\d$/;

const sizeClasses = z.strictObject({ small: z.string().min(1), medium: z.string().min(1), large: z.string().min(1) });
const perEnvironment = <T extends z.ZodType>(value: T) => z.strictObject({ dev: value, staging: value, production: value });
const engine = z.strictObject({ defaultVersion: z.string().min(1), allowedVersions: z.array(z.string().min(1)).min(1) });

export const ProvisionConventionsSchema = z
  .strictObject({
    /** Short organisation name: the prefix of globally unique names (S3 buckets). */
    organisation: z.string().regex(/^[a-z][a-z0-9-]{1,20}$/),
    /** The `managed-by` tag's value. */
    managedBy: z.string().min(1),
    tags: z.strictObject({
      /**
       * Tags every taggable resource carries. `team`, `service`, `environment`, `managed-by` and `name`
       * are filled from the request; any other key needs a value in `values` or in the request
       * (`tagged cost-center=42`), else the grammar reports it missing and the policy refuses it.
       */
      required: z.array(z.string().regex(TAG_KEY)).min(1),
      /** Fixed tag values added to every resource (a request's own tag wins). */
      values: z.record(z.string().regex(TAG_KEY), z.string().min(1)),
      /** The team tag when a request names no team; `null` makes the team a required part of a request. */
      defaultTeam: z.string().min(1).nullable(),
    }),
    naming: z.strictObject({
      /** Resource names: `{env}` (the short environment), `{name}`, `{org}`. */
      resourceName: z.string().includes('{name}'),
      /** S3 bucket names (global): `{org}`, `{env}`, `{name}`. */
      bucketName: z.string().includes('{name}'),
      /** The directory of a request's files: `{env}` (full environment), `{type}`, `{name}`. */
      directory: z.string().includes('{name}'),
      environmentShort: perEnvironment(z.string().regex(/^[a-z][a-z0-9]{0,9}$/)),
    }),
    defaultRegion: z.string().regex(AWS_REGION),
    /** Regions a request may name; any other region id is refused as unknown. */
    allowedRegions: z.array(z.string().regex(AWS_REGION)).min(1),
    sizes: z.strictObject({
      default: z.enum(PROVISION_SIZES),
      /** Sizes each environment may use (the `allowed_sizes` rule). */
      allowed: perEnvironment(z.array(z.enum(PROVISION_SIZES)).min(1)),
      /** Size → instance class or node type, per resource type that has one. */
      classes: z.strictObject({
        postgres_database: sizeClasses,
        mysql_database: sizeClasses,
        redis_cache: sizeClasses,
        eks_cluster: sizeClasses,
      }),
      /** Allocated storage (GiB) of a database per size. */
      databaseStorageGb: z.strictObject({ small: z.int().positive(), medium: z.int().positive(), large: z.int().positive() }),
    }),
    engines: z.strictObject({ postgres: engine, mysql: engine, redis: engine, kubernetes: engine }),
    /** What the database engine is when a request says only "database". */
    defaultDatabaseEngine: z.enum(['postgres', 'mysql']),
    nodes: z.strictObject({ eksDefault: z.int().min(1), eksMax: z.int().min(1), cacheDefault: z.int().min(1), cacheMax: z.int().min(1) }),
    dns: z.strictObject({ defaultTtl: z.int().min(1), recordTypes: z.array(z.enum(['A', 'AAAA', 'CNAME', 'TXT'])).min(1) }),
    backups: z.strictObject({
      /** Backup retention (days) per environment; production must keep at least `production.minBackupRetentionDays`. */
      retentionDays: perEnvironment(z.int().min(0).max(35)),
    }),
    production: z.strictObject({
      minBackupRetentionDays: z.int().min(1).max(35),
      deletionProtection: z.boolean(),
    }),
  })
  .superRefine((value, ctx) => {
    if (!value.allowedRegions.includes(value.defaultRegion))
      ctx.addIssue({ code: 'custom', path: ['defaultRegion'], message: 'defaultRegion must be one of allowedRegions' });
    for (const [name, spec] of Object.entries(value.engines))
      if (!spec.allowedVersions.includes(spec.defaultVersion))
        ctx.addIssue({
          code: 'custom',
          path: ['engines', name, 'defaultVersion'],
          message: 'defaultVersion must be one of allowedVersions',
        });
    for (const environment of PROVISION_ENVIRONMENTS)
      if (!value.sizes.allowed[environment].includes(value.sizes.default))
        ctx.addIssue({ code: 'custom', path: ['sizes', 'default'], message: `the default size must be allowed in ${environment}` });
  });

export type ProvisionConventions = z.infer<typeof ProvisionConventionsSchema>;

export const DEFAULT_PROVISION_CONVENTIONS: ProvisionConventions = Object.freeze(
  ProvisionConventionsSchema.parse({
    organisation: 'infraai',
    managedBy: 'infraai',
    tags: { required: ['team', 'service', 'environment', 'managed-by'], values: {}, defaultTeam: 'platform' },
    naming: {
      resourceName: '{env}-{name}',
      bucketName: '{org}-{env}-{name}',
      directory: 'terraform/{env}/{type}/{name}',
      environmentShort: { dev: 'dev', staging: 'stg', production: 'prod' },
    },
    defaultRegion: 'eu-central-1',
    allowedRegions: [
      'us-east-1',
      'us-east-2',
      'us-west-1',
      'us-west-2',
      'ca-central-1',
      'sa-east-1',
      'eu-central-1',
      'eu-central-2',
      'eu-west-1',
      'eu-west-2',
      'eu-west-3',
      'eu-north-1',
      'eu-south-1',
      'ap-northeast-1',
      'ap-northeast-2',
      'ap-southeast-1',
      'ap-southeast-2',
      'ap-south-1',
    ],
    sizes: {
      default: 'small',
      allowed: { dev: ['small', 'medium'], staging: ['small', 'medium', 'large'], production: ['small', 'medium', 'large'] },
      classes: {
        postgres_database: { small: 'db.t4g.micro', medium: 'db.m6g.large', large: 'db.r6g.xlarge' },
        mysql_database: { small: 'db.t4g.micro', medium: 'db.m6g.large', large: 'db.r6g.xlarge' },
        redis_cache: { small: 'cache.t4g.small', medium: 'cache.m6g.large', large: 'cache.r6g.xlarge' },
        eks_cluster: { small: 't3.medium', medium: 'm6i.large', large: 'm6i.2xlarge' },
      },
      databaseStorageGb: { small: 20, medium: 100, large: 500 },
    },
    engines: {
      postgres: { defaultVersion: '16', allowedVersions: ['13', '14', '15', '16', '17'] },
      mysql: { defaultVersion: '8.0', allowedVersions: ['8.0', '8.4'] },
      redis: { defaultVersion: '7.1', allowedVersions: ['6.2', '7.0', '7.1'] },
      kubernetes: { defaultVersion: '1.31', allowedVersions: ['1.29', '1.30', '1.31', '1.32'] },
    },
    defaultDatabaseEngine: 'postgres',
    nodes: { eksDefault: 2, eksMax: 50, cacheDefault: 1, cacheMax: 6 },
    dns: { defaultTtl: 300, recordTypes: ['A', 'AAAA', 'CNAME', 'TXT'] },
    backups: { retentionDays: { dev: 1, staging: 7, production: 14 } },
    production: { minBackupRetentionDays: 7, deletionProtection: true },
  }),
);

/** A conventions file that cannot be read, parsed or validated. */
export class ProvisionConventionsInvalid extends Error {
  override readonly name = 'ProvisionConventionsInvalid';
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`The provisioning conventions file ${path} is invalid: ${problems.join('; ')}`);
  }
}

type Json = unknown;

function isPlainObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; arrays and scalars replace. */
function mergeOver(base: Json, override: Json): Json {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const merged: Record<string, Json> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = key in base ? mergeOver(base[key], value) : value;
  return merged;
}

/** The defaults with `override` (a partial conventions object) merged over them, validated. */
export function mergeProvisionConventions(override: unknown, source = 'override'): ProvisionConventions {
  if (!isPlainObject(override)) throw new ProvisionConventionsInvalid(source, ['the top level must be an object']);
  const result = ProvisionConventionsSchema.safeParse(mergeOver(DEFAULT_PROVISION_CONVENTIONS, override));
  if (!result.success)
    throw new ProvisionConventionsInvalid(
      source,
      result.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`),
    );
  return Object.freeze(result.data);
}

/**
 * The conventions: the defaults, or the defaults with a JSON or YAML file merged over them. A file
 * that is missing, unparsable or invalid throws `ProvisionConventionsInvalid` naming what is wrong.
 */
export async function loadProvisionConventions(path?: string | null): Promise<ProvisionConventions> {
  if (!path) return DEFAULT_PROVISION_CONVENTIONS;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ProvisionConventionsInvalid(path, [`cannot be read (${(err as Error).message})`]);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ProvisionConventionsInvalid(path, [`is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${(err as Error).message})`]);
  }
  return mergeProvisionConventions(parsed, path);
}

/** The short environment name used in resource names (`prod`). */
export function environmentShort(environment: ProvisionEnvironment, conventions: ProvisionConventions): string {
  return conventions.naming.environmentShort[environment];
}

function fill(pattern: string, values: Record<string, string>): string {
  return pattern.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

/** The cloud resource's name (`prod-payments-db`); buckets get the organisation prefix. */
export function resourceName(
  requirements: { resourceType: ProvisionResourceType; name: string; environment: ProvisionEnvironment },
  conventions: ProvisionConventions,
): string {
  const pattern = requirements.resourceType === 's3_bucket' ? conventions.naming.bucketName : conventions.naming.resourceName;
  return fill(pattern, {
    env: environmentShort(requirements.environment, conventions),
    name: requirements.name,
    org: conventions.organisation,
  });
}

/** The repository directory of a request's files (`terraform/production/postgres_database/payments-db`). */
export function provisionDirectory(
  requirements: { resourceType: ProvisionResourceType; name: string; environment: ProvisionEnvironment },
  conventions: ProvisionConventions = DEFAULT_PROVISION_CONVENTIONS,
): string {
  return fill(conventions.naming.directory, { env: requirements.environment, type: requirements.resourceType, name: requirements.name });
}

/** The instance class / node type of a size, for resource types that have one. */
export function sizeClass(resourceType: ProvisionResourceType, size: ProvisionSize, conventions: ProvisionConventions): string | null {
  const classes = (conventions.sizes.classes as Partial<Record<ProvisionResourceType, Record<ProvisionSize, string>>>)[resourceType];
  return classes ? classes[size] : null;
}
