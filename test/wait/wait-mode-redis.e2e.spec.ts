import { afterAll, beforeAll } from '@jest/globals';
import type { Redis } from 'ioredis';
import { RedisIdempotencyStore } from '../../lib/stores/redis/index.js';
import { ADAPTERS } from '../support/app.js';
import { connectRedis, deleteKeys, redisDescribe, REDIS_LABEL, uniquePrefix } from '../support/redis.js';
import { describeWaitMode } from './wait-mode.js';

const describeWithRedis = await redisDescribe();

describeWithRedis(`Redis at ${REDIS_LABEL}`, () => {
  const prefix = uniquePrefix();
  let redis: Redis;

  beforeAll(() => {
    redis = connectRedis();
  });

  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  for (const adapter of ADAPTERS) {
    describeWaitMode('RedisIdempotencyStore (pub/sub)', adapter, () => ({ store: new RedisIdempotencyStore(redis, { prefix }) }));
  }
});
