/**
 * How long a duplicate waits, in ms: the `wait` preference of the request's
 * `Prefer` headers (RFC 7240, in seconds) when it asks for less than `cap`,
 * else `cap`. A malformed preference is ignored, as RFC 7240 asks.
 *
 * @example preferredWait(['respond-async, wait=5'], 30_000) // 5000
 */
export function preferredWait(prefer: string | string[] | undefined, cap: number): number {
  if (cap <= 0 || prefer === undefined) return cap;
  for (const header of Array.isArray(prefer) ? prefer : [prefer]) {
    for (const preference of header.split(',')) {
      const [name, value] = preference.split(';', 1)[0].split('=', 2).map((part) => part.trim());
      if (name.toLowerCase() !== 'wait' || value === undefined) continue;
      const seconds = /^"?(\d{1,9})"?$/.exec(value)?.[1];
      if (seconds !== undefined) return Math.min(Number(seconds) * 1000, cap);
    }
  }
  return cap;
}
