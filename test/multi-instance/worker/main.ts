/**
 * Entry of one app instance of the multi-instance tests, run in a child
 * process by support/cluster.ts (`node --import support/register-ts.mjs`).
 * Reads support/messages.ts `WorkerEnv`; tells the test its port over IPC.
 */
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { IpcLogger, notify } from './ipc.js';
import { WorkerModule, type WorkerStoreOptions } from './worker.module.js';

// The test is gone (or killed us): do not linger.
process.on('disconnect', () => process.exit(0));

const { DATABASE_URL, LOCK_TIMEOUT_MS, SWEEP_INTERVAL_MS, POOL_MAX, POOL_CONNECTION_TIMEOUT_MS } = process.env;
const { STORE = 'typeorm', REDIS_URL, REDIS_PREFIX, MYSQL_URL, DYNAMODB_ENDPOINT, DYNAMODB_TABLE } = process.env;
if (!DATABASE_URL || !LOCK_TIMEOUT_MS) throw new Error('DATABASE_URL and LOCK_TIMEOUT_MS must be set');
if (!['typeorm', 'redis', 'mysql', 'dynamodb'].includes(STORE)) throw new Error(`STORE must be "typeorm", "redis", "mysql" or "dynamodb", not "${STORE}"`);
if (STORE === 'redis' && !REDIS_URL) throw new Error('STORE=redis needs REDIS_URL');
if (STORE === 'mysql' && !MYSQL_URL) throw new Error('STORE=mysql needs MYSQL_URL');
if (STORE === 'dynamodb' && !(DYNAMODB_ENDPOINT && DYNAMODB_TABLE)) throw new Error('STORE=dynamodb needs DYNAMODB_ENDPOINT and DYNAMODB_TABLE');

const sweepInterval = SWEEP_INTERVAL_MS ? Number(SWEEP_INTERVAL_MS) : undefined;
const pool = {
  ...(POOL_MAX ? { max: Number(POOL_MAX) } : {}),
  ...(POOL_CONNECTION_TIMEOUT_MS ? { connectionTimeoutMillis: Number(POOL_CONNECTION_TIMEOUT_MS) } : {}),
};
const store: WorkerStoreOptions | undefined =
  STORE === 'redis'
    ? { type: 'redis', url: REDIS_URL!, prefix: REDIS_PREFIX }
    : STORE === 'mysql'
      ? { type: 'mysql', url: MYSQL_URL! }
      : STORE === 'dynamodb'
        ? { type: 'dynamodb', endpoint: DYNAMODB_ENDPOINT!, table: DYNAMODB_TABLE! }
        : undefined;
const module = WorkerModule.forRoot(DATABASE_URL, Number(LOCK_TIMEOUT_MS), sweepInterval, pool, store);
const app = await NestFactory.create(module, new ExpressAdapter(), { logger: new IpcLogger(), abortOnError: false });
await app.listen(0, '127.0.0.1');
const server = app.getHttpServer();
// Longer than the test's keep-alive sockets live, so a reused socket is never closed under a request.
server.keepAliveTimeout = 120_000;
notify({ type: 'ready', port: (server.address() as AddressInfo).port });
