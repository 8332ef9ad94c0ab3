import type { Config } from '../../config.js';
import type { Store } from '../store/port.js';
import { EncryptedCredentialVault, resolveSecretsKey } from './encrypted-vault.js';
import { type CredentialVault } from './port.js';

/** The configured credential vault: Infisical when INFISICAL_* is set, else the embedded encrypted one (its key from the env or the data dir). */
export async function createCredentialVault(
  config: Pick<Config, 'secrets' | 'infisical'>,
  store: Store,
): Promise<{ vault: CredentialVault; keySource: string }> {
  if (config.infisical) {
    // Loaded only when configured: the SDK (and its AWS dependencies) stays out of other deployments.
    const { openInfisicalVault } = await import('./infisical-vault.js');
    const { secretPath, ...options } = config.infisical;
    return {
      vault: await openInfisicalVault({ ...options, ...(secretPath ? { secretPath } : {}) }),
      keySource: `Infisical project ${config.infisical.projectId}`,
    };
  }
  const { key, source } = await resolveSecretsKey(config.secrets);
  return {
    vault: new EncryptedCredentialVault(store, key),
    keySource: source === 'environment' ? 'INFRAAI_SECRETS_KEY' : config.secrets.keyFile,
  };
}
