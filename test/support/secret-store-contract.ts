import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidSecretPathError, type SecretStore } from '../../adapters/secrets/port.js';

// The SecretStore contract every adapter passes: a value comes back exactly as put (any text,
// '$' and ${braces} included), a put replaces, tenants and paths are isolated, a delete says
// whether there was something, bad paths are refused before any call. `open` gives a store and two
// tenants that start empty; every path written is deleted before `close`, so live backends are
// cleaned up too.

export interface OpenedSecretStore {
  secrets: SecretStore;
  tenantA: string;
  tenantB: string;
  close?(): Promise<void>;
}

export function describeSecretStoreContract(name: string, open: () => Promise<OpenedSecretStore>): void {
  describe(`SecretStore contract: ${name}`, () => {
    let opened: OpenedSecretStore;
    let secrets: SecretStore;
    const written: [string, string][] = [];
    const put = async (tenantId: string, path: string, value: string) => {
      written.push([tenantId, path]);
      await secrets.put(tenantId, path, value);
    };

    beforeAll(async () => {
      opened = await open();
      secrets = opened.secrets;
    });
    afterAll(async () => {
      if (secrets) for (const [tenantId, path] of written) await secrets.delete(tenantId, path);
      await opened?.close?.();
    });

    it('gives back exactly what was put, replaces on put, and forgets on delete', async () => {
      const { tenantA } = opened;
      const value = JSON.stringify({ token: 'ghp_${NOT_A_REFERENCE}$$', password: 'pä55 wörd "quoted"\n' });
      expect(await secrets.get(tenantA, 'integrations/tenant/github')).toBeNull();
      await put(tenantA, 'integrations/tenant/github', value);
      expect(await secrets.get(tenantA, 'integrations/tenant/github')).toBe(value);
      await put(tenantA, 'integrations/tenant/github', 'second');
      expect(await secrets.get(tenantA, 'integrations/tenant/github')).toBe('second');
      expect(await secrets.delete(tenantA, 'integrations/tenant/github')).toBe(true);
      expect(await secrets.get(tenantA, 'integrations/tenant/github')).toBeNull();
      expect(await secrets.delete(tenantA, 'integrations/tenant/github')).toBe(false);
    });

    it('keeps tenants, users and paths apart', async () => {
      const { tenantA, tenantB } = opened;
      await put(tenantA, 'integrations/users/api-key_3a1/jira', 'alice');
      await put(tenantA, 'integrations/users/api-key_3a2/jira', 'bob');
      await put(tenantB, 'integrations/users/api-key_3a1/jira', 'other tenant');
      await put(tenantA, 'integrations/tenant/jira', 'tenant-wide');
      expect(await secrets.get(tenantA, 'integrations/users/api-key_3a1/jira')).toBe('alice');
      expect(await secrets.get(tenantA, 'integrations/users/api-key_3a2/jira')).toBe('bob');
      expect(await secrets.get(tenantB, 'integrations/users/api-key_3a1/jira')).toBe('other tenant');
      expect(await secrets.get(tenantB, 'integrations/users/api-key_3a2/jira')).toBeNull();
      expect(await secrets.get(tenantA, 'integrations/tenant/jira')).toBe('tenant-wide');
      expect(await secrets.delete(tenantA, 'integrations/users/api-key_3a1/jira')).toBe(true);
      expect(await secrets.get(tenantB, 'integrations/users/api-key_3a1/jira')).toBe('other tenant');
    });

    it('refuses a path that is not segments of letters, digits, - and _', async () => {
      const { tenantA } = opened;
      for (const path of ['', 'a//b', '/leading', 'has space/x', 'dots/../x', 'colon:x', 'a/b/c/d/e/f/g/h/i'])
        await expect(secrets.put(tenantA, path, 'x'), path).rejects.toBeInstanceOf(InvalidSecretPathError);
      await expect(secrets.get(tenantA, 'bad path')).rejects.toBeInstanceOf(InvalidSecretPathError);
      await expect(secrets.put(tenantA, 'too/large', 'x'.repeat(64 * 1024 + 1))).rejects.toBeInstanceOf(InvalidSecretPathError);
    });
  });
}
