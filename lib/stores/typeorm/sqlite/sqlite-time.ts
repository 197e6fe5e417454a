/**
 * SQLite's clock as TypeORM stores a `datetime` on SQLite: UTC text
 * `YYYY-MM-DD HH:MM:SS.SSS`. Text in that one form sorts as time, so the
 * statements compare timestamps as text. Every `'now'` in one statement is
 * the same instant (SQLite fixes it per statement step).
 */
export const SQLITE_NOW = `strftime('%Y-%m-%d %H:%M:%f', 'now')`;

/** `now` plus the milliseconds of the next `?` parameter, in the form of {@link SQLITE_NOW}. */
export const SQLITE_NOW_PLUS_PARAM_MS = `strftime('%Y-%m-%d %H:%M:%f', 'now', printf('%+.3f seconds', ? / 1000.0))`;

/** Milliseconds from now until the timestamp in `column` (negative once it passed). */
export const sqliteMsUntil = (column: string) => `CAST(round((julianday(${column}) - julianday('now')) * 86400000) AS INTEGER)`;
