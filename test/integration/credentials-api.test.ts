import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncryptedCredentialVault, resolveSecretsKey } from '../../adapters/secrets/encrypted-vault.js';
import { SecretDecryptionError } from '../../adapters/secrets/port.js';
import { startTestStack, type TestStack } from '../support/stack.js';

// SSH credentials through the API: validated, sealed at rest, listed by fingerprint, never returned.

let stack: TestStack;
let dir: string;
const keys: Record<string, { privateKey: string; fingerprint: string }> = {};

function generateKey(name: string, type: 'ed25519' | 'rsa', passphrase = ''): { privateKey: string; fingerprint: string } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', passphrase, '-C', name, '-f', path]);
  const fingerprint = execFileSync('ssh-keygen', ['-lf', `${path}.pub`])
    .toString()
    .split(' ')[1]!;
  return { privateKey: execFileSync('cat', [path]).toString(), fingerprint };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'infraai-cred-'));
  keys.plain = generateKey('plain', 'ed25519');
  keys.locked = generateKey('locked', 'rsa', 'correct horse');
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('SSH credentials API', () => {
  it('stores a key, answers its fingerprint, lists names and fingerprints only, and deletes it', async () => {
    const created = await stack.call('POST', '/api/v1/credentials/ssh', {
      body: { name: 'lab', username: 'root', privateKey: keys.plain!.privateKey },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/credentials/ssh/lab');
    const body = (await created.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ name: 'lab', username: 'root', keyType: 'ssh-ed25519', fingerprint: keys.plain!.fingerprint });
    expect(JSON.stringify(body)).not.toContain('PRIVATE KEY');

    const locked = await stack.call('POST', '/api/v1/credentials/ssh', {
      body: { name: 'locked', username: 'ops', privateKey: keys.locked!.privateKey, passphrase: 'correct horse' },
    });
    expect(locked.status).toBe(201);
    expect(((await locked.json()) as { keyType: string }).keyType).toBe('ssh-rsa');

    const list = await stack.call('GET', '/api/v1/credentials/ssh');
    const text = await list.text();
    expect(JSON.parse(text)).toEqual({
      items: [expect.objectContaining({ name: 'lab', fingerprint: keys.plain!.fingerprint }), expect.objectContaining({ name: 'locked' })],
    });
    expect(text).not.toMatch(/PRIVATE KEY|correct horse|passphrase|ciphertext/);

    // At rest: only ciphertext, which opens with the vault's key and with nothing else.
    const row = await stack.store.credentials.get((await stack.store.tenants.getBySlug('acme'))!.id, 'locked');
    expect(row?.ciphertext).toMatch(/^v1:/);
    expect(row?.ciphertext).not.toContain('correct horse');
    const tenantId = row!.tenantId;
    expect((await stack.vault.reveal(tenantId, 'locked'))?.passphrase).toBe('correct horse');
    await expect(new EncryptedCredentialVault(stack.store, Buffer.alloc(32, 7)).reveal(tenantId, 'locked')).rejects.toBeInstanceOf(
      SecretDecryptionError,
    );

    expect(
      (await stack.call('POST', '/api/v1/credentials/ssh', { body: { name: 'lab', username: 'root', privateKey: keys.plain!.privateKey } }))
        .status,
    ).toBe(409);
    expect((await stack.call('DELETE', '/api/v1/credentials/ssh/lab')).status).toBe(204);
    expect((await stack.call('DELETE', '/api/v1/credentials/ssh/lab')).status).toBe(404);
  });

  it('rejects unusable keys with a clear 422 and stores nothing', async () => {
    const attempts: [Record<string, unknown>, RegExp][] = [
      [{ name: 'bad1', username: 'root', privateKey: 'x'.repeat(100) }, /Not a usable private key/],
      [{ name: 'bad2', username: 'root', privateKey: keys.locked!.privateKey }, /encrypted: give its passphrase/],
      [{ name: 'bad3', username: 'root', privateKey: keys.locked!.privateKey, passphrase: 'wrong' }, /passphrase does not decrypt/],
      [{ name: 'bad4', username: 'root', privateKey: (await readFile(join(dir, 'plain.pub'), 'utf8')).padEnd(100, ' ') }, /public key/],
    ];
    for (const [body, message] of attempts) {
      const res = await stack.call('POST', '/api/v1/credentials/ssh', { body });
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(JSON.stringify(await res.json())).toMatch(message);
    }
    for (const body of [
      { name: 'has space', username: 'root', privateKey: keys.plain!.privateKey },
      { name: 'x', username: 'root;rm', privateKey: keys.plain!.privateKey },
      { name: 'x', username: 'root' },
      { name: 'x', username: 'root', privateKey: keys.plain!.privateKey, extra: 1 },
    ]) {
      expect((await stack.call('POST', '/api/v1/credentials/ssh', { body })).status).toBe(422);
    }
    const names = ((await (await stack.call('GET', '/api/v1/credentials/ssh')).json()) as { items: { name: string }[] }).items.map(
      (i) => i.name,
    );
    expect(names.some((n) => n.startsWith('bad'))).toBe(false);
  });

  it('lets only admins write credentials; viewers and operators can list', async () => {
    const operator = await stack.keyFor('acme', 'operator');
    const viewer = await stack.keyFor('acme', 'viewer');
    expect(
      (
        await stack.call('POST', '/api/v1/credentials/ssh', {
          key: operator,
          body: { name: 'op', username: 'root', privateKey: keys.plain!.privateKey },
        })
      ).status,
    ).toBe(403);
    expect((await stack.call('DELETE', '/api/v1/credentials/ssh/locked', { key: operator })).status).toBe(403);
    expect((await stack.call('GET', '/api/v1/credentials/ssh', { key: viewer })).status).toBe(200);
    expect((await stack.call('GET', '/api/v1/credentials/host-keys', { key: viewer })).status).toBe(200);
    // Another tenant sees none of acme's credentials.
    const other = await stack.keyFor('globex', 'admin');
    expect(((await (await stack.call('GET', '/api/v1/credentials/ssh', { key: other })).json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('generates the secrets key once, mode 0600, and refuses a malformed configured key', async () => {
    const keyFile = join(dir, 'data', 'secrets.key');
    const first = await resolveSecretsKey({ key: null, keyFile });
    expect(first.source).toBe('generated');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const again = await resolveSecretsKey({ key: null, keyFile });
    expect(again).toMatchObject({ source: 'file' });
    expect(again.key.equals(first.key)).toBe(true);
    await expect(resolveSecretsKey({ key: 'too-short', keyFile })).rejects.toThrow(/32-byte key/);
    expect((await resolveSecretsKey({ key: 'ab'.repeat(32), keyFile })).source).toBe('environment');
  });
});
