import { PATTERN_METADATA } from '@nestjs/microservices/constants.js';
import { canonicalJson } from '../protocol/canonical-json.js';

const patterns = new WeakMap<object, string>();

/**
 * The pattern of a message handler as text: a string pattern as is, an
 * object pattern as canonical JSON (keys sorted); several patterns joined by `|`.
 */
export function canonicalPattern(handler: object): string {
  let pattern = patterns.get(handler);
  if (pattern === undefined) {
    const declared: unknown[] = Reflect.getMetadata(PATTERN_METADATA, handler) ?? [];
    pattern = declared.map((one) => (typeof one === 'string' ? one : canonicalJson(one))).join('|');
    patterns.set(handler, pattern);
  }
  return pattern;
}
