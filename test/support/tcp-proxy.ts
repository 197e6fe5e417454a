import { connect, type Socket } from 'node:net';

/**
 * Opens the upstream connection of a proxied `client` to the PostgreSQL
 * server of `target`, tracks both sockets in `sockets` (so a proxy can close
 * them all), and closes each side when the other closes. Forwarding the bytes
 * is the caller's: the proxies read or rewrite them on the way.
 */
export function connectUpstream(client: Socket, target: URL, sockets: Set<Socket>): Socket {
  const upstream = connect(Number(target.port || 5432), target.hostname);
  for (const socket of [client, upstream]) {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // the other side is closed below
  }
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  return upstream;
}
