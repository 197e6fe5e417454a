import { IdempotencyConfigurationError } from '../errors/idempotency-configuration.error.js';
import { MIN_LOCK_TIMEOUT } from '../idempotency.internal-constants.js';

/** Checks one option's value and returns it normalized; throws with the fix otherwise. */
type Rule = (value: unknown, describe: (expected: string) => never) => unknown;

/** A number of `unit` of at least `min`; a numeric string (from `ConfigService`) is converted. */
const amount =
  (unit: 'milliseconds' | 'bytes', min: number): Rule =>
  (value, fail) => {
    const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number) || number < min) {
      return fail(`a number of ${unit} of at least ${min}`);
    }
    return number;
  };
const milliseconds = (min: number) => amount('milliseconds', min);

/** A boolean; the strings `'true'` and `'false'` (from `ConfigService`) are converted. */
const boolean: Rule = (value, fail) => {
  if (value === 'true' || value === 'false') return value === 'true';
  return typeof value === 'boolean' ? value : fail('true or false');
};

const isFunction = (value: unknown): boolean => typeof value === 'function';
const of =
  (expected: string, accepts: (value: unknown) => boolean): Rule =>
  (value, fail) =>
    accepts(value) ? value : fail(expected);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The options `@Idempotent()` accepts, each with its rule. */
const ROUTE_RULES: Record<string, Rule> = {
  ttl: milliseconds(0),
  lockTimeout: milliseconds(MIN_LOCK_TIMEOUT),
  maxResponseBytes: amount('bytes', 0),
  required: boolean,
  failOpen: boolean,
  wait: milliseconds(0),
  atomic: boolean,
  key: of('a function (input, context) => string | undefined', isFunction),
  scope: of('a non-empty string or a function', (v) => (typeof v === 'string' && v !== '') || isFunction(v)),
  principal: of('a string or a function', (v) => typeof v === 'string' || isFunction(v)),
  fingerprint: of('false or a function', (v) => v === false || isFunction(v)),
  cacheable: of('a function (status) => boolean', isFunction),
  replayHeaders: of('an array of header names', (v) => Array.isArray(v) && v.every((h) => typeof h === 'string')),
};

/** The options `IdempotencyModule.forRoot()` accepts on top of the route options. */
const MODULE_RULES: Record<string, Rule> = {
  ...ROUTE_RULES,
  store: of('an IdempotencyStore (an object with claim, complete, release, extendLease and purgeExpired)', (v) =>
    ['claim', 'complete', 'release', 'extendLease', 'purgeExpired'].every(
      (method) => typeof (v as Record<string, unknown> | null)?.[method] === 'function',
    ),
  ),
  dataSource: of('the name of a TypeORM DataSource', (v) => typeof v === 'string'),
  header: of('an HTTP header name', (v) => typeof v === 'string' && HEADER_NAME.test(v)),
  sweepInterval: milliseconds(1),
  interceptor: of('a class that extends IdempotencyInterceptor', isFunction),
  rmq: of('{ noAck: boolean }', (v) => typeof (v as { noAck?: unknown } | null)?.noAck === 'boolean'),
  transactionContext: of('a TransactionContext (an object with run(manager, work))', (v) => typeof (v as { run?: unknown } | null)?.run === 'function'),
  onEvent: of('a function (event) => void', isFunction),
};

/** Validates module options; numeric and boolean strings are converted. `undefined` values are left out. */
export function validateModuleOptions<T extends object>(options: T): T {
  return validate(options, MODULE_RULES, 'IdempotencyModule');
}

/** Validates the options of `@Idempotent()` on `where` (e.g. `OrdersController.create`). */
export function validateRouteOptions<T extends object>(options: T, where: string): T {
  return validate(options, ROUTE_RULES, `@Idempotent() on ${where}`);
}

function validate<T extends object>(options: T, rules: Record<string, Rule>, where: string): T {
  const valid: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const rule = rules[name];
    if (!rule) {
      throw new IdempotencyConfigurationError(
        `${where}: unknown option \`${name}\`. Known options: ${Object.keys(rules).join(', ')}.`,
      );
    }
    valid[name] = rule(value, (expected) => {
      throw new IdempotencyConfigurationError(`${where}: \`${name}\` must be ${expected}; got ${show(value)}.`);
    });
  }
  return valid as T;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'function') return 'a function';
  try {
    return String(JSON.stringify(value) ?? value);
  } catch {
    return typeof value;
  }
}
