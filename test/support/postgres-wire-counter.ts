import { startWireCounter, type ClientStreamParser, type WireCounter } from './wire-counter.js';

/** A TCP proxy in front of PostgreSQL that records what clients send, from {@link startPostgresWireCounter}. */
export interface PostgresWireCounter extends WireCounter {
  /**
   * One entry per round trip sent since the last {@link reset}: a simple
   * query, or an extended-protocol query up to its `Sync`. The entry is the
   * SQL the round trip executed (several joined by `; `), also for a named
   * prepared statement whose text was sent by an earlier round trip.
   */
  readonly roundTrips: readonly string[];
}

// Request codes that a client sends instead of a startup message (no type byte).
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/**
 * Starts a proxy on 127.0.0.1 that forwards every byte between its clients
 * and the server at `serverUrl`, and parses the frontend side of the
 * PostgreSQL protocol: each simple `Query` and each `Sync` (the end of an
 * extended-protocol query, which is how `pg` sends parameterised statements)
 * is one round trip. A round trip is recorded when its first byte reaches the
 * proxy, before the server sees it, so it is recorded before any answer to it
 * can reach the client.
 *
 * This counts what really goes over the wire, whatever driver, ORM or
 * library issued it. Use a connection that is not SSL (the parser cannot read
 * encrypted traffic).
 */
export async function startPostgresWireCounter(serverUrl: string): Promise<PostgresWireCounter> {
  return startWireCounter(serverUrl, 5432, frontendParser);
}

/**
 * A parser of one connection's frontend stream; calls `onRoundTrip` at each
 * `Query` and `Sync` with the SQL it ran. A named prepared statement sends its
 * text once (`Parse`) and later only its name (`Bind`): the parser remembers
 * the texts by name, so every round trip is reported with its SQL.
 */
function frontendParser(onRoundTrip: (sql: string) => void): ClientStreamParser {
  let buffered = Buffer.alloc(0);
  let startup = true; // the first message (and any SSL/GSS request) has no type byte
  const prepared = new Map<string, string>();
  let unnamed = '';
  let executed: string[] = [];

  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (startup) {
        if (buffered.length < 8) return;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        const code = buffered.readInt32BE(4);
        startup = code === SSL_REQUEST || code === GSSENC_REQUEST;
        buffered = buffered.subarray(length);
        continue;
      }
      if (buffered.length < 5) return;
      const type = String.fromCharCode(buffered[0]);
      const end = 1 + buffered.readInt32BE(1);
      if (buffered.length < end) return;
      const body = buffered.subarray(5, end);
      buffered = buffered.subarray(end);
      if (type === 'Q') {
        onRoundTrip(cString(body, 0).trim());
      } else if (type === 'P') {
        // Parse: statement name, then query text.
        const name = cString(body, 0);
        const text = cString(body, Buffer.byteLength(name) + 1).trim();
        if (name) prepared.set(name, text);
        else unnamed = text;
      } else if (type === 'B') {
        // Bind: portal name, then statement name ('' for the unnamed statement).
        const portal = cString(body, 0);
        const name = cString(body, Buffer.byteLength(portal) + 1);
        executed.push(name ? (prepared.get(name) ?? `(unknown prepared statement ${name})`) : unnamed);
      } else if (type === 'S') {
        onRoundTrip(executed.join('; '));
        executed = [];
      }
    }
  };
}

/** The NUL-terminated string at `offset`. */
function cString(buffer: Buffer, offset: number): string {
  const end = buffer.indexOf(0, offset);
  return buffer.toString('utf8', offset, end === -1 ? buffer.length : end);
}
