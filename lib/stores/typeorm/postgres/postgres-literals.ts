/**
 * `text` with its parameters `$1`, `$2`, … replaced by SQL literals of
 * `values`, for a multi-statement simple query (the protocol that sends
 * several statements in one round trip takes no parameters). Strings are
 * quoted by `escapeLiteral` (pg's, which handles backslashes and quotes),
 * numbers must be finite, buffers become `decode('<hex>', 'hex')` (bytea),
 * `null` becomes `NULL`.
 */
export function inlineParameters(text: string, values: unknown[], escapeLiteral: (value: string) => string): string {
  return text.replace(/\$(\d+)/g, (_, index: string) => literal(values[Number(index) - 1], escapeLiteral));
}

/** `value` as an SQL literal (see {@link inlineParameters}). */
export function literal(value: unknown, escapeLiteral: (value: string) => string): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return escapeLiteral(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (Buffer.isBuffer(value)) return `decode('${value.toString('hex')}', 'hex')`;
  throw new TypeError(`cannot inline a ${typeof value} as an SQL literal`);
}
