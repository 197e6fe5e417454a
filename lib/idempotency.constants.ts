import type { IdempotentOptions } from './interfaces/idempotency-module-options.interface.js';

/** Request header that carries the key unless the `header` option says otherwise. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** Response header set on every replayed response. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** Statuses that are never stored by the default `cacheable` policy. */
const TRANSIENT_CLIENT_ERRORS = new Set([408, 409, 425, 429]);

/** The per-route options that always have a value. */
export type IdempotentDefaults = Required<
  Pick<IdempotentOptions, 'ttl' | 'lockTimeout' | 'required' | 'cacheable' | 'replayHeaders' | 'maxResponseBytes' | 'failOpen' | 'wait' | 'atomic'>
>;

/** Defaults of the per-route options. */
export const DEFAULT_IDEMPOTENT_OPTIONS: IdempotentDefaults = {
  ttl: 24 * 60 * 60 * 1000,
  lockTimeout: 60 * 1000,
  required: true,
  cacheable: (status: number) =>
    (status >= 200 && status < 300) || (status >= 400 && status < 500 && !TRANSIENT_CLIENT_ERRORS.has(status)),
  replayHeaders: ['content-type', 'location', 'etag', 'last-modified', 'cache-control', 'content-language'],
  maxResponseBytes: 1024 * 1024,
  failOpen: false,
  wait: 0,
  atomic: false,
};
