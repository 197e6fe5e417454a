/** DynamoDB's limit on the size of an item: names and values of its attributes. */
const MAX_ITEM_BYTES = 400 * 1024;

/**
 * Room an item keeps for everything but the body: attribute names, the
 * partition key (at most 2,048 bytes), fingerprint, token, times and status.
 */
const ITEM_OVERHEAD_BYTES = 4 * 1024;

/**
 * The largest `maxResponseBytes` the DynamoDB store accepts (384 KiB): what
 * a 400 KB item holds besides the record's own attributes and up to 12 KiB
 * of replayed headers. Checked at startup by `verify()`.
 */
export const MAX_DYNAMODB_RESPONSE_BYTES = 384 * 1024;

/**
 * The body to store with `headers` (their JSON): the body itself, or `null`
 * (not stored: a retry answers that the outcome cannot be replayed) when the
 * two would not fit in one item — only possible with unusually large headers,
 * since `maxResponseBytes` is checked at startup.
 */
export function storableBody(body: Buffer | null, headers: string): Buffer | null {
  if (body === null) return null;
  return body.length + Buffer.byteLength(headers, 'utf8') + ITEM_OVERHEAD_BYTES <= MAX_ITEM_BYTES ? body : null;
}
