import { SetMetadata } from '@nestjs/common';
import { IDEMPOTENT_METADATA } from '../idempotency.internal-constants.js';

/** Opts a method out of its controller's `@Idempotent()`. */
export const SkipIdempotency = () => SetMetadata(IDEMPOTENT_METADATA, false);
