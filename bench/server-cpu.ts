import { readFile } from 'node:fs/promises';

/**
 * CPU time so far of each of `pids`, in ms, read from /proc/<pid>/schedstat
 * (nanoseconds on a CPU). A pid that exited in the meantime is left out.
 * `undefined` when it cannot be read, or when a pid is not a `postgres`
 * process of this machine (the server is on another host).
 */
export function postgresCpuMs(pids: number[]): Promise<Map<number, number> | undefined> {
  return serverCpuMs(pids, 'postgres');
}

/**
 * CPU time so far of each of `ids` (processes, or threads: /proc/<tid>
 * reads one thread), in ms, read from /proc/<id>/schedstat (nanoseconds on a
 * CPU). An id that exited in the meantime is left out. `undefined` when it
 * cannot be read, or when an id is not a `command` process or thread of this
 * machine (the server is on another host).
 */
export async function serverCpuMs(ids: number[], command: string): Promise<Map<number, number> | undefined> {
  const cpu = new Map<number, number>();
  for (const pid of ids) {
    let comm: string;
    let schedstat: string;
    try {
      [comm, schedstat] = await Promise.all([
        readFile(`/proc/${pid}/comm`, 'utf8'),
        readFile(`/proc/${pid}/schedstat`, 'utf8'),
      ]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (await readable('/proc/self/schedstat'))) continue;
      return undefined;
    }
    if (comm.trim() !== command) return undefined;
    cpu.set(pid, Number(schedstat.split(' ')[0]) / 1e6);
  }
  return cpu;
}

/**
 * CPU ms spent between two {@link serverCpuMs} readings (a process that
 * started in between counts whole), or `undefined`.
 */
export function cpuDelta(before?: Map<number, number>, after?: Map<number, number>): number | undefined {
  if (!before || !after) return undefined;
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

async function readable(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  );
}

/** Both readings as one (ids are unique on one machine), or `undefined` when either is. */
export function mergeCpu(a?: Map<number, number>, b?: Map<number, number>): Map<number, number> | undefined {
  return a && b ? new Map([...a, ...b]) : undefined;
}
