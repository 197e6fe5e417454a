import { afterAll, beforeAll } from '@jest/globals';
import type { Redis } from 'ioredis';
import { RedisIdempotencyStore } from '../../lib/stores/redis/index.js';
import { connectRedis, deleteKeys, redisDescribe, REDIS_LABEL, uniquePrefix } from '../support/redis.js';
import { describeStoreContract } from './store-contract.js';

const describeWithRedis = await redisDescribe();

describeWithRedis(`RedisIdempotencyStore on ${REDIS_LABEL}`, () => {
  const runPrefix = uniquePrefix();
  let redis: Redis;
  let tests = 0;

  beforeAll(() => {
    redis = connectRedis();
  });

  afterAll(async () => {
    await deleteKeys(redis, runPrefix);
    redis.disconnect();
  });

  // Each test gets a prefix of its own under this run's: it starts with no records.
  describeStoreContract('RedisIdempotencyStore', () => new RedisIdempotencyStore(redis, { prefix: `${runPrefix}${++tests}:` }), {
    expiresByItself: true,
  });
});
