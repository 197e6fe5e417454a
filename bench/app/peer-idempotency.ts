import type { DynamicModule, Type } from '@nestjs/common';
import { NodeIdempotencyModule } from '@node-idempotency/nestjs';
import { MemoryStorageAdapter } from '@node-idempotency/storage-adapter-memory';
import { RedisStorageAdapter } from '@node-idempotency/storage-adapter-redis';
import { InProcessStore } from './in-process-store.js';
import { PeerOrdersController } from './peer.controller.js';
import type { RedisCommandCounts } from './redis-command-counter.js';

/** What a `peer-*` app adds to the bench app: the peer's module and controller, and its store. */
export interface PeerApp {
  /** `NodeIdempotencyModule.forRootAsync()` on the storage of the mode. */
  module: DynamicModule;
  controller: Type;
  /** Redis commands its storage sent (`peer-redis`; stays 0 in `peer-memory`). */
  commands: RedisCommandCounts;
  /** `peer-memory`: its in-memory storage, emptied before each window. */
  memory?: InProcessStore<MemoryStorageAdapter>;
}

/** The Redis of `peer-redis`: the server, and the key prefix of the app in this run. */
export interface PeerRedis {
  url: string;
  prefix: string;
}

/**
 * The peer library `@node-idempotency/nestjs` set up as its README shows:
 * `NodeIdempotencyModule.forRootAsync({ storage })` with its in-memory
 * adapter (`peer-memory`) or its Redis adapter (`peer-redis`, a node-redis
 * client of its own, connected here and disconnected by the module on
 * shutdown), every other option at its default but the key prefix. This file
 * is imported in the `peer-*` modes only: the other apps never load the peer.
 */
export async function peerIdempotency(redis?: PeerRedis): Promise<PeerApp> {
  const commands: RedisCommandCounts = { total: 0 };
  if (!redis) {
    const memory = new InProcessStore(() => new MemoryStorageAdapter());
    const module = NodeIdempotencyModule.forRootAsync({ storage: { adapter: memory.store } });
    return { module, controller: PeerOrdersController, commands, memory };
  }
  const adapter = new RedisStorageAdapter({ url: redis.url });
  await adapter.connect();
  countCalls(adapter, ['setIfNotExists', 'set', 'get'], commands);
  // Its keys are `<cacheKeyPrefix>:<method>:<path>:<key>`: all under the app's prefix, which the orchestrator clears.
  const module = NodeIdempotencyModule.forRootAsync({
    storage: { adapter },
    cacheKeyPrefix: redis.prefix.replace(/:$/, ''),
  });
  return { module, controller: PeerOrdersController, commands };
}

/**
 * Counts the calls of `methods` of `target` (this instance only) in
 * `counts`: each method of the peer's Redis adapter sends one command
 * (`SET NX PX`, `SET PX`, `GET`).
 */
function countCalls<T extends object>(target: T, methods: (keyof T & string)[], counts: RedisCommandCounts): void {
  for (const method of methods) {
    const original = target[method] as (...args: unknown[]) => unknown;
    Object.assign(target, {
      [method]: (...args: unknown[]) => {
        counts.total++;
        return original.apply(target, args);
      },
    });
  }
}
