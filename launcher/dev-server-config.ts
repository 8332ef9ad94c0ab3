import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/** temporal-dev.yaml: the checked-in configuration of the embedded Temporal dev server. */
const searchAttributeType = z.enum(['Text', 'Keyword', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList']);

export const devServerFileSchema = z
  .object({
    namespace: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$/, 'a Temporal namespace name'),
    retentionDays: z.number().int().min(1).max(3650).default(7),
    ip: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(7233),
    uiPort: z.number().int().min(1).max(65535).default(8233),
    databaseFile: z.string().min(1).default('temporal/temporal.sqlite'),
    searchAttributes: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an identifier'), searchAttributeType).default({}),
    dynamicConfig: z.record(z.string().min(1), z.unknown()).default({}),
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
    const issues = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
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
export function resolveDevServerSettings(
  file: DevServerFile,
  overrides: { dataDir: string; port?: number | undefined; uiPort?: number | undefined; headless?: boolean | undefined },
): DevServerSettings {
  const dataDir = resolve(overrides.dataDir);
  return {
    ...file,
    port: overrides.port ?? file.port,
    uiPort: overrides.uiPort ?? file.uiPort,
    databasePath: isAbsolute(file.databaseFile) ? file.databaseFile : join(dataDir, file.databaseFile),
    headless: overrides.headless ?? false,
  };
}

/** The exact `temporal server start-dev` argument list for these settings. */
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
  for (const [name, type] of Object.entries(settings.searchAttributes)) args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(settings.dynamicConfig)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  return args;
}
