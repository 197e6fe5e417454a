import { createServer, type AddressInfo, type Socket } from 'node:net';
import { connectUpstream } from '../../support/tcp-proxy.js';

/** A fatal `ErrorResponse`, as a backend sends when the server shuts down (SQLSTATE 57P01). */
const ADMIN_SHUTDOWN = (() => {
  const fields = Buffer.from('SFATAL\0C57P01\0Mterminating connection due to administrator command\0\0');
  const header = Buffer.alloc(5);
  header.write('E');
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
})();

/** A TCP proxy in front of PostgreSQL that can end new connections the way a shutting-down server does. */
export interface TerminatingProxy {
  /** `url` with the proxy's host and port. */
  readonly url: string;
  /**
   * From now on, each new connection gets its start-up reply up to
   * `ReadyForQuery` and, in the same TCP write, the fatal 57P01 error;
   * then the proxy closes it. This is what a client sees when a fast shutdown
   * reaches a backend that just finished its start-up.
   */
  arm(): void;
  disarm(): void;
  close(): Promise<void>;
}

export async function startTerminatingProxy(url: string): Promise<TerminatingProxy> {
  const target = new URL(url);
  let armed = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connectUpstream(client, target, sockets);
    client.pipe(upstream);
    const terminate = armed;
    let pending = Buffer.alloc(0); // bytes of the start-up reply not yet framed
    upstream.on('data', (chunk: Buffer) => {
      if (!terminate) return void client.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      // Frame messages (type byte, int32 length including itself) until ReadyForQuery ('Z').
      for (let offset = 0; offset + 5 <= pending.length; ) {
        const end = offset + 1 + pending.readInt32BE(offset + 1);
        if (end > pending.length) break;
        if (pending[offset] === 0x5a) {
          client.end(Buffer.concat([pending.subarray(0, end), ADMIN_SHUTDOWN]));
          upstream.destroy();
          return;
        }
        offset = end;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String((server.address() as AddressInfo).port);
  return {
    url: proxied.toString(),
    arm: () => void (armed = true),
    disarm: () => void (armed = false),
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}
