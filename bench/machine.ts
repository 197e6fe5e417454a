import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The machine a run happened on, for the report. */
export interface Machine {
  /** `nproc`. */
  cpus: number;
  /** `model name` of /proc/cpuinfo (else what Node reports). */
  cpuModel: string;
  memoryGb: number;
  os: string;
  node: string;
  postgres: string;
  /** `redis_version` of the Redis server, when the `redis-*` scenarios ran. */
  redis?: string;
  /** `VERSION()` of the MariaDB server, when the `mariadb-*` scenarios ran. */
  mariadb?: string;
  /** Version of the peer library `@node-idempotency/nestjs`, when the `peer-*` scenarios ran. */
  peer?: string;
  /** 1-minute load average when the run started: other work on the machine skews absolute numbers. */
  loadAverageAtStart: number;
}

/** The machine this process runs on, with the versions of the servers the run uses. */
export function describeMachine(
  postgresVersion: string,
  redisVersion?: string,
  mariadbVersion?: string,
  peerVersion?: string,
): Machine {
  return {
    cpus: os.availableParallelism(),
    cpuModel: cpuModel(),
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: postgresVersion,
    ...(redisVersion && { redis: redisVersion }),
    ...(mariadbVersion && { mariadb: mariadbVersion }),
    ...(peerVersion && { peer: peerVersion }),
    loadAverageAtStart: os.loadavg()[0],
  };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown';
}
