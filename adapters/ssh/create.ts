import type { CredentialVault } from '../secrets/port.js';
import type { HostKeyRepository } from '../store/port.js';
import { SshSessionPool, type SshPoolStats } from './session-pool.js';
import { openSshSession, trustOnFirstUse } from './ssh-executor.js';
import { CredentialNotFoundError, type HostAccess } from './port.js';

/** How long an unused connection stays open, and how many are kept, when the caller does not say. */
export const DEFAULT_SSH_IDLE_MS = 30_000;
export const DEFAULT_SSH_POOL_MAX_IDLE = 32;

/** Host access over SSH: the item's credential from the vault, connections kept between steps. */
export function createHostAccess(deps: {
  vault: CredentialVault;
  hostKeys: HostKeyRepository;
  connectTimeoutMs?: number;
  /** 0: every step opens its own connection. */
  idleMs?: number;
  maxIdle?: number;
}): HostAccess & { close(): Promise<void>; stats(): SshPoolStats } {
  const pool = new SshSessionPool({
    hostKeys: deps.hostKeys,
    idleMs: deps.idleMs ?? DEFAULT_SSH_IDLE_MS,
    maxIdle: deps.maxIdle ?? DEFAULT_SSH_POOL_MAX_IDLE,
    dial: (tenantId, target) =>
      openSshSession(target, trustOnFirstUse(deps.hostKeys, tenantId), { connectTimeoutMs: deps.connectTimeoutMs ?? 15_000 }),
  });
  return {
    async connect(tenantId, item) {
      if (!item.sshCredential) throw new CredentialNotFoundError(`CMDB item '${item.tagId}' names no SSH credential (sshCredential).`);
      // Revealed on every step, so a rotated or deleted credential takes effect at the next step.
      const credential = await deps.vault.reveal(tenantId, item.sshCredential);
      if (!credential)
        throw new CredentialNotFoundError(`SSH credential '${item.sshCredential}' of CMDB item '${item.tagId}' does not exist.`);
      return pool.borrow(tenantId, {
        host: item.address,
        port: item.port,
        username: item.sshUser ?? credential.username,
        privateKey: credential.privateKey,
        passphrase: credential.passphrase,
      });
    },
    close: () => pool.close(),
    stats: () => pool.stats(),
  };
}
