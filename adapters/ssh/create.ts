import type { CredentialVault } from '../secrets/port.js';
import type { HostKeyRepository } from '../store/port.js';
import { openSshSession, trustOnFirstUse } from './ssh-executor.js';
import { CredentialNotFoundError, type HostAccess } from './port.js';

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
