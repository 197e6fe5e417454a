import { startWireCounter, type ClientStreamParser, type WireCounter } from './wire-counter.js';

/** A TCP proxy in front of MySQL/MariaDB that records what clients send, from {@link startMysqlWireCounter}. */
export interface MysqlWireCounter extends WireCounter {
  /**
   * One entry per command sent since the last {@link reset} that the server
   * answers: the SQL of a `COM_QUERY` or `COM_STMT_PREPARE`,
   * `(COM_STMT_EXECUTE <statement id>)`, or `(command 0x..)` for any other
   * (a ping, a reset), so no round trip goes unseen.
   */
  readonly roundTrips: readonly string[];
}

const COM_QUIT = 0x01;
const COM_QUERY = 0x03;
const COM_STMT_PREPARE = 0x16;
const COM_STMT_EXECUTE = 0x17;
const COM_STMT_SEND_LONG_DATA = 0x18;
const COM_STMT_CLOSE = 0x19;

/** Commands the server does not answer: not round trips. */
const UNANSWERED = new Set([COM_QUIT, COM_STMT_SEND_LONG_DATA, COM_STMT_CLOSE]);

/**
 * Starts a proxy on 127.0.0.1 that forwards every byte between its clients
 * and the server at `serverUrl`, and reads the client side of the MySQL
 * protocol: each packet is a 3-byte length, a sequence id, a payload. A
 * command starts a new exchange, so it is the only client packet with
 * sequence id 0 (the handshake response is 1, later auth packets higher,
 * the rest of a packet over 16 MiB follows with 1, 2...). Each command is
 * recorded when its first bytes reach the proxy, before the server sees it.
 *
 * This counts what really goes over the wire, whatever driver, ORM or
 * library issued it. Use a connection without TLS or compression.
 */
export async function startMysqlWireCounter(serverUrl: string): Promise<MysqlWireCounter> {
  return startWireCounter(serverUrl, 3306, clientPacketParser);
}

/** A parser of one connection's client stream; calls `onCommand` for each answered command. */
function clientPacketParser(onCommand: (command: string) => void): ClientStreamParser {
  let buffered = Buffer.alloc(0);
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4) {
      const length = buffered.readUIntLE(0, 3);
      if (buffered.length < 4 + length) return;
      const sequenceId = buffered[3];
      const payload = buffered.subarray(4, 4 + length);
      buffered = buffered.subarray(4 + length);
      if (sequenceId !== 0 || length === 0 || UNANSWERED.has(payload[0])) continue;
      onCommand(describeCommand(payload));
    }
  };
}

function describeCommand(payload: Buffer): string {
  const command = payload[0];
  if (command === COM_QUERY || command === COM_STMT_PREPARE) return payload.toString('utf8', 1).trim();
  if (command === COM_STMT_EXECUTE) return `(COM_STMT_EXECUTE ${payload.readUInt32LE(1)})`;
  return `(command 0x${command.toString(16).padStart(2, '0')})`;
}
