/** The key that marks a `Date` in {@link encodeStoredValues}'s JSON. */
const DATE = '$nestjs-idempotency:date';

/**
 * The stored outcome of a GraphQL mutation or a message handler: the JSON of
 * the values it emitted, with each `Date` kept as one (a GraphQL `DateTime`
 * field serializes a `Date`, not its string). Class instances come back as
 * plain objects.
 * @throws TypeError for values JSON cannot encode (BigInt, a cycle).
 */
export function encodeStoredValues(values: unknown[]): Buffer {
  return Buffer.from(
    JSON.stringify(values, function (this: Record<string, unknown>, key, value: unknown) {
      const original = this[key];
      return original instanceof Date ? { [DATE]: value } : value;
    }),
    'utf8',
  );
}

/** The values {@link encodeStoredValues} stored. */
export function decodeStoredValues(body: Buffer): unknown[] {
  return JSON.parse(body.toString('utf8'), (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && DATE in value) {
      const date = (value as Record<string, unknown>)[DATE];
      return date === null ? new Date(NaN) : new Date(date as string);
    }
    return value;
  }) as unknown[];
}
