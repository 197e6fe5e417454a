/**
 * Stored bodies are the JSON encoding of the value a handler or operation
 * produced, so a replay hands the same value to the same serializer and the
 * bytes on the wire are identical. `undefined` is stored as an empty body.
 */
export function encodeStoredBody(value: unknown): Buffer {
  return value === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(value), 'utf8');
}

/** The value {@link encodeStoredBody} stored. */
export function decodeStoredBody(body: Buffer): unknown {
  return body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
}
