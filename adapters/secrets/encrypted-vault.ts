import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Store, StoredCredential } from '../store/port.js';
import { inspectPrivateKey } from './ssh-keys.js';
import {
  checkSecretValue,
  type CredentialVault,
  SecretDecryptionError,
  type SecretStore,
  secretPathSegments,
  type SshCredential,
  type SshCredentialInfo,
  type SshCredentialInput,
} from './port.js';

const FORMAT = 'v1';

/** AES-256-GCM with a fresh 12-byte IV; `aad` binds the ciphertext to where it is kept. */
function seal(key: Buffer, aad: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [FORMAT, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(':');
}

function open(key: Buffer, aad: string, sealed: string, what: string): string {
  const [format, iv, tag, data] = sealed.split(':');
  if (format !== FORMAT || !iv || !tag || data === undefined) throw new SecretDecryptionError(`${what} is not in a known sealed format.`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretDecryptionError(
      `${what} cannot be decrypted: the secrets key (INFRAAI_SECRETS_KEY) differs from the one that sealed it.`,
    );
  }
}

const info = (row: StoredCredential): SshCredentialInfo => ({
  name: row.name,
  username: row.username,
  keyType: row.keyType,
  fingerprint: row.fingerprint,
  createdAt: row.createdAt,
});

/** Credentials sealed with AES-256-GCM; the tenant and name are authenticated data, so a sealed row cannot be replayed under another name. */
export class EncryptedCredentialVault implements CredentialVault {
  readonly kind = 'local-encrypted';

  constructor(
    private readonly store: Store,
    private readonly key: Buffer,
  ) {
    if (key.length !== 32) throw new Error('The secrets key must be 32 bytes (AES-256).');
  }

  private seal(tenantId: string, name: string, plaintext: string): string {
    return seal(this.key, `${tenantId}/${name}`, plaintext);
  }

  private open(tenantId: string, name: string, sealed: string): string {
    return open(this.key, `${tenantId}/${name}`, sealed, `Credential '${name}'`);
  }

  async put(tenantId: string, input: SshCredentialInput): Promise<SshCredentialInfo> {
    const { keyType, fingerprint } = inspectPrivateKey(input.privateKey, input.passphrase);
    const ciphertext = this.seal(
      tenantId,
      input.name,
      JSON.stringify({ privateKey: input.privateKey, passphrase: input.passphrase ?? null }),
    );
    return info(
      await this.store.credentials.insert({ tenantId, name: input.name, username: input.username, keyType, fingerprint, ciphertext }),
    );
  }

  async list(tenantId: string): Promise<SshCredentialInfo[]> {
    return (await this.store.credentials.list(tenantId)).map(info);
  }

  async reveal(tenantId: string, name: string): Promise<SshCredential | null> {
    const row = await this.store.credentials.get(tenantId, name);
    if (!row) return null;
    const secret = JSON.parse(this.open(tenantId, name, row.ciphertext)) as { privateKey: string; passphrase: string | null };
    return { ...info(row), privateKey: secret.privateKey, passphrase: secret.passphrase };
  }

  delete(tenantId: string, name: string): Promise<boolean> {
    return this.store.credentials.delete(tenantId, name);
  }
}

/**
 * Secret values sealed with AES-256-GCM into the store's sealed_secrets. The authenticated data is
 * `secret:<tenant>/<path>`, never a credential's `<tenant>/<name>`: a sealed value opens only
 * where it was written, and never as an SSH credential or the other way round.
 */
export class EncryptedSecretStore implements SecretStore {
  readonly kind = 'local-encrypted';

  constructor(
    private readonly store: Store,
    private readonly key: Buffer,
  ) {
    if (key.length !== 32) throw new Error('The secrets key must be 32 bytes (AES-256).');
  }

  async put(tenantId: string, path: string, value: string): Promise<void> {
    secretPathSegments(path);
    checkSecretValue(value);
    await this.store.sealedSecrets.put(tenantId, path, seal(this.key, `secret:${tenantId}/${path}`, value));
  }

  async get(tenantId: string, path: string): Promise<string | null> {
    secretPathSegments(path);
    const row = await this.store.sealedSecrets.get(tenantId, path);
    return row ? open(this.key, `secret:${tenantId}/${path}`, row.ciphertext, `Secret '${path}'`) : null;
  }

  async delete(tenantId: string, path: string): Promise<boolean> {
    secretPathSegments(path);
    return this.store.sealedSecrets.delete(tenantId, path);
  }
}

/**
 * The 32-byte key that seals credentials: INFRAAI_SECRETS_KEY (base64 or hex) when set, otherwise a
 * key file generated on first start (mode 0600) beside the data. Processes sharing a database must
 * share the key: set INFRAAI_SECRETS_KEY for a multi-machine deployment.
 */
export async function resolveSecretsKey(options: {
  key: string | null;
  keyFile: string;
}): Promise<{ key: Buffer; source: 'environment' | 'file' | 'generated' }> {
  if (options.key) return { key: decodeKey(options.key, 'INFRAAI_SECRETS_KEY'), source: 'environment' };
  try {
    return { key: decodeKey((await readFile(options.keyFile, 'utf8')).trim(), options.keyFile), source: 'file' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(options.keyFile), { recursive: true });
  const key = randomBytes(32);
  try {
    // 'wx': two processes starting together must not each write a different key.
    await writeFile(options.keyFile, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return resolveSecretsKey(options);
    throw err;
  }
  await chmod(options.keyFile, 0o600);
  return { key, source: 'generated' };
}

function decodeKey(text: string, where: string): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32)
    throw new Error(`${where} must hold a 32-byte key (base64 or 64 hex digits); generate one with: openssl rand -base64 32`);
  return key;
}
