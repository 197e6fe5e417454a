import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { connectUpstream } from '../../support/tcp-proxy.js';

/**
 * A TCP proxy in front of a broker, for a consumer whose connection the test
 * cuts (a network blip: the consumer's client reconnects through it).
 */
export class BrokerProxy {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {}

  /** Listens on a free port of 127.0.0.1 and forwards every connection to `brokerUrl` (its port explicit). */
  static async start(brokerUrl: string): Promise<BrokerProxy> {
    const target = new URL(brokerUrl);
    if (!target.port) throw new Error(`the broker URL needs an explicit port: ${brokerUrl}`);
    const proxy = new BrokerProxy(createServer(), target);
    proxy.server.on('connection', (client: Socket) => {
      const upstream = connectUpstream(client, target, proxy.sockets);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The broker's URL through the proxy. */
  get url(): string {
    const url = new URL(this.target.href);
    url.hostname = '127.0.0.1';
    url.port = String((this.server.address() as AddressInfo).port);
    return url.href;
  }

  /** Closes every proxied connection now; new ones are still accepted. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
