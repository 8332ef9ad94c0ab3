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
