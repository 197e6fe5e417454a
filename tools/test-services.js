// Which of the servers that some test suites need are reachable, for the Jest
// config: a suite of a server that is absent is left out of a local run with a
// "not run" line, and runs (and fails) under CI. PostgreSQL is not listed: the
// tests start their own when DATABASE_URL is unset.
/* global process, URL */
import { connect } from 'node:net';

/** The optional servers: where the tests look for each, and which test files need it. */
export const TEST_SERVICES = [
  {
    name: 'Redis',
    url: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    defaultPort: 6379,
    files: '/[^/]*redis[^/]*\\.spec\\.ts$',
    hint: 'set REDIS_URL or start redis-server',
  },
  {
    name: 'MariaDB/MySQL',
    url: process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306',
    defaultPort: 3306,
    files: '/[^/]*(?:mysql|mariadb)[^/]*\\.spec\\.ts$',
    hint: 'set MYSQL_URL or start mariadb',
  },
  {
    name: 'RabbitMQ',
    url: process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672',
    defaultPort: 5672,
    files: '/[^/]*rabbitmq[^/]*\\.spec\\.ts$',
    hint: 'set RABBITMQ_URL or start rabbitmq-server',
  },
  {
    name: 'NATS',
    url: process.env.NATS_URL || 'nats://127.0.0.1:4222',
    defaultPort: 4222,
    files: '/[^/]*nats[^/]*\\.spec\\.ts$',
    hint: 'set NATS_URL or start nats-server',
  },
];

/** Resolves whether a TCP connection to `url`'s host and port opens within `timeoutMs`. */
export function isListening(url, defaultPort, timeoutMs = 1000) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port || defaultPort), hostname.replace(/^\[|\]$/g, ''));
    const done = (reachable) => {
      socket.destroy();
      resolve(reachable);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The services no server answers for, with their URL shown without a password. */
export async function absentServices() {
  const absent = [];
  for (const service of TEST_SERVICES) {
    if (!(await isListening(service.url, service.defaultPort))) {
      absent.push({ ...service, label: service.url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@') });
    }
  }
  return absent;
}
