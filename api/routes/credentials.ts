import { z } from '@hono/zod-openapi';
import { InvalidPrivateKeyError } from '../../adapters/secrets/port.js';
import type { CredentialVault, SshCredentialInfo } from '../../adapters/secrets/port.js';
import { DuplicateKeyError, type Store } from '../../adapters/store/port.js';
import { conflict, notFound, ProblemError } from '../problem.js';
import { text } from '../schemas.js';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../validation.js';

const tags = ['Credentials'];

const CredentialSchema = z
  .object({
    name: z.string(),
    username: z.string(),
    keyType: z.string().openapi({ example: 'ssh-ed25519' }),
    fingerprint: z.string().openapi({ example: 'SHA256:P9VX0u/QjKUccF5vIIotn+eWnBdYnbi2ywnLTJGRGOM' }),
    createdAt: z.string(),
  })
  .openapi('SshCredential');

const CredentialName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, dot, dash and underscore; at most 100 characters');

const CredentialCreateSchema = z
  .object({
    name: CredentialName.openapi({ description: 'The name a CMDB item gives in sshCredential', example: 'web-prod' }),
    username: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/, 'a POSIX user name')
      .openapi({ description: 'Login used unless the CMDB item names its own sshUser', example: 'ops' }),
    privateKey: text({ min: 64, max: 16_384 }).openapi({
      description: 'OpenSSH, PEM or PKCS#8 private key. Stored encrypted; never returned.',
    }),
    passphrase: text({ min: 1, max: 1024 })
      .optional()
      .openapi({ description: 'Passphrase of an encrypted key. Stored encrypted; never returned.' }),
  })
  .strict()
  .openapi('SshCredentialCreate');

const HostKeySchema = z
  .object({ host: z.string(), port: z.number().int(), keyType: z.string(), fingerprint: z.string(), firstSeenAt: z.string() })
  .openapi('TrustedHostKey');

const NameParam = z.object({ name: CredentialName.openapi({ param: { name: 'name', in: 'path' } }) });

const toResponse = (credential: SshCredentialInfo) => ({ ...credential });

/** SSH credentials (admin writes; secrets go in once and never come out) and trusted host keys. */
export function credentialRoutes(store: Store, vault: CredentialVault) {
  const app = createRouter();

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/ssh',
        operationId: 'createSshCredential',
        tags,
        summary: 'Store an SSH private key under a name (admin); answers its fingerprint, never the key',
        request: { body: jsonBody(CredentialCreateSchema) },
        responses: { 201: jsonResponse(CredentialSchema, 'Stored') },
      },
      [409],
    ),
    async (c) => {
      const body = c.req.valid('json');
      try {
        const stored = await vault.put(c.get('principal').tenantId, body);
        c.header('Location', `/api/v1/credentials/ssh/${encodeURIComponent(stored.name)}`);
        return c.json(toResponse(stored), 201);
      } catch (err) {
        if (err instanceof InvalidPrivateKeyError) {
          throw new ProblemError(422, 'validation-error', 'The request body is not valid.', [
            { path: 'privateKey', message: err.message, code: 'invalid_key' },
          ]);
        }
        if (err instanceof DuplicateKeyError)
          throw conflict(`A credential named '${body.name}' already exists; delete it first to replace it.`);
        throw err;
      }
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/ssh',
      operationId: 'listSshCredentials',
      tags,
      summary: 'List SSH credentials: names, users and fingerprints only',
      responses: { 200: jsonResponse(z.object({ items: z.array(CredentialSchema) }), 'Credentials') },
    }),
    async (c) => c.json({ items: (await vault.list(c.get('principal').tenantId)).map(toResponse) }, 200),
  );

  app.openapi(
    apiRoute(
      {
        method: 'delete',
        path: '/ssh/{name}',
        operationId: 'deleteSshCredential',
        tags,
        summary: 'Delete an SSH credential (admin)',
        request: { params: NameParam },
        responses: { 204: { description: 'Deleted' } },
      },
      [404],
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      if (!(await vault.delete(c.get('principal').tenantId, name))) throw notFound(`SSH credential '${name}'`);
      return c.body(null, 204);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/host-keys',
      operationId: 'listTrustedHostKeys',
      tags,
      summary: 'Host keys trusted on first use',
      responses: { 200: jsonResponse(z.object({ items: z.array(HostKeySchema) }), 'Trusted host keys') },
    }),
    async (c) => {
      const items = await store.hostKeys.list(c.get('principal').tenantId);
      return c.json(
        { items: items.map(({ host, port, keyType, fingerprint, firstSeenAt }) => ({ host, port, keyType, fingerprint, firstSeenAt })) },
        200,
      );
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'delete',
        path: '/host-keys/{host}',
        operationId: 'forgetTrustedHostKey',
        tags,
        summary: 'Forget a trusted host key after a legitimate key change (admin); the next connection trusts the new key',
        request: {
          params: z.object({
            host: z
              .string()
              .max(255)
              .openapi({ param: { name: 'host', in: 'path' } }),
          }),
          query: z.object({ port: z.coerce.number().int().min(1).max(65535).default(22) }).strict(),
        },
        responses: { 204: { description: 'Forgotten' } },
      },
      [404],
    ),
    async (c) => {
      const { host } = c.req.valid('param');
      const { port } = c.req.valid('query');
      if (!(await store.hostKeys.forget(c.get('principal').tenantId, host, port))) throw notFound(`Trusted host key of ${host}:${port}`);
      return c.body(null, 204);
    },
  );

  return app;
}
