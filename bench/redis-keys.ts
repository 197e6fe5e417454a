import type { Redis } from 'ioredis';

/**
 * Deletes every key that starts with `prefix`: SCAN MATCH over the whole
 * keyspace, then DEL in batches of 1,000. Resolves how many it deleted.
 */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const keys = new Set<string>(); // SCAN may return a key twice
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    for (const key of found) keys.add(key);
    cursor = next;
  } while (cursor !== '0');
  const all = [...keys];
  let deleted = 0;
  for (let i = 0; i < all.length; i += 1000) deleted += await redis.del(...all.slice(i, i + 1000));
  return deleted;
}
