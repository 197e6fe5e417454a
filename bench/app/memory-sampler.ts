/** Samples the resident set size of this process and keeps the largest. */
export class MemorySampler {
  private peak = process.memoryUsage.rss();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Largest RSS seen so far (sampled now too), in bytes. */
  get peakRss(): number {
    this.sample();
    return this.peak;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    return rss;
  }
}
