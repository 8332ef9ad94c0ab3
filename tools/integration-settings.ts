import type { z } from 'zod';
import { secretPathSegment, type SecretStore } from '../adapters/secrets/port.js';
import type { IntegrationSettingsRepository, StoredIntegrationSettings } from '../adapters/store/port.js';
import {
  INTEGRATION_NAMES,
  INTEGRATION_SETTINGS,
  IntegrationNotConfiguredError,
  SECRET_FIELDS,
  type IntegrationName,
  type IntegrationSettings,
} from './integrations.js';
import type { ToolCaller } from './tool.js';

// Integration settings per tenant and per user (`/api/v1/integrations/{name}/config`, and what a
// chat tool's `context.integration(name)` resolves). A scope's row holds the non-secret fields; its
// secret fields are one JSON object in the SecretStore at `integrations/tenant/<name>` or
// `integrations/users/<user>/<name>`, and the row only names which are set. So a read of the masked
// view never touches the secret store, and nothing secret is ever in the database in clear.
//
// Masking: a secret field is never returned, not even in part: the view lists it as
// `{ configured: true | false }` beside the non-secret `settings`. A client PUTs back the `settings`
// it read and the stored secrets stay (a secret field omitted or "" is kept; null clears it; a
// non-secret field omitted, null or "" is not set at that scope).

export type SettingsScopeKind = 'user' | 'tenant';

/** Where settings are written or read: the tenant-wide row, or one user's. */
export interface SettingsScope {
  tenantId: string;
  /** Null: tenant-wide. */
  userId: string | null;
}

export interface SettingsProblem {
  /** The field (`token`), or `(body)` for the settings as a whole. */
  path: string;
  message: string;
  code: string;
}

/** A name that is not in INTEGRATION_SETTINGS. */
export class UnknownIntegrationError extends Error {
  override readonly name = 'UnknownIntegrationError';
  constructor(readonly integration: string) {
    super(`There is no integration '${integration}'; known: ${INTEGRATION_NAMES.join(', ')}.`);
  }
}

/** A PUT body the integration's schema refuses; `problems` names each field. */
export class InvalidIntegrationSettingsError extends Error {
  override readonly name = 'InvalidIntegrationSettingsError';
  constructor(
    readonly integration: IntegrationName,
    readonly problems: SettingsProblem[],
  ) {
    super(`The ${integration} settings are not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}.`);
  }
}

/**
 * Settings exist for the caller, but together (the user's over the tenant's) they are not complete
 * or not valid. A kind of IntegrationNotConfiguredError, so a tool that handles one handles both.
 */
export class IntegrationSettingsIncompleteError extends IntegrationNotConfiguredError {
  constructor(
    integration: IntegrationName,
    readonly problems: SettingsProblem[],
  ) {
    super(integration);
    this.message = `${integration} is not completely configured (${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}): PUT /api/v1/integrations/${integration}/config`;
  }
}

/** The secrets stored for a scope are not the JSON object this service writes (changed outside InfraAI). */
export class CorruptIntegrationSecretsError extends Error {
  override readonly name = 'CorruptIntegrationSecretsError';
  constructor(
    readonly integration: IntegrationName,
    readonly scope: SettingsScopeKind,
  ) {
    super(`The stored ${scope} secrets of ${integration} cannot be read; PUT them again (or DELETE the ${scope} settings).`);
  }
}

export interface IntegrationField {
  name: string;
  /** Kept through the secrets port; never returned. */
  secret: boolean;
  /** Must be set (at the tenant's or the user's scope) for the integration to be usable. */
  required: boolean;
}

/** One scope's settings as a client may see them. */
export interface IntegrationConfigView {
  integration: IntegrationName;
  scope: SettingsScopeKind;
  /** Settings are stored at this scope. */
  configured: boolean;
  /** The non-secret fields stored at this scope. */
  settings: Record<string, string>;
  /** Every secret field of the integration: whether this scope has it (the value never leaves the secret store). */
  secrets: Record<string, { configured: boolean }>;
  updatedAt: string | null;
  updatedBy: string | null;
  /** What the caller's tools would use: the user's fields over the tenant's. */
  effective: EffectiveStatus;
}

export interface EffectiveStatus {
  /** The merged settings pass the integration's schema: its tools can run. */
  ready: boolean;
  /** Where each set field comes from. */
  sources: Record<string, SettingsScopeKind>;
  /** Why it is not ready (empty when ready). */
  problems: SettingsProblem[];
}

export interface IntegrationOverview {
  name: IntegrationName;
  fields: IntegrationField[];
  user: { configured: boolean; updatedAt: string | null };
  tenant: { configured: boolean; updatedAt: string | null };
  ready: boolean;
}

type Caller = Pick<ToolCaller, 'tenantId' | 'userId'>;
type Settings = Record<string, string>;

/** Stands in for a stored secret when checking completeness without reading it (any value passes `secret`). */
const STORED_SECRET = 'stored';

export function isIntegrationName(name: string): name is IntegrationName {
  return Object.hasOwn(INTEGRATION_SETTINGS, name);
}

function integrationOf(name: string): IntegrationName {
  if (!isIntegrationName(name)) throw new UnknownIntegrationError(name);
  return name;
}

const shapeOf = (name: IntegrationName): Record<string, z.ZodType> => INTEGRATION_SETTINGS[name].shape as Record<string, z.ZodType>;
const secretFieldsOf = (name: IntegrationName): readonly string[] => SECRET_FIELDS[name];

/** The integration's fields, in schema order. */
export function integrationFields(name: IntegrationName): IntegrationField[] {
  const secrets = secretFieldsOf(name);
  return Object.entries(shapeOf(name)).map(([field, schema]) => ({
    name: field,
    secret: secrets.includes(field),
    required: !schema.safeParse(undefined).success,
  }));
}

function problemsOf(error: z.ZodError): SettingsProblem[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
    code: issue.code,
  }));
}

/** The secret store path of a scope's secret fields. */
export function integrationSecretPath(scope: SettingsScope, name: IntegrationName): string {
  return scope.userId === null ? `integrations/tenant/${name}` : `integrations/users/${secretPathSegment(scope.userId)}/${name}`;
}

export interface IntegrationSettingsDeps {
  settings: IntegrationSettingsRepository;
  secrets: SecretStore;
}

export class IntegrationSettingsService {
  constructor(private readonly deps: IntegrationSettingsDeps) {}

  /**
   * The caller's effective settings (the user's fields over the tenant's, field by field), secrets
   * revealed, validated and with the schema's defaults: what `context.integration(name)` answers.
   * IntegrationNotConfiguredError when neither scope has any; IntegrationSettingsIncompleteError
   * when together they do not pass the schema.
   */
  async resolve<N extends IntegrationName>(caller: Caller, name: N): Promise<IntegrationSettings<N>> {
    integrationOf(name);
    const { tenant, user } = await this.rows(caller, name);
    if (!tenant && !user) throw new IntegrationNotConfiguredError(name);
    const [tenantSecrets, userSecrets] = await Promise.all([
      this.readSecrets({ tenantId: caller.tenantId, userId: null }, name, tenant),
      this.readSecrets({ tenantId: caller.tenantId, userId: caller.userId }, name, user),
    ]);
    const merged = { ...tenant?.settings, ...tenantSecrets, ...user?.settings, ...userSecrets };
    const parsed = INTEGRATION_SETTINGS[name].safeParse(merged);
    if (!parsed.success) throw new IntegrationSettingsIncompleteError(name, problemsOf(parsed.error));
    return parsed.data as IntegrationSettings<N>;
  }

  /** One scope's settings, masked, with the caller's effective status. */
  async describe(caller: Caller, name: string, scope: SettingsScopeKind = 'user'): Promise<IntegrationConfigView> {
    const integration = integrationOf(name);
    const rows = await this.rows(caller, integration);
    return this.view(integration, scope, rows);
  }

  /** Every integration: whether the caller and the tenant have settings, and whether the caller's are usable. */
  async overview(caller: Caller): Promise<IntegrationOverview[]> {
    const rows = await this.deps.settings.listFor(caller.tenantId, caller.userId);
    return INTEGRATION_NAMES.map((name) => {
      const tenant = rows.find((row) => row.integration === name && row.userId === null) ?? null;
      const user = rows.find((row) => row.integration === name && row.userId === caller.userId) ?? null;
      return {
        name,
        fields: integrationFields(name),
        user: { configured: user !== null, updatedAt: user?.updatedAt ?? null },
        tenant: { configured: tenant !== null, updatedAt: tenant?.updatedAt ?? null },
        ready: effectiveStatus(name, tenant, user).ready,
      };
    });
  }

  /**
   * Replaces a scope's settings with `body`: every field is checked against the integration's
   * schema, unknown fields are refused. A secret field omitted (or "") keeps the stored secret;
   * null clears any field, and "" a non-secret one. Settings may be partial per scope (a tenant gives the site, each user a token);
   * `effective` in the answer says whether the caller's are complete.
   */
  async put(caller: Caller, scope: SettingsScope, name: string, body: unknown, updatedBy: string | null): Promise<IntegrationConfigView> {
    const integration = integrationOf(name);
    const { settings, secrets, cleared } = parseBody(integration, body);
    const existing = await this.deps.settings.get(scope.tenantId, scope.userId, integration);
    const kept = (existing?.secretFields ?? []).filter((field) => !(field in secrets) && !cleared.has(field));
    const secretsChanged = Object.keys(secrets).length > 0 || (existing?.secretFields ?? []).some((field) => cleared.has(field));
    if (Object.keys(settings).length === 0 && Object.keys(secrets).length === 0 && kept.length === 0)
      throw new InvalidIntegrationSettingsError(integration, [
        { path: '(body)', message: 'no field is set: give at least one, or DELETE the settings', code: 'empty' },
      ]);

    let secretFields = existing?.secretFields ?? [];
    if (secretsChanged) {
      const values: Settings = { ...pick(await this.readSecrets(scope, integration, existing), kept), ...secrets };
      secretFields = Object.keys(values).sort();
      const path = integrationSecretPath(scope, integration);
      // The secret first: a row never names a secret field that was not written.
      if (secretFields.length > 0) await this.deps.secrets.put(scope.tenantId, path, JSON.stringify(values));
      else await this.deps.secrets.delete(scope.tenantId, path);
    }
    await this.deps.settings.put({
      tenantId: scope.tenantId,
      userId: scope.userId,
      integration,
      settings,
      secretFields,
      updatedBy,
    });
    return this.describe(caller, integration, scope.userId === null ? 'tenant' : 'user');
  }

  /** Removes a scope's settings and its secrets; false when there were none. */
  async delete(scope: SettingsScope, name: string): Promise<boolean> {
    const integration = integrationOf(name);
    const existing = await this.deps.settings.get(scope.tenantId, scope.userId, integration);
    if (!existing) return false;
    // The row first: a secret left behind by a failure here is unreachable and replaced by the next put.
    const deleted = await this.deps.settings.delete(scope.tenantId, scope.userId, integration);
    if (existing.secretFields.length > 0) await this.deps.secrets.delete(scope.tenantId, integrationSecretPath(scope, integration));
    return deleted;
  }

  private async rows(caller: Caller, name: IntegrationName) {
    const rows = await this.deps.settings.listFor(caller.tenantId, caller.userId, name);
    return {
      tenant: rows.find((row) => row.userId === null) ?? null,
      user: rows.find((row) => row.userId === caller.userId) ?? null,
    };
  }

  /** The scope's secret fields (only those its row names: a secret the row no longer names is ignored). */
  private async readSecrets(scope: SettingsScope, name: IntegrationName, row: StoredIntegrationSettings | null): Promise<Settings> {
    if (!row || row.secretFields.length === 0) return {};
    const text = await this.deps.secrets.get(scope.tenantId, integrationSecretPath(scope, name));
    if (text === null) return {};
    let values: unknown;
    try {
      values = JSON.parse(text);
    } catch {
      // JSON.parse quotes the start of what it could not read: that would be a secret in a log.
      throw new CorruptIntegrationSecretsError(name, scope.userId === null ? 'tenant' : 'user');
    }
    if (typeof values !== 'object' || values === null)
      throw new CorruptIntegrationSecretsError(name, scope.userId === null ? 'tenant' : 'user');
    return pick(values as Settings, row.secretFields);
  }

  private view(
    integration: IntegrationName,
    scope: SettingsScopeKind,
    { tenant, user }: { tenant: StoredIntegrationSettings | null; user: StoredIntegrationSettings | null },
  ): IntegrationConfigView {
    const row = scope === 'tenant' ? tenant : user;
    return {
      integration,
      scope,
      configured: row !== null,
      settings: { ...row?.settings },
      secrets: Object.fromEntries(
        secretFieldsOf(integration).map((field) => [field, { configured: row?.secretFields.includes(field) ?? false }]),
      ),
      updatedAt: row?.updatedAt ?? null,
      updatedBy: row?.updatedBy ?? null,
      effective: effectiveStatus(integration, tenant, user),
    };
  }
}

/** Whether the merged settings would pass the schema, judged without reading a secret. */
function effectiveStatus(
  name: IntegrationName,
  tenant: StoredIntegrationSettings | null,
  user: StoredIntegrationSettings | null,
): EffectiveStatus {
  const sources: Record<string, SettingsScopeKind> = {};
  const merged: Settings = {};
  for (const [row, kind] of [
    [tenant, 'tenant'],
    [user, 'user'],
  ] as const) {
    if (!row) continue;
    for (const [field, value] of Object.entries(row.settings)) {
      merged[field] = value;
      sources[field] = kind;
    }
    for (const field of row.secretFields) {
      merged[field] = STORED_SECRET;
      sources[field] = kind;
    }
  }
  if (!tenant && !user) {
    return { ready: false, sources, problems: [{ path: '(body)', message: `${name} is not configured`, code: 'not_configured' }] };
  }
  const parsed = INTEGRATION_SETTINGS[name].safeParse(merged);
  return { ready: parsed.success, sources, problems: parsed.success ? [] : problemsOf(parsed.error) };
}

function parseBody(name: IntegrationName, body: unknown): { settings: Settings; secrets: Settings; cleared: Set<string> } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InvalidIntegrationSettingsError(name, [
      { path: '(body)', message: 'expected a JSON object of fields', code: 'invalid_type' },
    ]);
  const shape = shapeOf(name);
  const secretFields = secretFieldsOf(name);
  const problems: SettingsProblem[] = [];
  const settings: Settings = {};
  const secrets: Settings = {};
  const cleared = new Set<string>();
  const unknown = Object.keys(body).filter((field) => !Object.hasOwn(shape, field));
  if (unknown.length > 0)
    problems.push({
      path: unknown.join(','),
      message: `unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (${name} has ${Object.keys(shape).join(', ')})`,
      code: 'unrecognized_keys',
    });
  for (const [field, value] of Object.entries(body as Record<string, unknown>)) {
    const schema = shape[field];
    if (!schema || value === undefined) continue;
    const secret = secretFields.includes(field);
    // A form's blank password box means "unchanged"; a blank text box means "not set".
    if (value === '' && secret) continue;
    if (value === null || value === '') {
      cleared.add(field);
      continue;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push({ path: field, message: issue.message, code: issue.code });
      continue;
    }
    if (typeof parsed.data !== 'string') continue;
    (secret ? secrets : settings)[field] = parsed.data;
  }
  if (problems.length > 0) throw new InvalidIntegrationSettingsError(name, problems);
  return { settings, secrets, cleared };
}

function pick(values: Settings, fields: readonly string[]): Settings {
  return Object.fromEntries(fields.filter((field) => typeof values[field] === 'string').map((field) => [field, values[field]!]));
}
