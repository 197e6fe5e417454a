import type { Provider } from '@nestjs/common';
import { IDEMPOTENCY_MODULE_OPTIONS } from './idempotency.module-definition.js';
import { IDEMPOTENCY_OPTIONS } from './idempotency.internal-constants.js';
import type { IdempotencyModuleOptions } from './interfaces/idempotency-module-options.interface.js';
import { validateModuleOptions } from './protocol/validate-options.js';

/**
 * The module's options, validated when the app starts (a bad value stops it
 * with the fix in the message) and normalized (numeric and boolean strings
 * from `ConfigService` converted). Everything in the module injects these.
 */
export const idempotencyOptionsProvider: Provider = {
  provide: IDEMPOTENCY_OPTIONS,
  inject: [IDEMPOTENCY_MODULE_OPTIONS],
  useFactory: (options: IdempotencyModuleOptions = {}) => validateModuleOptions(options),
};
