import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import type { TemporalConnectionConfig } from '../../config.js';

export type TemporalTarget = TemporalConnectionConfig & { address: string; namespace: string };

/**
 * Plain, TLS, mTLS or API-key options from config. An API key implies TLS, as Temporal Cloud
 * requires; certificate files are read here so a bad path fails at start with its name.
 */
export function buildConnectionOptions(
  target: TemporalTarget,
  readFile: (path: string) => Buffer = (path) => readFileSync(path),
): Pick<ConnectionOptions, 'address' | 'tls' | 'apiKey' | 'metadata'> {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFile(path);
    } catch (err) {
      throw new Error(`cannot read the Temporal ${what} at ${path}: ${(err as Error).message}`);
    }
  };
  const tlsConfig = target.tls;
  let tls: ConnectionOptions['tls'] = undefined;
  if (tlsConfig || target.apiKey) {
    const clientCert = tlsConfig?.clientCertPath ? read(tlsConfig.clientCertPath, 'client certificate') : undefined;
    const clientKey = tlsConfig?.clientKeyPath ? read(tlsConfig.clientKeyPath, 'client key') : undefined;
    const serverRootCACertificate = tlsConfig?.serverCaCertPath ? read(tlsConfig.serverCaCertPath, 'server CA certificate') : undefined;
    tls = {
      ...(tlsConfig?.serverName ? { serverNameOverride: tlsConfig.serverName } : {}),
      ...(serverRootCACertificate ? { serverRootCACertificate } : {}),
      ...(clientCert && clientKey ? { clientCertPair: { crt: clientCert, key: clientKey } } : {}),
    };
  }
  return {
    address: target.address,
    ...(tls ? { tls } : {}),
    ...(target.apiKey ? { apiKey: target.apiKey, metadata: { 'temporal-namespace': target.namespace } } : {}),
  };
}

export async function connectClient(target: TemporalTarget): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect(buildConnectionOptions(target));
  return { client: new Client({ connection, namespace: target.namespace }), connection };
}

export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect(buildConnectionOptions(target) as NativeConnectionOptions);
}
