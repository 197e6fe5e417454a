import type { Redis } from 'ioredis';

/** Every key that starts with `prefix` (SCAN MATCH over the whole keyspace; each key once). */
export async function keysWithPrefix(redis: Redis, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const keys = new Set<string>(); // SCAN may return a key twice
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    for (const key of found) keys.add(key);
    cursor = next;
  } while (cursor !== '0');
  return [...keys];
}

/** Deletes every key that starts with `prefix` (SCAN, then DEL in batches of 1,000); resolves how many. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  const keys = await keysWithPrefix(redis, prefix);
  let deleted = 0;
  for (let i = 0; i < keys.length; i += 1000) deleted += await redis.del(...keys.slice(i, i + 1000));
  return deleted;
}
