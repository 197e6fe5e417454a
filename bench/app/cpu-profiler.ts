import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * The V8 CPU profiler of this process (the same profile `--cpu-prof`
 * writes), started and stopped on demand so that it covers the measured
 * window only, not boot and warm-up.
 */
export class CpuProfiler {
  private session?: Session;

  async start(): Promise<void> {
    this.session = new Session();
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.setSamplingInterval', { interval: 1000 }); // µs, as --cpu-prof
    await this.session.post('Profiler.start');
  }

  /** Stops the profiler and writes the `.cpuprofile` to `file`. */
  async stop(file: string): Promise<void> {
    if (!this.session) return;
    const { profile } = await this.session.post('Profiler.stop');
    this.session.disconnect();
    this.session = undefined;
    await writeFile(file, JSON.stringify(profile));
  }
}
