import type { HandlerTransport, HandlerTransportFactory } from './handler-transport.js';
import type { IdempotencyModuleOptions } from '../interfaces/idempotency-module-options.interface.js';

/**
 * The adapters of the handler kinds besides HTTP, by `ExecutionContext`
 * type. Each imports its transport's package (`graphql`,
 * `@nestjs/microservices`), so it loads the first time a handler of its kind runs.
 */
const FACTORIES: Record<string, () => Promise<HandlerTransportFactory>> = {
  graphql: async () => (await import('../graphql/graphql-transport.js')).createGraphQLTransport,
  rpc: async () => (await import('../microservices/rpc-transport.js')).createRpcTransport,
};

/** Loads and keeps one adapter per handler kind. */
export class HandlerTransports {
  private readonly loaded = new Map<string, Promise<HandlerTransport>>();

  constructor(
    private readonly options: IdempotencyModuleOptions,
    private readonly warn: (id: string, message: string) => void,
  ) {}

  /** Whether handlers of context type `type` are supported. */
  supports(type: string): boolean {
    return type in FACTORIES;
  }

  /** The adapter of context type `type` (one of those {@link supports} accepts). */
  get(type: string): Promise<HandlerTransport> {
    let transport = this.loaded.get(type);
    if (!transport) {
      transport = FACTORIES[type]().then((create) => create(this.options, this.warn));
      this.loaded.set(type, transport);
    }
    return transport;
  }
}
