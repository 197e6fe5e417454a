import { REDIS_URL, redisDescribe, REDIS_LABEL, uniquePrefix } from '../support/redis.js';
import { RedisRecords } from './support/redis-records.js';
import { describeSharedStore } from './support/shared-store-suite.js';

// DESIGN.md §8: a shared store passes the multi-process storm, here with
// RedisIdempotencyStore: 3 processes share one Redis (each run under a key
// prefix of its own, deleted afterwards); side effects are still counted in
// PostgreSQL. The suite (support/shared-store-suite.ts) reads each record's
// hash and its key's PTTL where leases.e2e.spec.ts reads the row. Without a
// Redis server a local run leaves this file out with a "not run" line
// (jest.config.js); under CI (or run anyway) it fails here.
const describeWithRedis = await redisDescribe();

describeWithRedis(`multi-instance: RedisIdempotencyStore (3 processes, one Redis at ${REDIS_LABEL})`, () => {
  describeSharedStore(async () => RedisRecords.open(REDIS_URL, uniquePrefix()));
});
