import type { Config } from '../../config.js';
import type { Store } from '../store/store.js';
import { EncryptedCredentialVault, resolveSecretsKey, type CredentialVault } from './credential-vault.js';

/** The configured credential vault: the embedded encrypted one (its key from the env or the data dir). */
export async function createCredentialVault(config: Pick<Config, 'secrets'>, store: Store): Promise<{ vault: CredentialVault; keySource: string }> {
  const { key, source } = await resolveSecretsKey(config.secrets);
  return { vault: new EncryptedCredentialVault(store, key), keySource: source === 'environment' ? 'INFRAAI_SECRETS_KEY' : config.secrets.keyFile };
}
