import { InfisicalSDK, SecretType } from '@infisical/sdk';
import { DuplicateKeyError } from '../store/port.js';
import type { CredentialVault, SecretStore, SshCredential, SshCredentialInfo, SshCredentialInput } from './port.js';
import { inspectPrivateKey } from './ssh-keys.js';
import { checkSecretValue, SecretsUnavailableError, secretPathSegments } from './port.js';

// The Infisical adapter for the CredentialVault port. This is the only module that imports the
// Infisical SDK: everything else sees CredentialVault and the errors below.
//
// Layout: one Infisical secret (type shared) per credential, in one project, environment and folder
// (default /infraai/ssh). The key is INFRAAI_SSH_<tenant>_<hex of the name>: <tenant> is the
// tenant's UUID without dashes (any other tenant id: 'x' + its hex), so keys only hold letters,
// digits and underscores (Infisical refuses spaces and colons) and decode back to the name. The
// value is JSON {v, tenantId, name, username, keyType, fingerprint, privateKey, passphrase,
// createdAt}; every '$' is written as \u0024 so that Infisical never takes part of a key or a
// passphrase for a ${secret reference} (it validates references on write and expands them on read;
// reads also ask for expandSecretReferences=false).
//
// Calls the SDK (v5) makes, relative to siteUrl:
//   POST   /api/v1/auth/universal-auth/login   JSON {clientId, clientSecret} -> {accessToken, expiresIn}
//   GET    /api/v3/secrets/raw                 ?workspaceId&environment&secretPath&expandSecretReferences&include_imports&recursive&viewSecretValue
//   GET    /api/v3/secrets/raw/{key}           ?secretName&workspaceId&environment&secretPath&expandSecretReferences&includeImports&type&viewSecretValue
//   POST   /api/v3/secrets/raw/{key}           JSON {workspaceId, environment, secretPath, secretValue, secretComment, type}
//   DELETE /api/v3/secrets/raw/{key}           JSON {workspaceId, environment, secretPath, type}
//   POST   /api/v1/folders                     JSON {name, path, workspaceId, environment, description} (only when the folder is missing)
// Every call but the login carries `Authorization: Bearer <accessToken>`. The SDK retries 429
// answers and network failures itself (4 retries, backoff from 1 s) and times a request out after 10 s.
// It does not renew tokens: an access token that Infisical refuses (expired, use limit reached)
// triggers one new login and one retry here.

export const DEFAULT_SECRET_PATH = '/infraai/ssh';
const KEY_PREFIX = 'INFRAAI_SSH_';
const VALUE_FORMAT = 1;

export interface InfisicalVaultOptions {
  /** Infisical's base URL, e.g. https://app.infisical.com, https://eu.infisical.com or a self-hosted instance. */
  siteUrl: string;
  /** Universal Auth (machine identity) client ID: not secret. */
  clientId: string;
  clientSecret: string;
  projectId: string;
  /** Environment slug, e.g. 'dev' or 'prod'. */
  environment: string;
  /** Folder holding the credentials; created on the first put when missing. Default /infraai/ssh. */
  secretPath?: string | undefined;
}

/** Infisical refused the machine identity: bad client ID or secret (401), or no permission (403). */
export class InfisicalAuthError extends Error {
  override readonly name = 'InfisicalAuthError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Any other refusal or unexpected answer from Infisical (e.g. an unknown environment). */
export class InfisicalRequestError extends Error {
  override readonly name = 'InfisicalRequestError';
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

/** What an SDK call failed with: the HTTP status (undefined: no answer) and Infisical's message. */
interface Failure {
  status: number | undefined;
  detail: string;
}

interface StoredValue {
  v: number;
  tenantId: string;
  name: string;
  username: string;
  keyType: string;
  fingerprint: string;
  privateKey: string;
  passphrase: string | null;
  createdAt: string;
}

const LOWER_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');

const tenantSegment = (tenantId: string) => (LOWER_UUID.test(tenantId) ? tenantId.replaceAll('-', '') : `x${hex(tenantId)}`);

/** The Infisical secret key that holds a tenant's credential. */
export function infisicalSecretKey(tenantId: string, name: string): string {
  return `${KEY_PREFIX}${tenantSegment(tenantId)}_${hex(name)}`;
}

/** The credential name inside one of this tenant's keys, or null for any other key. */
function nameFromKey(tenantId: string, key: string): string | null {
  const prefix = `${KEY_PREFIX}${tenantSegment(tenantId)}_`;
  if (!key.startsWith(prefix)) return null;
  const encoded = key.slice(prefix.length);
  if (!/^(?:[0-9a-f]{2})*$/.test(encoded)) return null;
  return Buffer.from(encoded, 'hex').toString('utf8');
}

/** JSON in which no '$' appears as such, so Infisical finds no ${reference} in it. */
const encodeValue = (value: StoredValue) => JSON.stringify(value).replaceAll('$', '\\u0024');

function decodeValue(text: string, tenantId: string, name: string): StoredValue | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const strings = ['username', 'keyType', 'fingerprint', 'privateKey', 'createdAt'] as const;
  if (!strings.every((field) => typeof v[field] === 'string')) return null;
  if (v.passphrase !== null && typeof v.passphrase !== 'string') return null;
  // Bound to its key like the embedded vault's authenticated data: a value copied under another
  // tenant's or name's key is not taken for that credential.
  if (v.tenantId !== tenantId || v.name !== name) return null;
  return value as StoredValue;
}

const info = (value: StoredValue): SshCredentialInfo => ({
  name: value.name,
  username: value.username,
  keyType: value.keyType,
  fingerprint: value.fingerprint,
  createdAt: value.createdAt,
});

/**
 * The SDK's errors (not exported by it) carry the status in their message:
 * `[URL=…] [Method=…] [StatusCode=404] <Infisical's message>` when Infisical answered with a message,
 * `Request failed with status 502` when it answered without one, and fetch's own message
 * (`fetch failed`, `This operation was aborted`) when nothing answered.
 */
function failureOf(err: unknown): Failure {
  const message = err instanceof Error ? err.message : String(err);
  const answered = /\[StatusCode=(\d{3})\]\s*([\s\S]*)$/.exec(message);
  if (answered) return { status: Number(answered[1]), detail: answered[2]!.trim() };
  const bare = /Request failed with status (\d{3})/.exec(message);
  if (bare) return { status: Number(bare[1]), detail: 'no message' };
  return { status: undefined, detail: message };
}

/** A 404 that names the project or the environment: the configuration is wrong, not the credential missing. */
const isConfigNotFound = (failure: Failure) => failure.status === 404 && /^(environment|project)\b/i.test(failure.detail);

function normalizeSecretPath(path: string | undefined): string {
  const raw = (path ?? DEFAULT_SECRET_PATH).trim() || '/';
  const segments = raw.split('/').filter(Boolean);
  for (const segment of segments) {
    if (!/^[A-Za-z0-9_-]+$/.test(segment))
      throw new Error(`Infisical secretPath '${raw}': folder names may hold letters, digits, '-' and '_' only.`);
  }
  return `/${segments.join('/')}`;
}

function required(options: InfisicalVaultOptions): InfisicalVaultOptions {
  const missing = (['siteUrl', 'clientId', 'clientSecret', 'projectId', 'environment'] as const).filter((field) => !options[field]?.trim());
  if (missing.length) throw new Error(`Infisical vault: ${missing.join(', ')} must be set.`);
  let url: URL;
  try {
    url = new URL(options.siteUrl.trim());
  } catch {
    throw new Error(`Infisical vault: siteUrl '${options.siteUrl}' is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`Infisical vault: siteUrl '${options.siteUrl}' must be http(s).`);
  return {
    ...options,
    siteUrl: options.siteUrl.trim().replace(/\/+$/, ''),
    clientId: options.clientId.trim(),
    projectId: options.projectId.trim(),
    environment: options.environment.trim(),
  };
}

const FOLDER_MISSING = Symbol('folder missing');

/**
 * One machine identity's session with Infisical, shared by the credential vault and the secret
 * store built from the same configuration: one SDK client, one login.
 */
class InfisicalConnection {
  readonly options: InfisicalVaultOptions;
  readonly sdk: InfisicalSDK;
  /** The login in force (or under way), shared by concurrent calls; null: log in on the next call. */
  private session: Promise<void> | null = null;

  constructor(options: InfisicalVaultOptions) {
    this.options = required(options);
    this.sdk = new InfisicalSDK({ siteUrl: this.options.siteUrl });
  }

  /** Logs in (once; concurrent callers share it). */
  login(): Promise<void> {
    if (!this.session) {
      const session = this.sdk
        .auth()
        .universalAuth.login({ clientId: this.options.clientId, clientSecret: this.options.clientSecret })
        .then(() => undefined)
        .catch((err: unknown) => {
          if (this.session === session) this.session = null;
          throw this.toError(failureOf(err), 'log in with Universal Auth', null);
        });
      this.session = session;
    }
    return this.session;
  }

  /** Where a folder is, for messages. */
  where(secretPath: string): string {
    return `in project '${this.options.projectId}', environment '${this.options.environment}', path '${secretPath}'`;
  }

  /** Creates a folder segment by segment (older servers do not create missing parents); existing ones are fine. */
  async ensureFolder(secretPath: string, description: string): Promise<void> {
    const segments = secretPath.split('/').filter(Boolean);
    for (let i = 0; i < segments.length; i++) {
      const parent = `/${segments.slice(0, i).join('/')}`;
      await this.call(
        `create the folder ${parent === '/' ? '' : parent}/${segments[i]}`,
        secretPath,
        () =>
          this.sdk.folders().create({
            name: segments[i]!,
            path: parent,
            projectId: this.options.projectId,
            environment: this.options.environment,
            description: i === segments.length - 1 ? description : undefined,
          }),
        (failure) => (failure.status === 400 && /already exist/i.test(failure.detail) ? null : undefined),
      );
    }
  }

  /**
   * Runs an SDK call with a login first; an access token refused with 401 gets one new login and
   * one retry. `expected` turns an anticipated failure into a result (undefined: not anticipated);
   * anything else becomes SecretsUnavailableError, InfisicalAuthError or InfisicalRequestError
   * naming the operation and (when given) the folder.
   */
  async call<T, E = never>(
    operation: string,
    secretPath: string | null,
    fn: () => Promise<T>,
    expected?: (failure: Failure) => E | undefined,
  ): Promise<T | E> {
    for (let attempt = 1; ; attempt++) {
      const session = this.login();
      await session;
      try {
        return await fn();
      } catch (err) {
        const failure = failureOf(err);
        if (failure.status === 401 && attempt === 1) {
          if (this.session === session) this.session = null;
          continue;
        }
        const result = expected?.(failure);
        if (result !== undefined) return result;
        throw this.toError(failure, operation, secretPath);
      }
    }
  }

  /** `secretPath` null: the failure happened at login (no folder involved). */
  private toError(failure: Failure, operation: string, secretPath: string | null): Error {
    const atLogin = secretPath === null;
    const detail = this.redact(failure.detail);
    const { status } = failure;
    const what = secretPath === null ? operation : `${operation} ${this.where(secretPath)}`;
    const site = `Infisical at ${this.options.siteUrl}`;
    if (status === undefined)
      return new SecretsUnavailableError(`${site} did not answer (${detail}) when trying to ${what}; try again shortly.`, undefined);
    if (status === 429)
      return new SecretsUnavailableError(
        `${site} is rate-limiting requests (429: ${detail}) when trying to ${what}; try again shortly.`,
        status,
      );
    if (status >= 500)
      return new SecretsUnavailableError(`${site} failed (${status}: ${detail}) when trying to ${what}; try again shortly.`, status);
    if (status === 401 && atLogin) {
      return new InfisicalAuthError(
        `Infisical refused the Universal Auth login of machine identity client ID '${this.options.clientId}' at ${this.options.siteUrl} (401: ${detail}): check the client ID and client secret, and that the secret is neither revoked nor expired.`,
        status,
      );
    }
    if (status === 401)
      return new InfisicalAuthError(
        `Infisical refused a fresh access token of machine identity '${this.options.clientId}' (401: ${detail}) when trying to ${what}.`,
        status,
      );
    if (status === 403) {
      return new InfisicalAuthError(
        `The Infisical machine identity '${this.options.clientId}' may not ${what} (403: ${detail}): give it a project role with access there.`,
        status,
      );
    }
    return new InfisicalRequestError(`Infisical refused to ${what} (${status}: ${detail}).`, status);
  }

  /** Infisical's messages should never hold the client secret or a token; make sure of it. */
  private redact(text: string): string {
    let out = text.replaceAll(this.options.clientSecret, '[client secret]');
    const token = this.sdk.auth().getAccessToken();
    if (token) out = out.replaceAll(token, '[access token]');
    return out;
  }
}

/** SSH credentials kept in Infisical, one secret each, authenticated as a machine identity (Universal Auth). */
export class InfisicalCredentialVault implements CredentialVault {
  readonly kind = 'infisical';
  readonly secretPath: string;
  private readonly connection: InfisicalConnection;

  constructor(options: InfisicalVaultOptions, connection?: InfisicalConnection) {
    this.connection = connection ?? new InfisicalConnection(options);
    this.secretPath = normalizeSecretPath(options.secretPath);
  }

  private get options(): InfisicalVaultOptions {
    return this.connection.options;
  }

  private get sdk(): InfisicalSDK {
    return this.connection.sdk;
  }

  /** Logs in (once; concurrent callers share it). */
  login(): Promise<void> {
    return this.connection.login();
  }

  async put(tenantId: string, input: SshCredentialInput): Promise<SshCredentialInfo> {
    const { keyType, fingerprint } = inspectPrivateKey(input.privateKey, input.passphrase);
    const value: StoredValue = {
      v: VALUE_FORMAT,
      tenantId,
      name: input.name,
      username: input.username,
      keyType,
      fingerprint,
      privateKey: input.privateKey,
      passphrase: input.passphrase ?? null,
      createdAt: new Date().toISOString(),
    };
    const key = infisicalSecretKey(tenantId, input.name);
    const create = () =>
      this.call(
        'store an SSH credential',
        () =>
          this.sdk.secrets().createSecret(key, {
            projectId: this.options.projectId,
            environment: this.options.environment,
            secretPath: this.secretPath,
            secretValue: encodeValue(value),
            secretComment: `InfraAI SSH credential '${input.name}' of tenant ${tenantId}`,
            type: SecretType.Shared,
          }),
        (failure) => {
          if (failure.status === 400 && /already exist/i.test(failure.detail)) throw new DuplicateKeyError('SSH credential', input.name);
          if (failure.status === 404 && /folder/i.test(failure.detail) && !isConfigNotFound(failure)) return FOLDER_MISSING;
          return undefined;
        },
      );
    if ((await create()) === FOLDER_MISSING) {
      await this.connection.ensureFolder(this.secretPath, 'SSH credentials stored by InfraAI');
      if ((await create()) === FOLDER_MISSING)
        throw new InfisicalRequestError(`Infisical has no folder ${this.where()} even after creating it.`, 404);
    }
    return info(value);
  }

  async list(tenantId: string): Promise<SshCredentialInfo[]> {
    const answer = await this.call(
      'list SSH credentials',
      () =>
        this.sdk.secrets().listSecrets({
          projectId: this.options.projectId,
          environment: this.options.environment,
          secretPath: this.secretPath,
          expandSecretReferences: false,
          includeImports: false,
          recursive: false,
          viewSecretValue: true,
        }),
      (failure) => (failure.status === 404 && !isConfigNotFound(failure) ? { secrets: [] } : undefined),
    );
    const credentials: SshCredentialInfo[] = [];
    for (const secret of answer.secrets) {
      const name = nameFromKey(tenantId, secret.secretKey);
      if (name === null) continue;
      // A value that is not ours (edited by hand, or hidden from this identity) is left out of the list;
      // reveal says what is wrong with it.
      const value = secret.secretValueHidden ? null : decodeValue(secret.secretValue, tenantId, name);
      if (value) credentials.push(info(value));
    }
    return credentials.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async reveal(tenantId: string, name: string): Promise<SshCredential | null> {
    const secret = await this.call(
      'read an SSH credential',
      () =>
        this.sdk.secrets().getSecret({
          projectId: this.options.projectId,
          environment: this.options.environment,
          secretPath: this.secretPath,
          secretName: infisicalSecretKey(tenantId, name),
          type: SecretType.Shared,
          expandSecretReferences: false,
          includeImports: false,
          viewSecretValue: true,
        }),
      (failure) => (failure.status === 404 && !isConfigNotFound(failure) ? null : undefined),
    );
    if (!secret) return null;
    if (secret.secretValueHidden) {
      throw new InfisicalAuthError(
        `The Infisical machine identity '${this.options.clientId}' may not read secret values ${this.where()}: grant it read access there.`,
        403,
      );
    }
    const value = decodeValue(secret.secretValue, tenantId, name);
    if (!value)
      throw new InfisicalRequestError(
        `The Infisical secret for SSH credential '${name}' ${this.where()} is not in InfraAI's format (edited outside InfraAI?); delete and store the credential again.`,
        undefined,
      );
    return { ...info(value), privateKey: value.privateKey, passphrase: value.passphrase };
  }

  async delete(tenantId: string, name: string): Promise<boolean> {
    return this.call(
      'delete an SSH credential',
      async () => {
        await this.sdk.secrets().deleteSecret(infisicalSecretKey(tenantId, name), {
          projectId: this.options.projectId,
          environment: this.options.environment,
          secretPath: this.secretPath,
          type: SecretType.Shared,
        });
        return true;
      },
      (failure) => (failure.status === 404 && !isConfigNotFound(failure) ? false : undefined),
    );
  }

  private call<T, E = never>(operation: string, fn: () => Promise<T>, expected?: (failure: Failure) => E | undefined): Promise<T | E> {
    return this.connection.call(operation, this.secretPath, fn, expected);
  }

  private where(): string {
    return this.connection.where(this.secretPath);
  }
}

export const DEFAULT_SECRET_VALUES_PATH = '/infraai/tenants';

interface StoredSecretValue {
  v: number;
  tenantId: string;
  path: string;
  value: string;
}

const encodeSecretValue = (value: StoredSecretValue) => JSON.stringify(value).replaceAll('$', '\\u0024');

/** The value when the stored JSON is ours and bound to this tenant and path; null otherwise. */
function decodeSecretValue(text: string, tenantId: string, path: string): string | null {
  try {
    const parsed = JSON.parse(text) as Partial<StoredSecretValue> | null;
    if (parsed?.tenantId !== tenantId || parsed.path !== path || typeof parsed.value !== 'string') return null;
    return parsed.value;
  } catch {
    return null;
  }
}

/**
 * Secret values kept in Infisical (the SecretStore port). Layout: the value at path `a/b/c` of a
 * tenant is the secret `c` in the folder `<valuesPath>/<tenant>/a/b` (`<tenant>` as in the SSH keys'
 * names), so each tenant's and each user's secrets have a folder of their own that Infisical's
 * access rules can be written against. The value is JSON {v, tenantId, path, value} with '$' as
 * \u0024 (no ${reference} expansion), bound to its tenant and path like the embedded adapter's
 * authenticated data. Missing folders are created on the first put.
 *
 * Calls, besides the vault's: PATCH /api/v3/secrets/raw/{key} JSON {workspaceId, environment,
 * secretPath, secretValue, type} to replace a value that exists.
 */
export class InfisicalSecretStore implements SecretStore {
  readonly kind = 'infisical';
  readonly valuesPath: string;
  private readonly connection: InfisicalConnection;

  constructor(options: InfisicalVaultOptions & { valuesPath?: string | undefined }, connection?: InfisicalConnection) {
    this.connection = connection ?? new InfisicalConnection(options);
    this.valuesPath = normalizeSecretPath(options.valuesPath ?? DEFAULT_SECRET_VALUES_PATH);
  }

  login(): Promise<void> {
    return this.connection.login();
  }

  /** The Infisical folder and secret key of a tenant's path. */
  locate(tenantId: string, path: string): { folder: string; key: string } {
    const segments = secretPathSegments(path);
    const key = segments.pop()!;
    const root = this.valuesPath === '/' ? '' : this.valuesPath;
    return { folder: [root, tenantSegment(tenantId), ...segments].join('/'), key };
  }

  async put(tenantId: string, path: string, value: string): Promise<void> {
    checkSecretValue(value);
    const { folder, key } = this.locate(tenantId, path);
    const { projectId, environment } = this.connection.options;
    const secretValue = encodeSecretValue({ v: VALUE_FORMAT, tenantId, path, value });
    const EXISTS = Symbol('exists');
    const create = () =>
      this.connection.call(
        'store a secret',
        folder,
        () =>
          this.connection.sdk.secrets().createSecret(key, {
            projectId,
            environment,
            secretPath: folder,
            secretValue,
            secretComment: `InfraAI secret '${path}' of tenant ${tenantId}`,
            type: SecretType.Shared,
          }),
        (failure) => {
          if (failure.status === 400 && /already exist/i.test(failure.detail)) return EXISTS;
          if (failure.status === 404 && /folder/i.test(failure.detail) && !isConfigNotFound(failure)) return FOLDER_MISSING;
          return undefined;
        },
      );
    let outcome = await create();
    if (outcome === FOLDER_MISSING) {
      await this.connection.ensureFolder(folder, 'Secrets stored by InfraAI');
      outcome = await create();
      if (outcome === FOLDER_MISSING)
        throw new InfisicalRequestError(`Infisical has no folder ${this.connection.where(folder)} even after creating it.`, 404);
    }
    if (outcome !== EXISTS) return;
    await this.connection.call('replace a secret', folder, () =>
      this.connection.sdk.secrets().updateSecret(key, { projectId, environment, secretPath: folder, secretValue, type: SecretType.Shared }),
    );
  }

  async get(tenantId: string, path: string): Promise<string | null> {
    const { folder, key } = this.locate(tenantId, path);
    const { projectId, environment, clientId } = this.connection.options;
    const secret = await this.connection.call(
      'read a secret',
      folder,
      () =>
        this.connection.sdk.secrets().getSecret({
          projectId,
          environment,
          secretPath: folder,
          secretName: key,
          type: SecretType.Shared,
          expandSecretReferences: false,
          includeImports: false,
          viewSecretValue: true,
        }),
      (failure) => (failure.status === 404 && !isConfigNotFound(failure) ? null : undefined),
    );
    if (!secret) return null;
    if (secret.secretValueHidden) {
      throw new InfisicalAuthError(
        `The Infisical machine identity '${clientId}' may not read secret values ${this.connection.where(folder)}: grant it read access there.`,
        403,
      );
    }
    const value = decodeSecretValue(secret.secretValue, tenantId, path);
    if (value === null)
      throw new InfisicalRequestError(
        `The Infisical secret '${key}' ${this.connection.where(folder)} is not in InfraAI's format (edited outside InfraAI?); store it again through InfraAI.`,
        undefined,
      );
    return value;
  }

  async delete(tenantId: string, path: string): Promise<boolean> {
    const { folder, key } = this.locate(tenantId, path);
    const { projectId, environment } = this.connection.options;
    return this.connection.call(
      'delete a secret',
      folder,
      async () => {
        await this.connection.sdk.secrets().deleteSecret(key, { projectId, environment, secretPath: folder, type: SecretType.Shared });
        return true;
      },
      (failure) => (failure.status === 404 && !isConfigNotFound(failure) ? false : undefined),
    );
  }
}

/** Opens the Infisical vault and logs in, so that bad credentials or an unreachable server show at start. */
export async function openInfisicalVault(options: InfisicalVaultOptions): Promise<InfisicalCredentialVault> {
  const vault = new InfisicalCredentialVault(options);
  await vault.login();
  return vault;
}

/** The credential vault and the secret store over one Infisical session, logged in (bad credentials show at start). */
export async function openInfisicalSecrets(
  options: InfisicalVaultOptions & { valuesPath?: string | undefined },
): Promise<{ vault: InfisicalCredentialVault; secrets: InfisicalSecretStore }> {
  const connection = new InfisicalConnection(options);
  await connection.login();
  return { vault: new InfisicalCredentialVault(options, connection), secrets: new InfisicalSecretStore(options, connection) };
}
