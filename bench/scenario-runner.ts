import { setTimeout as sleep } from 'node:timers/promises';
import { AppProcess } from './app-process.js';
import { withApplicationName, type BenchDatabase } from './database.js';
import { runLoad } from './load.js';
import { scenarioResult, type ScenarioResult, type Window } from './metrics.js';
import type { BenchRedis } from './redis.js';
import { usesRedis, type Scenario } from './scenarios.js';
import { cpuDelta } from './server-cpu.js';

const applicationName = (scenario: Scenario) => `bench ${scenario.name}`;

/** Time for requests cut off when the load stops to finish in the app. */
const SETTLE_MS = 150;

/** Load settings shared by every window. */
export interface LoadSettings {
  connections: number;
  pool: number;
}

/** The Redis keys of one app: the server, and the key prefix of the app's store. */
interface RedisKeys {
  redis: BenchRedis;
  prefix: string;
}

/**
 * One scenario with its own app process, measured in one or more windows
 * (interleaved with the other scenarios' by the caller), each from a clean
 * slate: empty tables (and no Redis keys for a `redis-*` app), the scenario's
 * preparation, a warm-up, then the measured load with the app's counters read
 * before and after it.
 */
export class ScenarioRun {
  private readonly windows: Window[] = [];
  private readonly nextKey: () => string;

  private constructor(
    readonly scenario: Scenario,
    private readonly app: AppProcess,
    private readonly database: BenchDatabase,
    private readonly settings: LoadSettings,
    private readonly redisKeys?: RedisKeys,
  ) {
    this.nextKey = scenario.keys(settings.connections);
  }

  /**
   * Starts the app of `scenario`; its connections are named after the
   * scenario. A `redis-*` app needs `redis`, and gets a key prefix of its own.
   */
  static async start(
    scenario: Scenario,
    database: BenchDatabase,
    settings: LoadSettings,
    redis?: BenchRedis,
  ): Promise<ScenarioRun> {
    const url = withApplicationName(database.url, applicationName(scenario));
    if (!usesRedis(scenario)) {
      return new ScenarioRun(scenario, await AppProcess.start(scenario.mode, url, settings.pool), database, settings);
    }
    if (!redis) throw new Error(`the ${scenario.name} scenario needs Redis`);
    const keys = { redis, prefix: redis.prefixFor(scenario.name) };
    const app = await AppProcess.start(scenario.mode, url, settings.pool, { url: redis.url, prefix: keys.prefix });
    return new ScenarioRun(scenario, app, database, settings, keys);
  }

  private get applicationName(): string {
    return applicationName(this.scenario);
  }

  /**
   * Measures one window of `duration` seconds after `warmup` seconds of
   * unmeasured load; with `profileFile`, profiles the app during the window.
   */
  async measure(warmup: number, duration: number, profileFile?: string): Promise<Window> {
    await this.database.reset();
    await this.redisKeys?.redis.clear(this.redisKeys.prefix);
    await this.scenario.prepare?.(this.app.port);
    const load = { port: this.app.port, connections: this.settings.connections, nextKey: this.nextKey };
    if (warmup > 0) await runLoad({ ...load, duration: warmup });
    await sleep(SETTLE_MS);

    const before = await this.app.stats();
    const serverCpuBefore = await this.database.serverCpuMs(this.applicationName);
    if (profileFile) await this.app.startProfile();
    const measured = await runLoad({ ...load, duration });
    await sleep(SETTLE_MS);
    if (profileFile) await this.app.stopProfile(profileFile);
    const window: Window = {
      load: measured,
      before,
      after: await this.app.stats(),
      serverCpuMs: cpuDelta(serverCpuBefore, await this.database.serverCpuMs(this.applicationName)),
    };
    this.windows.push(window);
    return window;
  }

  /** The figures over every window so far. */
  result(): ScenarioResult {
    return scenarioResult(this.scenario, this.windows);
  }

  async stop(): Promise<void> {
    await this.app.stop();
  }
}
