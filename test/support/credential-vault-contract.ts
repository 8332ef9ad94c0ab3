import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialVault } from '../../adapters/secrets/port.js';
import { InvalidPrivateKeyError } from '../../adapters/secrets/port.js';
import { DuplicateKeyError } from '../../adapters/store/port.js';

// The CredentialVault contract every adapter passes: validated on the way in, listed without key
// material, revealed exactly, names unique per tenant, tenants isolated, deletes idempotent.
// `open` gives a vault and two tenants that start empty; whatever the tests leave behind is
// deleted before `close`, so live backends are cleaned up too.

export interface OpenedVault {
  vault: CredentialVault;
  tenantA: string;
  tenantB: string;
  close?(): Promise<void>;
}

export interface TestKey {
  privateKey: string;
  publicKey: string;
  /** `SHA256:…` as ssh-keygen -lf prints it. */
  fingerprint: string;
  passphrase: string | null;
}

/** A fresh key from ssh-keygen (ed25519, or 2048-bit RSA), optionally encrypted with a passphrase. */
export async function generateTestKey(
  dir: string,
  file: string,
  type: 'ed25519' | 'rsa',
  passphrase: string | null = null,
): Promise<TestKey> {
  const path = join(dir, file);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', passphrase ?? '', '-C', file, '-f', path]);
  const fingerprint = execFileSync('ssh-keygen', ['-lf', `${path}.pub`])
    .toString()
    .split(' ')[1]!;
  return { privateKey: await readFile(path, 'utf8'), publicKey: await readFile(`${path}.pub`, 'utf8'), fingerprint, passphrase };
}

const INFO_FIELDS = ['createdAt', 'fingerprint', 'keyType', 'name', 'username'];

export function describeCredentialVaultContract(name: string, open: () => Promise<OpenedVault>): void {
  describe(`CredentialVault contract: ${name}`, () => {
    let opened: OpenedVault;
    let vault: CredentialVault;
    let dir: string;
    let plain: TestKey;
    let other: TestKey;
    let locked: TestKey;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'infraai-vault-contract-'));
      plain = await generateTestKey(dir, 'plain', 'ed25519');
      other = await generateTestKey(dir, 'other', 'ed25519');
      // '$' and braces: a backend that reads ${…} as a reference to another secret must not.
      locked = await generateTestKey(dir, 'locked', 'rsa', 'correct horse ${HOME} $1 "battery"');
      opened = await open();
      vault = opened.vault;
    });

    afterAll(async () => {
      if (opened) {
        try {
          for (const tenant of [opened.tenantA, opened.tenantB]) {
            for (const credential of await opened.vault.list(tenant)) await opened.vault.delete(tenant, credential.name);
          }
        } finally {
          await opened.close?.();
        }
      }
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('put answers the key type and fingerprint; list shows name, user, type and fingerprint, never key material', async () => {
      const stored = await vault.put(opened.tenantA, { name: 'web-prod', username: 'root', privateKey: plain.privateKey });
      expect(stored).toEqual({
        name: 'web-prod',
        username: 'root',
        keyType: 'ssh-ed25519',
        fingerprint: plain.fingerprint,
        createdAt: expect.any(String),
      });
      expect(Number.isNaN(Date.parse(stored.createdAt))).toBe(false);
      await vault.put(opened.tenantA, { name: 'db.locked', username: 'ops', privateKey: locked.privateKey, passphrase: locked.passphrase });

      const list = await vault.list(opened.tenantA);
      expect(list.map((c) => c.name)).toEqual(['db.locked', 'web-prod']);
      expect(list.find((c) => c.name === 'web-prod')).toEqual(stored);
      expect(list.find((c) => c.name === 'db.locked')).toMatchObject({
        username: 'ops',
        keyType: 'ssh-rsa',
        fingerprint: locked.fingerprint,
      });
      for (const credential of list) expect(Object.keys(credential).sort()).toEqual(INFO_FIELDS);
      const text = JSON.stringify(list);
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain('correct horse');
    });

    it('reveal returns the exact key and passphrase (null when the key has none)', async () => {
      await vault.put(opened.tenantA, {
        name: 'reveal-locked',
        username: 'ops',
        privateKey: locked.privateKey,
        passphrase: locked.passphrase,
      });
      await vault.put(opened.tenantA, { name: 'reveal-plain', username: 'root', privateKey: plain.privateKey, passphrase: null });
      const lockedBack = await vault.reveal(opened.tenantA, 'reveal-locked');
      expect(lockedBack).toMatchObject({ name: 'reveal-locked', username: 'ops', keyType: 'ssh-rsa', fingerprint: locked.fingerprint });
      expect(lockedBack?.privateKey).toBe(locked.privateKey);
      expect(lockedBack?.passphrase).toBe(locked.passphrase);
      const plainBack = await vault.reveal(opened.tenantA, 'reveal-plain');
      expect(plainBack?.privateKey).toBe(plain.privateKey);
      expect(plainBack?.passphrase).toBeNull();
      expect(await vault.reveal(opened.tenantA, 'never-stored')).toBeNull();
    });

    it('a second put under the same name is a DuplicateKeyError and leaves the first one as it was', async () => {
      await vault.put(opened.tenantA, { name: 'dup', username: 'root', privateKey: plain.privateKey });
      const again = vault.put(opened.tenantA, { name: 'dup', username: 'admin', privateKey: other.privateKey });
      await expect(again).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(again).rejects.toMatchObject({ entity: 'SSH credential', key: 'dup' });
      const kept = await vault.reveal(opened.tenantA, 'dup');
      expect(kept).toMatchObject({ username: 'root', fingerprint: plain.fingerprint, privateKey: plain.privateKey });
    });

    it('an unusable key is an InvalidPrivateKeyError and nothing is stored', async () => {
      const attempts = [
        { name: 'bad-text', privateKey: 'not a key at all' },
        { name: 'bad-public', privateKey: plain.publicKey },
        { name: 'bad-no-passphrase', privateKey: locked.privateKey },
        { name: 'bad-passphrase', privateKey: locked.privateKey, passphrase: 'wrong' },
      ];
      for (const attempt of attempts) {
        await expect(vault.put(opened.tenantA, { username: 'root', ...attempt })).rejects.toBeInstanceOf(InvalidPrivateKeyError);
        expect(await vault.reveal(opened.tenantA, attempt.name)).toBeNull();
      }
      const names = (await vault.list(opened.tenantA)).map((c) => c.name);
      expect(names.filter((n) => n.startsWith('bad-'))).toEqual([]);
    });

    it('keeps tenants apart: B sees none of A, cannot reveal or delete it, and may use the same name', async () => {
      await vault.put(opened.tenantA, { name: 'shared-name', username: 'alice', privateKey: plain.privateKey });
      expect(await vault.list(opened.tenantB)).toEqual([]);
      expect(await vault.reveal(opened.tenantB, 'shared-name')).toBeNull();
      expect(await vault.delete(opened.tenantB, 'shared-name')).toBe(false);
      expect((await vault.reveal(opened.tenantA, 'shared-name'))?.privateKey).toBe(plain.privateKey);

      await vault.put(opened.tenantB, { name: 'shared-name', username: 'bob', privateKey: other.privateKey });
      expect((await vault.list(opened.tenantB)).map((c) => [c.name, c.username, c.fingerprint])).toEqual([
        ['shared-name', 'bob', other.fingerprint],
      ]);
      expect(await vault.reveal(opened.tenantA, 'shared-name')).toMatchObject({ username: 'alice', privateKey: plain.privateKey });
      expect(await vault.reveal(opened.tenantB, 'shared-name')).toMatchObject({ username: 'bob', privateKey: other.privateKey });
      expect((await vault.list(opened.tenantA)).filter((c) => c.name === 'shared-name')).toHaveLength(1);
    });

    it('delete answers true, then false; the credential is gone and its name free again', async () => {
      await vault.put(opened.tenantA, { name: 'to-delete', username: 'root', privateKey: plain.privateKey });
      expect(await vault.delete(opened.tenantA, 'to-delete')).toBe(true);
      expect(await vault.delete(opened.tenantA, 'to-delete')).toBe(false);
      expect(await vault.reveal(opened.tenantA, 'to-delete')).toBeNull();
      expect((await vault.list(opened.tenantA)).map((c) => c.name)).not.toContain('to-delete');
      const again = await vault.put(opened.tenantA, { name: 'to-delete', username: 'ops', privateKey: other.privateKey });
      expect(again.fingerprint).toBe(other.fingerprint);
      expect(await vault.delete(opened.tenantA, 'to-delete')).toBe(true);
    });
  });
}
