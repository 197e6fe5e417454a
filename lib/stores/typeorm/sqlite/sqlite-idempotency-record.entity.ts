/** PLACEHOLDER. */
export class SqliteIdempotencyRecord {}
