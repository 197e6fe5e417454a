import type { OutgoingHttpHeaders } from 'node:http';
import { UNREPLAYABLE_HEADERS } from '../idempotency.internal-constants.js';

/** The headers named in `names` (lower case) that `headers` carries, minus those never replayed. */
export function replayableHeaders(headers: OutgoingHttpHeaders, names: string[]): Record<string, string> {
  const replayable: Record<string, string> = {};
  for (const name of names) {
    if (UNREPLAYABLE_HEADERS.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) replayable[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return replayable;
}
