import { connect, createServer, type Server, type Socket } from 'node:net';

// A TCP proxy a fault-injection test puts in front of a server (Temporal, the SQS endpoint) to take
// it away and give it back without touching the server itself:
//   forward  bytes pass both ways;
//   pause    bytes are held, not lost (a blackhole while it lasts): calls hang; back to forward,
//            the held bytes pass in order and the hung calls complete;
//   refuse   every connection is cut and new ones are reset at once (the server is gone).

export type ProxyMode = 'forward' | 'pause' | 'refuse';

export interface TcpProxy {
  /** host:port to point the client at. */
  address: string;
  port: number;
  mode(): ProxyMode;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Held while paused, per direction, in order. */
  toUpstream: Buffer[];
  toClient: Buffer[];
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  const pairs = new Set<Pair>();

  const flush = (pair: Pair) => {
    for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk);
    for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
  };
  const cut = (pair: Pair) => {
    pair.client.destroy();
    pair.upstream.destroy();
    pairs.delete(pair);
  };

  const server: Server = createServer((client) => {
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [] };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      if (mode === 'forward' && pair.toUpstream.length === 0) upstream.write(chunk);
      else pair.toUpstream.push(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'forward' && pair.toClient.length === 0) client.write(chunk);
      else pair.toClient.push(chunk);
    });
    const end = () => cut(pair);
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  return {
    address: `127.0.0.1:${port}`,
    port,
    mode: () => mode,
    setMode(next) {
      mode = next;
      if (next === 'refuse') for (const pair of [...pairs]) cut(pair);
      if (next === 'forward') for (const pair of pairs) flush(pair);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of [...pairs]) cut(pair);
        server.close(() => resolve());
      }),
  };
}
