import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalConnectionConfig } from '../../config.js';

/** The one place that turns config into Temporal connections (client and worker alike). */
export type TemporalTarget = TemporalConnectionConfig & { address: string; namespace: string };

/** What both `Connection` (client) and `NativeConnection` (worker) accept, built the same way for both. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/**
 * Plain, TLS, mTLS or API-key options from config. An API key implies TLS, as Temporal Cloud
 * requires; certificate files are read here so a bad path fails at start with its name.
 */
export function buildConnectionOptions(
  target: TemporalTarget,
  readFile: (path: string) => Buffer = (path) => readFileSync(path),
): TemporalConnectionOptions {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFile(path);
    } catch (err) {
      throw new Error(`cannot read the Temporal ${what} at ${path}: ${(err as Error).message}`);
    }
  };
  const tlsConfig = target.tls;
  if (Boolean(tlsConfig?.clientCertPath) !== Boolean(tlsConfig?.clientKeyPath)) {
    throw new Error(
      'Temporal mTLS needs both a client certificate and a client key (TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)',
    );
  }
  let tls: TLSConfig | undefined;
  if (tlsConfig || target.apiKey) {
    tls = {};
    if (tlsConfig?.serverName) tls.serverNameOverride = tlsConfig.serverName;
    if (tlsConfig?.serverCaCertPath) tls.serverRootCACertificate = read(tlsConfig.serverCaCertPath, 'server CA certificate');
    if (tlsConfig?.clientCertPath && tlsConfig.clientKeyPath) {
      tls.clientCertPair = { crt: read(tlsConfig.clientCertPath, 'client certificate'), key: read(tlsConfig.clientKeyPath, 'client key') };
    }
  }
  return {
    address: target.address,
    ...(tls ? { tls } : {}),
    // Temporal Cloud routes API-key requests by this header.
    ...(target.apiKey ? { apiKey: target.apiKey, metadata: { 'temporal-namespace': target.namespace } } : {}),
  };
}

export async function connectClient(target: TemporalTarget): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect(buildConnectionOptions(target));
  return { client: new Client({ connection, namespace: target.namespace }), connection };
}

/**
 * A client whose connection is made at its first call, not here: a process that must start (and
 * report itself unready) while Temporal is down, such as the SQS bridge. The channel reconnects by
 * itself once the server answers again.
 */
export function lazyClient(target: TemporalTarget): { client: Client; connection: Connection } {
  const connection = Connection.lazy({
    ...buildConnectionOptions(target),
    // gRPC's default backoff between reconnection attempts grows to 2 minutes: after an outage the
    // bridge would sit idle that long with Temporal back. A few seconds at most instead.
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 500, 'grpc.max_reconnect_backoff_ms': 5000 },
  });
  return { client: new Client({ connection, namespace: target.namespace }), connection };
}

export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect(buildConnectionOptions(target));
}
