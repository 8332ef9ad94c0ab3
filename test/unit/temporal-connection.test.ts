import { describe, expect, it } from 'vitest';
import { buildConnectionOptions, type TemporalTarget } from '../../adapters/temporal/connection.js';

const base: TemporalTarget = { address: 'temporal.internal:7233', namespace: 'prod', taskQueue: 'infraai', tls: null, apiKey: null };
const files: Record<string, string> = { '/certs/client.pem': 'CERT', '/certs/client.key': 'KEY', '/certs/ca.pem': 'CA' };
const reader = (path: string) => {
  if (!(path in files)) throw new Error('ENOENT: no such file');
  return Buffer.from(files[path]!);
};

describe('buildConnectionOptions', () => {
  it('connects in plain text by default', () => {
    expect(buildConnectionOptions(base, reader)).toEqual({ address: 'temporal.internal:7233' });
  });

  it('uses TLS with system roots when only TEMPORAL_TLS is on', () => {
    expect(buildConnectionOptions({ ...base, tls: {} }, reader)).toEqual({ address: 'temporal.internal:7233', tls: {} });
  });

  it('uses TLS with a server CA and server name', () => {
    const options = buildConnectionOptions({ ...base, tls: { serverCaCertPath: '/certs/ca.pem', serverName: 'temporal' } }, reader);
    expect(options.tls).toEqual({ serverNameOverride: 'temporal', serverRootCACertificate: Buffer.from('CA') });
    expect(options.apiKey).toBeUndefined();
  });

  it('uses mTLS with the client pair read from the paths', () => {
    const options = buildConnectionOptions(
      { ...base, tls: { serverCaCertPath: '/certs/ca.pem', clientCertPath: '/certs/client.pem', clientKeyPath: '/certs/client.key' } },
      reader,
    );
    expect(options.tls).toEqual({
      serverRootCACertificate: Buffer.from('CA'),
      clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
    });
  });

  it('turns TLS on for an API key and names the namespace in metadata (Temporal Cloud)', () => {
    expect(buildConnectionOptions({ ...base, apiKey: 'cloud-key' }, reader)).toEqual({
      address: 'temporal.internal:7233',
      tls: {},
      apiKey: 'cloud-key',
      metadata: { 'temporal-namespace': 'prod' },
    });
  });

  it('names an unreadable certificate file', () => {
    expect(() =>
      buildConnectionOptions({ ...base, tls: { clientCertPath: '/nope.pem', clientKeyPath: '/certs/client.key' } }, reader),
    ).toThrow(/client certificate at \/nope\.pem: ENOENT/);
    expect(() => buildConnectionOptions({ ...base, tls: { serverCaCertPath: '/ca-missing.pem' } }, reader)).toThrow(
      /server CA certificate at \/ca-missing\.pem/,
    );
  });

  it('refuses half an mTLS pair', () => {
    expect(() => buildConnectionOptions({ ...base, tls: { clientCertPath: '/certs/client.pem' } }, reader)).toThrow(
      /TEMPORAL_TLS_CLIENT_KEY_PATH/,
    );
  });
});
