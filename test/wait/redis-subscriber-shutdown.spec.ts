import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { IdempotencyModule } from '../../lib/index.js';
import { RedisIdempotencyStore } from '../../lib/stores/redis/index.js';
import { connectRedis, redisDescribe, REDIS_LABEL, uniquePrefix } from '../support/redis.js';

const describeWithRedis = await redisDescribe();

describeWithRedis(`RedisIdempotencyStore's subscriber connection (Redis at ${REDIS_LABEL})`, () => {
  let redis: Redis;

  beforeAll(() => {
    redis = connectRedis();
  });

  afterAll(() => redis.disconnect());

  /** How many connections subscribe to the store's channel (`<prefix>settled`). */
  const subscribers = async (prefix: string) => ((await redis.call('PUBSUB', 'NUMSUB', `${prefix}settled`)) as [string, number])[1];

  it('is opened by the first wait and closed when the app shuts down, leaving the application’s client open', async () => {
    const prefix = uniquePrefix();
    const store = new RedisIdempotencyStore(redis, { prefix });
    const app = await Test.createTestingModule({ imports: [IdempotencyModule.forRoot({ store, wait: 1000 })] }).compile();
    app.useLogger(false);
    await app.init();
    expect(await subscribers(prefix)).toBe(0);
    const watch = await store.watch({ scope: 's', principal: '', key: 'k' });
    await store.watch({ scope: 's', principal: '', key: 'other' }); // one connection for every watch
    expect(await subscribers(prefix)).toBe(1);
    watch.close();
    await app.close();
    expect(await subscribers(prefix)).toBe(0);
    expect(redis.status).toBe('ready');
  });
});
