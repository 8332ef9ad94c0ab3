// The credential vault port: sealed SSH credentials by name, and the errors its implementations raise.

/** What a caller may see of a credential: never the key or the passphrase. */
export interface SshCredentialInfo {
  name: string;
  username: string;
  keyType: string;
  fingerprint: string;
  createdAt: string;
}

export interface SshCredential extends SshCredentialInfo {
  privateKey: string;
  passphrase: string | null;
}

export interface SshCredentialInput {
  name: string;
  username: string;
  privateKey: string;
  passphrase?: string | null | undefined;
}

/**
 * The secrets port for SSH credentials. The embedded adapter seals keys with AES-256-GCM before
 * they reach the store; an Infisical adapter would keep them in Infisical instead.
 */
export interface CredentialVault {
  readonly kind: string;
  /** Validates the key (and passphrase) first; throws InvalidPrivateKeyError or DuplicateKeyError. */
  put(tenantId: string, input: SshCredentialInput): Promise<SshCredentialInfo>;
  list(tenantId: string): Promise<SshCredentialInfo[]>;
  /** The secret itself: for activities that open SSH sessions, never for API responses. */
  reveal(tenantId: string, name: string): Promise<SshCredential | null>;
  delete(tenantId: string, name: string): Promise<boolean>;
}

/** A sealed value that does not open: wrong key, or the row was tampered with or moved. */
export class SecretDecryptionError extends Error {
  override readonly name = 'SecretDecryptionError';
}

/** Infisical cannot be reached or is overloaded (network failure, timeout, 429, 5xx): try again later. */
export class SecretsUnavailableError extends Error {
  override readonly name = 'SecretsUnavailableError';
  constructor(
    message: string,
    /** The HTTP status when Infisical answered; undefined for network failures and timeouts. */
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

/** A private key that cannot be used: not a key, a public key, or a wrong or missing passphrase. */
export class InvalidPrivateKeyError extends Error {
  override readonly name = 'InvalidPrivateKeyError';
}

/**
 * Secret values by path, per tenant: the tokens and passwords of integration settings
 * (tools/integration-settings.ts), and any other secret that is not an SSH key. The embedded adapter
 * seals each value (AES-256-GCM, tenant and path authenticated) into the store's sealed_secrets; the
 * Infisical adapter keeps it as a secret in a folder of the tenant. A path is 1 to 8 segments of
 * letters, digits, '-' and '_', joined by '/' (secretPathSegment makes a segment of any text).
 */
export interface SecretStore {
  readonly kind: string;
  /** Creates or replaces the value. */
  put(tenantId: string, path: string, value: string): Promise<void>;
  get(tenantId: string, path: string): Promise<string | null>;
  /** False when there was nothing at that path. */
  delete(tenantId: string, path: string): Promise<boolean>;
}

/** A secret path that is not 1 to 8 segments of letters, digits, '-' and '_', or a value too large. */
export class InvalidSecretPathError extends Error {
  override readonly name = 'InvalidSecretPathError';
}

const SEGMENT = /^[A-Za-z0-9_-]{1,200}$/;
/** A sealed or stored value is at most this many UTF-8 bytes. */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;

/** The path's segments, after checking it (every adapter maps segments to its own layout). */
export function secretPathSegments(path: string): string[] {
  const segments = path.split('/');
  if (segments.length < 1 || segments.length > 8 || !segments.every((segment) => SEGMENT.test(segment)))
    throw new InvalidSecretPathError(
      `Secret path '${path}' must be 1 to 8 segments of letters, digits, '-' and '_' (at most 200 each), joined by '/'.`,
    );
  return segments;
}

export function checkSecretValue(value: string): void {
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES)
    throw new InvalidSecretPathError(`A secret value may hold at most ${MAX_SECRET_VALUE_BYTES} bytes.`);
}

/**
 * Any text as one path segment, readable and reversible: letters, digits and '-' stay, every other
 * UTF-8 byte becomes '_' and two hex digits (`api-key:3f…` → `api-key_3a3f…`).
 */
export function secretPathSegment(text: string): string {
  if (text === '') return '_';
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(char) ? char : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}
