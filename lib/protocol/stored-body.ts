/**
 * The stored result of `IdempotencyService.execute()`: the JSON encoding of
 * the operation's value, so a repeat gets its JSON round trip back.
 * `undefined` is stored as an empty body. (HTTP routes store the bytes on the
 * wire instead: see `http/wire-capture.ts`.)
 */
export function encodeStoredBody(value: unknown): Buffer {
  return value === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(value), 'utf8');
}

/** The value {@link encodeStoredBody} stored. */
export function decodeStoredBody(body: Buffer): unknown {
  return body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
}
