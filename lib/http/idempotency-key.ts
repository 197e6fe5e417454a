import { InvalidIdempotencyKeyException } from '../exceptions/invalid-idempotency-key.exception.js';
import { MAX_KEY_LENGTH } from '../idempotency.internal-constants.js';

/** The characters a key header may hold (also its OpenAPI `pattern`). */
export const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Reads the idempotency key from the raw values of its header: an RFC 8941
 * string (`"abc"`, with `\"` and `\\` escapes) or a bare value (`abc`).
 *
 * @param values every occurrence of the header in the request.
 * @returns the key, or `undefined` when the header is absent.
 * @throws InvalidIdempotencyKeyException for a repeated header, an empty key,
 *   a key over 255 characters or outside printable ASCII, or a broken string.
 */
export function parseIdempotencyKey(header: string, values: string[]): string | undefined {
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new InvalidIdempotencyKeyException(header, 'must be sent once, not repeated');
  const raw = values[0].trim();
  if (!PRINTABLE_ASCII.test(raw)) {
    throw new InvalidIdempotencyKeyException(header, 'may only contain printable ASCII characters');
  }
  const key = raw.startsWith('"') ? unquote(header, raw) : raw;
  if (key.length === 0) throw new InvalidIdempotencyKeyException(header, 'must not be empty');
  if (key.length > MAX_KEY_LENGTH) {
    throw new InvalidIdempotencyKeyException(header, `must be at most ${MAX_KEY_LENGTH} characters long`);
  }
  return key;
}

function unquote(header: string, quoted: string): string {
  let key = '';
  for (let i = 1; i < quoted.length; i++) {
    const char = quoted[i];
    if (char === '"') {
      if (i !== quoted.length - 1) break;
      return key;
    }
    if (char === '\\') {
      const escaped = quoted[++i];
      if (escaped !== '"' && escaped !== '\\') break;
      key += escaped;
    } else {
      key += char;
    }
  }
  throw new InvalidIdempotencyKeyException(
    header,
    'is not a valid quoted string: close the quotes and escape only " and \\ inside them',
  );
}

/** Every value of header `name` in Node's `rawHeaders` list (name, value, name, value...). */
export function headerValues(rawHeaders: string[], name: string): string[] {
  const values: string[] = [];
  const wanted = name.toLowerCase();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === wanted) values.push(rawHeaders[i + 1]);
  }
  return values;
}
