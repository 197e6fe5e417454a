import pg from 'pg';

/** Statements counted at the wire: every call of pg's `Client#query`. */
export interface StatementCounts {
  total: number;
  /** Calls whose SQL is the handler's own statement. */
  handler: number;
}

type Query = (this: pg.Client, ...args: unknown[]) => unknown;

/**
 * Wraps `pg.Client.prototype.query`, through which every statement of this
 * process goes (TypeORM's query runners and `pg.Pool#query` alike), and counts
 * the calls. Statements whose text is `handlerSql` are also counted apart.
 */
export function countStatements(handlerSql: string): StatementCounts {
  const counts: StatementCounts = { total: 0, handler: 0 };
  const prototype = pg.Client.prototype as unknown as { query: Query };
  const query = prototype.query;
  prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
    counts.total++;
    const first = args[0] as string | { text?: string } | undefined;
    if ((typeof first === 'string' ? first : first?.text) === handlerSql) counts.handler++;
    return query.apply(this, args);
  };
  return counts;
}
