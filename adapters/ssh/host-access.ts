import type { CmdbItem } from '../../core/incident.js';
import type { CredentialVault } from '../secrets/credential-vault.js';
import type { HostKeyRepository } from '../store/store.js';
import { openSshSession, trustOnFirstUse, type SshSession } from './ssh-executor.js';

/** The CMDB item names no credential, or a credential that does not exist (any more). */
export class CredentialNotFoundError extends Error {
  override readonly name = 'CredentialNotFoundError';
}

/** How activities reach a host: the CMDB item's credential, revealed only inside the activity. */
export interface HostAccess {
  connect(tenantId: string, item: CmdbItem): Promise<SshSession>;
}

export function createHostAccess(deps: { vault: CredentialVault; hostKeys: HostKeyRepository; connectTimeoutMs?: number }): HostAccess {
  return {
    async connect(tenantId, item) {
      if (!item.sshCredential) throw new CredentialNotFoundError(`CMDB item '${item.tagId}' names no SSH credential (sshCredential).`);
      const credential = await deps.vault.reveal(tenantId, item.sshCredential);
      if (!credential)
        throw new CredentialNotFoundError(`SSH credential '${item.sshCredential}' of CMDB item '${item.tagId}' does not exist.`);
      return openSshSession(
        {
          host: item.address,
          port: item.port,
          username: item.sshUser ?? credential.username,
          privateKey: credential.privateKey,
          passphrase: credential.passphrase,
        },
        trustOnFirstUse(deps.hostKeys, tenantId),
        { connectTimeoutMs: deps.connectTimeoutMs ?? 15_000 },
      );
    },
  };
}
