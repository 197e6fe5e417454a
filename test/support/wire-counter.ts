import { createServer, type AddressInfo, type Socket } from 'node:net';
import { connectUpstream } from './tcp-proxy.js';

/** A TCP proxy in front of a database server that records the round trips clients send, from {@link startWireCounter}. */
export interface WireCounter {
  /** `serverUrl` with its host and port replaced by the proxy's. */
  readonly url: string;
  /** One entry per round trip sent since the last {@link reset}, as the protocol's parser describes it. */
  readonly roundTrips: readonly string[];
  /** Forgets the round trips recorded so far. */
  reset(): void;
  /** Stops listening and closes every proxied connection. */
  close(): Promise<void>;
}

/** Reads one connection's client stream, chunk by chunk as it arrives (made by `startWireCounter`'s `createParser`). */
export type ClientStreamParser = (chunk: Buffer) => void;

/**
 * Starts a proxy on 127.0.0.1 that forwards every byte between its clients
 * and the server at `serverUrl` (on `defaultPort` when the URL names none),
 * and feeds each client's bytes to a parser of its own from `createParser`
 * before they are forwarded: a round trip is recorded before the server sees
 * it, so before any answer to it can reach the client.
 */
export async function startWireCounter(
  serverUrl: string,
  defaultPort: number,
  createParser: (onRoundTrip: (roundTrip: string) => void) => ClientStreamParser,
): Promise<WireCounter> {
  const target = new URL(serverUrl);
  target.port ||= String(defaultPort);
  const roundTrips: string[] = [];
  const sockets = new Set<Socket>();

  const proxy = createServer((client) => {
    const server = connectUpstream(client, target, sockets);
    const parse = createParser((roundTrip) => roundTrips.push(roundTrip));
    client.on('data', (chunk: Buffer) => {
      parse(chunk);
      server.write(chunk);
    });
    server.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(0, '127.0.0.1', resolve);
  });

  const url = new URL(serverUrl);
  url.hostname = '127.0.0.1';
  url.port = String((proxy.address() as AddressInfo).port);
  return {
    url: url.toString(),
    roundTrips,
    reset: () => void roundTrips.splice(0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}
