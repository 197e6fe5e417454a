import type { Pool } from 'mysql2/promise';

/**
 * Resolves once `count` transactions of `database` wait for a row lock: the
 * server's own view, a barrier rather than a sleep. InnoDB refreshes
 * INNODB_TRX only when nobody read it in the last 100 ms, so it is read no
 * more often than that.
 * @throws after `timeoutMs` without that many waits.
 */
export async function untilLockWaits(observer: Pool, database: string, count: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Not a sleep for ordering: a read within 100 ms of an earlier one (the last test's barrier) gets that read's
  // snapshot, which may still show the earlier test's wait. One cache period later every read is fresh.
  await new Promise((resolve) => setTimeout(resolve, 110));
  for (;;) {
    const [rows] = await observer.query(
      `SELECT count(*) AS n FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
       WHERE t.trx_state = 'LOCK WAIT' AND p.DB = ?`,
      [database],
    );
    if (Number((rows as { n: number }[])[0].n) >= count) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${count} lock waits`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}
