import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * temporal-dev.yaml: the checked-in configuration of the embedded Temporal dev server. Everything
 * here is pure (no spawning, no directories created) so the argument list can be unit-tested.
 */
const searchAttributeType = z.enum(['Text', 'Keyword', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList']);
const port = z.number().int().min(1).max(65535);

export const devServerFileSchema = z
  .object({
    namespace: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$/, 'must be a Temporal namespace name (2-63 letters, digits, ".", "_", "-")'),
    retentionDays: z.number().int().min(1).max(3650).default(7),
    ip: z.string().min(1).default('127.0.0.1'),
    port: port.default(7233),
    uiPort: port.default(8233),
    /** Relative to the data directory unless absolute. */
    databaseFile: z.string().min(1).default('temporal/temporal.sqlite'),
    /** `--sqlite-pragma NAME=VALUE` for each; Temporal accepts journal_mode, synchronous, busy_timeout and a few more. */
    sqlitePragmas: z
      .record(z.string().regex(/^[a-z_]+$/, 'must be a pragma name'), z.union([z.string().regex(/^[A-Za-z0-9_]+$/), z.number().int()]))
      .default({}),
    searchAttributes: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier'), searchAttributeType).default({}),
    // The CLI takes KEY=<JSON value>; YAML scalars, lists and maps map onto JSON one to one.
    dynamicConfig: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'must be a dotted identifier'),
        z.json().refine((value) => value !== null, 'needs a value (string, number, boolean, list or map)'),
      )
      .default({}),
    ui: z
      .object({ disableNewsFetch: z.boolean().default(true), codecEndpoint: z.string().default('') })
      .strict()
      .default({ disableNewsFetch: true, codecEndpoint: '' }),
  })
  .strict();

export type DevServerFile = z.infer<typeof devServerFileSchema>;

export interface DevServerSettings extends DevServerFile {
  /** Absolute path of the SQLite file. */
  databasePath: string;
  headless: boolean;
}

export interface DevServerOverrides {
  dataDir: string;
  port?: number | undefined;
  uiPort?: number | undefined;
  headless?: boolean | undefined;
}

/** temporal-dev.yaml is unreadable or invalid; the message names the file and the field. */
export class DevServerConfigError extends Error {
  override readonly name = 'DevServerConfigError';
}

export function parseDevServerConfig(text: string, source: string): DevServerFile {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new DevServerConfigError(`${source}: not valid YAML (${(err as Error).message})`);
  }
  const parsed = devServerFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new DevServerConfigError(`${source} is invalid:\n${issues.join('\n')}`);
  }
  return parsed.data;
}

export async function readDevServerConfig(file: string): Promise<DevServerFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new DevServerConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseDevServerConfig(text, file);
}

/** Applies the environment's overrides (ports, data directory, headless) to the file's settings. */
export function resolveDevServerSettings(file: DevServerFile, overrides: DevServerOverrides): DevServerSettings {
  const dataDir = resolve(overrides.dataDir);
  return {
    ...file,
    port: overrides.port ?? file.port,
    uiPort: overrides.uiPort ?? file.uiPort,
    databasePath: isAbsolute(file.databaseFile) ? file.databaseFile : join(dataDir, file.databaseFile),
    headless: overrides.headless ?? false,
  };
}

/**
 * The exact `temporal server start-dev` argument list for these settings. Retention is not among
 * them: start-dev has no flag for it and creates namespaces with 24 h, so the launcher sets
 * `retentionDays` through UpdateNamespace once the server answers.
 */
export function devServerArgs(settings: DevServerSettings): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    settings.ip,
    '--port',
    String(settings.port),
    '--db-filename',
    settings.databasePath,
    '--namespace',
    settings.namespace,
    '--log-level',
    'warn',
  ];
  if (settings.headless) {
    args.push('--headless');
  } else {
    args.push('--ui-port', String(settings.uiPort));
    if (settings.ui.disableNewsFetch) args.push('--ui-disable-news-fetch');
    if (settings.ui.codecEndpoint) args.push('--ui-codec-endpoint', settings.ui.codecEndpoint);
  }
  for (const [name, value] of Object.entries(settings.sqlitePragmas)) args.push('--sqlite-pragma', `${name}=${value}`);
  for (const [name, type] of Object.entries(settings.searchAttributes)) args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(settings.dynamicConfig)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  return args;
}

/** Where a client on this machine reaches the server (a wildcard bind is reached on loopback). */
export function clientHost(ip: string): string {
  if (ip === '0.0.0.0') return '127.0.0.1';
  if (ip === '::' || ip === '[::]') return '[::1]';
  return ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
}
