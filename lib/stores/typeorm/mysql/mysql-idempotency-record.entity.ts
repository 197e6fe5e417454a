/** PLACEHOLDER. */
export class MysqlIdempotencyRecord {}
