import { afterAll, beforeAll } from '@jest/globals';
import type { Redis } from 'ioredis';
import { RedisIdempotencyStore } from '../../lib/stores/redis/index.js';
import { connectRedis, deleteKeys, redisDescribe, REDIS_LABEL, uniquePrefix } from '../support/redis.js';
import { describeHttpSemantics } from './http-semantics.js';

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

  describeHttpSemantics('RedisIdempotencyStore', () => ({ store: new RedisIdempotencyStore(redis, { prefix }) }));
});
