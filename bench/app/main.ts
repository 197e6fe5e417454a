import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemoryIdempotencyStore } from '../../lib/index.js';
import { APP_ENV, isWaitMode, type AppMode, type AppStats, type Command, type Reply } from '../protocol.js';
import { BenchAppModule } from './app.module.js';
import { CpuProfiler } from './cpu-profiler.js';
import { DynamoDbConnection } from './dynamodb-connection.js';
import { InProcessStore } from './in-process-store.js';
import { MemorySampler } from './memory-sampler.js';
import { INSERT_ORDER_SQL } from './orders.repository.js';
import { RedisConnection } from './redis-connection.js';
import { countStatements } from './statement-counter.js';
import { WaitRounds } from './wait-rounds.js';

/**
 * The app under test, forked by the orchestrator: serves `POST /orders` on a
 * free port of 127.0.0.1 and obeys the {@link Command}s sent over IPC.
 */
async function main(): Promise<void> {
  const statements = countStatements(INSERT_ORDER_SQL);
  const memory = new MemorySampler();
  const profiler = new CpuProfiler();
  const mode = process.env[APP_ENV.mode] as AppMode;
  // Closed by app.close() (a shutdown hook): the app owns its client. (The peer-redis app's storage has its own.)
  const redis =
    mode === 'library-redis' || mode === 'library-wait-redis'
      ? new RedisConnection(process.env[APP_ENV.redisUrl]!, process.env[APP_ENV.redisPrefix]!)
      : undefined;
  const mysqlUrl = mode === 'library-mariadb' ? process.env[APP_ENV.mysqlUrl] : undefined;
  const dynamodb =
    mode === 'library-dynamodb'
      ? new DynamoDbConnection(process.env[APP_ENV.dynamodbEndpoint]!, process.env[APP_ENV.dynamodbTable]!)
      : undefined;
  // Loaded in this mode only: the other apps never load mysql2.
  if (mysqlUrl) (await import('./mysql-statement-counter.js')).countMysqlStatements(statements);
  // The store's defaults, as a user gets them; emptied before each window (`reset`).
  const memoryStore =
    mode === 'library-memory' ? new InProcessStore(() => new InMemoryIdempotencyStore(), (store) => store.size === 0) : undefined;
  // Loaded in the peer-* modes only: the other apps never load the peer library.
  const peer = mode.startsWith('peer-')
    ? await (await import('./peer-idempotency.js')).peerIdempotency(
        mode === 'peer-redis' ? { url: process.env[APP_ENV.redisUrl]!, prefix: process.env[APP_ENV.redisPrefix]! } : undefined,
      )
    : undefined;
  const inProcess = memoryStore ?? peer?.memory;
  const stores = { redis, mysqlUrl, memory: memoryStore?.store, peer, dynamodb };
  const module = BenchAppModule.forRoot(mode, process.env[APP_ENV.databaseUrl]!, Number(process.env[APP_ENV.poolSize]), stores);
  const app = await NestFactory.create(module, new ExpressAdapter(), { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const waitRounds = isWaitMode(mode) ? app.get(WaitRounds) : undefined;

  let requests = 0;
  const server = app.getHttpServer() as Server;
  server.on('request', () => requests++);

  const stats = (): AppStats => ({
    statements: statements.total,
    handlerStatements: statements.handler,
    redisCommands: redis?.commands.total ?? peer?.commands.total ?? 0,
    dynamodbCalls: dynamodb?.calls.total ?? 0,
    requests,
    cpuMicros: cpuMicros(),
    rss: process.memoryUsage.rss(),
    peakRss: memory.peakRss,
  });
  const send = (reply: Reply) => process.send!(reply);
  process.on('message', async (command: Command) => {
    switch (command.type) {
      case 'stats':
        return send({ type: 'stats', ...stats() });
      case 'reset':
        inProcess?.reset();
        return send({ type: 'done' });
      case 'wait-arm':
        waitRounds!.arm(command.duplicates);
        return send({ type: 'done' });
      case 'wait-entered':
        await waitRounds!.entered();
        return send({ type: 'done' });
      case 'profile-start':
        await profiler.start();
        return send({ type: 'done' });
      case 'profile-stop':
        await profiler.stop(command.file);
        return send({ type: 'done' });
      case 'stop':
        memory.stop();
        await app.close();
        process.disconnect();
    }
  });
  // The orchestrator is gone (stopped, or killed with Ctrl-C): do not linger.
  process.once('disconnect', () => process.exit());
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
