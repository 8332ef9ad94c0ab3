import type { Config } from '../../config.js';
import type { Store } from '../store/port.js';
import { EncryptedCredentialVault, EncryptedSecretStore, resolveSecretsKey } from './encrypted-vault.js';
import { type CredentialVault, type SecretStore } from './port.js';

/**
 * The configured secrets adapters: Infisical when INFISICAL_* is set (the credential vault and the
 * secret store share one session), else the embedded encrypted ones (one key, from the env or the
 * data dir).
 */
export async function createCredentialVault(
  config: Pick<Config, 'secrets' | 'infisical'>,
  store: Store,
): Promise<{ vault: CredentialVault; secrets: SecretStore; keySource: string }> {
  if (config.infisical) {
    // Loaded only when configured: the SDK (and its AWS dependencies) stays out of other deployments.
    const { openInfisicalSecrets } = await import('./infisical-vault.js');
    const { secretPath, ...options } = config.infisical;
    const { vault, secrets } = await openInfisicalSecrets({ ...options, ...(secretPath ? { secretPath } : {}) });
    return { vault, secrets, keySource: `Infisical project ${config.infisical.projectId}` };
  }
  const { key, source } = await resolveSecretsKey(config.secrets);
  return {
    vault: new EncryptedCredentialVault(store, key),
    secrets: new EncryptedSecretStore(store, key),
    keySource: source === 'environment' ? 'INFRAAI_SECRETS_KEY' : config.secrets.keyFile,
  };
}
