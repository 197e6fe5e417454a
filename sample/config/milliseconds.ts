import type { ConfigService } from '@nestjs/config';

/**
 * Reads a duration in milliseconds from the environment: `undefined` when the
 * variable is unset (so the library's default applies), a number otherwise.
 * Environment values are strings; the library wants numbers.
 */
export function readMilliseconds(config: ConfigService, name: string): number | undefined {
  const raw = config.get<string>(name);
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a number of milliseconds (e.g. ${name}=60000), got "${raw}".`);
  }
  return value;
}
