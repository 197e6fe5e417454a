import { Inject, Injectable, Logger, type OnModuleInit, type Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { transactionManagerOf } from './decorators/transaction-manager.decorator.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { IdempotencyConfigurationError } from './errors/idempotency-configuration.error.js';
import { DEFAULT_IDEMPOTENT_OPTIONS } from './idempotency.constants.js';
import { IdempotencyStoreConnectionError } from './errors/idempotency-store-connection.error.js';
import {
  graphqlResolverType,
  handlerKind,
  idempotentOptionsOf,
  IdempotentRoutes,
  isServerSentEvents,
  type Handler,
  type IdempotentRoute,
} from './interceptors/idempotent-routes.js';
import { IDEMPOTENCY_OPTIONS, IDEMPOTENT_METADATA } from './idempotency.internal-constants.js';
import { IdempotencyInterceptor } from './interceptors/idempotency.interceptor.js';
import type { IdempotencyModuleOptions } from './interfaces/idempotency-module-options.interface.js';
import { IdempotencyStore, type StoreUses } from './interfaces/idempotency-store.interface.js';

/** `@MessagePattern(pattern, transport)` metadata of `@nestjs/microservices` (an optional peer). */
const TRANSPORT_METADATA = 'microservices:transport';
/** `Transport.NATS` and `Transport.RMQ`: the transports whose messages carry an id. */
const TRANSPORTS_WITH_MESSAGE_IDS = new Set([2, 5]);

/**
 * Startup checks, so a misconfiguration stops the app with its fix instead
 * of showing up per request: one idempotency interceptor only; valid
 * `@Idempotent()` options on every route; no `@Idempotent()` where it would
 * do nothing unnoticed; the store set up (e.g. its table exists).
 */
@Injectable()
export class IdempotencyExplorer implements OnModuleInit {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(IDEMPOTENCY_OPTIONS) private readonly options: IdempotencyModuleOptions,
    @Inject(IdempotencyStore) private readonly store: IdempotencyStore,
  ) {}

  async onModuleInit(): Promise<void> {
    this.checkOneInterceptor();
    const uses = this.checkDecoratedMethods();
    await this.verifyStore(uses);
  }

  /**
   * A store that is misconfigured stops the app; one that is only unreachable
   * now does not (that is an outage: requests answer 503, or run under `failOpen`).
   */
  private async verifyStore(uses: StoreUses): Promise<void> {
    if (uses.waiting && !this.store.watch) {
      this.logger.warn('Some route sets `wait`, but the idempotency store cannot wake waiters (no watch()): duplicates answer 409 at once.');
    }
    try {
      await this.store.verify?.(uses);
    } catch (error) {
      if (!(error instanceof IdempotencyStoreConnectionError)) throw error;
      this.logger.warn(`The idempotency store is unreachable at startup; starting anyway: ${error.message}`);
    }
  }

  private checkOneInterceptor(): void {
    const interceptors = new Set(
      this.discovery.getProviders().flatMap(({ instance }) => (instance instanceof IdempotencyInterceptor ? [instance] : [])),
    );
    if (interceptors.size > 1) {
      const names = [...interceptors].map((interceptor) => interceptor.constructor.name).join(', ');
      throw new IdempotencyConfigurationError(
        `${interceptors.size} idempotency interceptors are registered (${names}), so every request would be claimed twice. ` +
          'Import IdempotencyModule.forRoot() once per application, and customise it with its `interceptor` option ' +
          '(a class extending IdempotencyInterceptor) instead of registering one as APP_INTERCEPTOR.',
      );
    }
  }

  /** Checks every decorated method; returns what the routes use of the store. */
  private checkDecoratedMethods(): StoreUses {
    // execute() takes the module's defaults: they count as uses too.
    const uses: StoreUses = {
      transactions: !!this.options.atomic,
      waiting: !!this.options.wait && !this.options.atomic,
      maxResponseBytes: this.options.maxResponseBytes ?? DEFAULT_IDEMPOTENT_OPTIONS.maxResponseBytes,
    };
    const routes = new IdempotentRoutes(this.reflector, this.options);
    const controllers = new Set(this.discovery.getControllers().map(({ metatype }) => metatype));
    for (const wrapper of [...this.discovery.getControllers(), ...this.discovery.getProviders()]) {
      const type = wrapper.metatype as Type | null;
      if (!type?.prototype || !wrapper.instance) continue;
      for (const name of this.scanner.getAllMethodNames(type.prototype)) {
        const handler = type.prototype[name] as Handler;
        const kind = handlerKind(handler);
        if (kind === 'http' && controllers.has(type)) {
          const options = this.checkRoute(routes, type, handler);
          uses.transactions ||= !!options?.atomic;
          uses.waiting ||= !!options?.wait && !options.atomic; // atomic duplicates wait in the database
          if (options) uses.maxResponseBytes = Math.max(uses.maxResponseBytes!, options.maxResponseBytes);
        } else if (kind === 'graphql' || kind === 'message' || kind === 'event') {
          const route = routes.get(type, handler); // validates its options
          if (route) checkHandler(route, handler, `${type.name}.${name}`);
          // A message handler's default wait (its lease) counts only where waiting is possible.
          uses.waiting ||= kind === 'graphql' ? !!route?.options.wait : !!idempotentOptionsOf(this.reflector, type, handler)?.wait;
        } else if (this.reflector.get(IDEMPOTENT_METADATA, handler)) {
          if (kind === 'websocket') {
            throw new IdempotencyConfigurationError(
              `@Idempotent() on ${type.name}.${name}: WebSocket gateways are not supported (a message has no key nor a reply to replay). ` +
                'Remove the decorator, or call IdempotencyService.execute() inside the handler with a key from the message.',
            );
          }
          this.logger.warn(`@Idempotent() on ${type.name}.${name} has no effect: it is not an HTTP route, a GraphQL mutation or a message handler. Use IdempotencyService.execute() in services.`);
        }
      }
    }
    return uses;
  }

  /** Checks one route at startup; returns its resolved options (`undefined` when it is not idempotent). */
  private checkRoute(routes: IdempotentRoutes, controller: Type, handler: Handler): IdempotentRoute['options'] | undefined {
    if (isServerSentEvents(handler) && this.reflector.get(IDEMPOTENT_METADATA, handler)) {
      throw new IdempotencyConfigurationError(
        `@Idempotent() on ${controller.name}.${handler.name}: a server-sent events stream cannot be replayed. Remove the decorator.`,
      );
    }
    const route = routes.get(controller, handler); // validates its options
    if (usesTransactionManager(controller, handler) && !route?.options.atomic) {
      throw new IdempotencyConfigurationError(
        `@TransactionManager() on ${controller.name}.${handler.name} needs @Idempotent({ atomic: true }) on the route: ` +
          'without it there is no transaction to hand over.',
      );
    }
    if (route?.options.atomic && !this.store.begin) {
      throw new IdempotencyConfigurationError(
        `@Idempotent({ atomic: true }) on ${controller.name}.${handler.name} needs a store with transactions: the TypeORM store on PostgreSQL or MySQL/MariaDB.`,
      );
    }
    return route?.options;
  }
}

/** Whether a parameter of `handler` is `@TransactionManager()`. */
function usesTransactionManager(controller: Type, handler: Handler): boolean {
  const args: Record<string, { factory?: unknown }> = Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) ?? {};
  return Object.values(args).some((arg) => arg.factory === transactionManagerOf);
}

/**
 * Startup checks of a GraphQL resolver or a message handler: `@Idempotent()`
 * on mutations only; no atomic mode; a key that can be found.
 */
function checkHandler(route: IdempotentRoute, handler: Handler, name: string): void {
  const fail = (message: string) => {
    throw new IdempotencyConfigurationError(`@Idempotent() on ${name}: ${message}`);
  };
  if (route.kind === 'graphql' && graphqlResolverType(handler) !== 'Mutation') {
    fail('only mutations are idempotent: queries and fields run again at no cost. Put it on a @Mutation().');
  }
  if (route.options.atomic) {
    fail('atomic mode is for HTTP routes and IdempotencyService.execute(): call execute(key, (manager) => ..., { atomic: true }) in the handler.');
  }
  const transport: unknown = Reflect.getMetadata(TRANSPORT_METADATA, handler);
  if (route.kind !== 'graphql' && !route.options.key && transport !== undefined && !TRANSPORTS_WITH_MESSAGE_IDS.has(transport as number)) {
    fail("its transport's messages carry no id to use as the key. Set the `key` option, e.g. @Idempotent({ key: (data) => data.requestId }).");
  }
}
