import { describe, expect, it } from 'vitest';
import { buildConnectionOptions, type TemporalTarget } from '../../adapters/temporal/connection.js';

const base: TemporalTarget = { address: 'temporal.internal:7233', namespace: 'prod', taskQueue: 'infraai', tls: null, apiKey: null };
const files: Record<string, string> = { '/certs/client.pem': 'CERT', '/certs/client.key': 'KEY', '/certs/ca.pem': 'CA' };
const reader = (path: string) => {
  if (!(path in files)) throw new Error('ENOENT');
  return Buffer.from(files[path]!);
};

describe('buildConnectionOptions', () => {
  it('connects in plain text by default', () => {
    expect(buildConnectionOptions(base, reader)).toEqual({ address: 'temporal.internal:7233' });
  });

  it('uses TLS with a server CA and name, and mTLS with a client pair', () => {
    const options = buildConnectionOptions(
      { ...base, tls: { serverCaCertPath: '/certs/ca.pem', serverName: 'temporal', clientCertPath: '/certs/client.pem', clientKeyPath: '/certs/client.key' } },
      reader,
    );
    expect(options.tls).toEqual({
      serverNameOverride: 'temporal',
      serverRootCACertificate: Buffer.from('CA'),
      clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
    });
  });

  it('turns TLS on for an API key and names the namespace in metadata (Temporal Cloud)', () => {
    const options = buildConnectionOptions({ ...base, apiKey: 'cloud-key' }, reader);
    expect(options).toMatchObject({ apiKey: 'cloud-key', tls: {}, metadata: { 'temporal-namespace': 'prod' } });
  });

  it('names an unreadable certificate file', () => {
    expect(() => buildConnectionOptions({ ...base, tls: { clientCertPath: '/nope.pem', clientKeyPath: '/certs/client.key' } }, reader)).toThrow(/client certificate at \/nope\.pem/);
  });
});
