import mysql from 'mysql2';
import type { StatementCounts } from './statement-counter.js';

type Send = (this: mysql.Connection, ...args: unknown[]) => unknown;

/**
 * Also counts, into `counts.total`, every statement this process sends to
 * MySQL/MariaDB: calls of mysql2's `Connection#query` and `#execute`, through
 * which every pool goes (TypeORM's MySQL driver loads the same mysql2, and the
 * store's lease lane is a pool of that module). None of them is the handler's
 * (its insert goes to PostgreSQL), so all are idempotency statements.
 */
export function countMysqlStatements(counts: StatementCounts): void {
  const prototype = mysql.Connection.prototype as unknown as Record<'query' | 'execute', Send>;
  for (const method of ['query', 'execute'] as const) {
    const send = prototype[method];
    prototype[method] = function countedSend(this: mysql.Connection, ...args: unknown[]) {
      counts.total++;
      return send.apply(this, args);
    };
  }
}
