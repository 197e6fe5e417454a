import { setTimeout as sleep } from 'node:timers/promises';
import { AppProcess } from './app-process.js';
import { withApplicationName, type BenchDatabase } from './database.js';
import { runLoad } from './load.js';
import { scenarioResult, type ScenarioResult, type Window } from './metrics.js';
import type { BenchDynamodb } from './dynamodb.js';
import type { BenchMariadb } from './mariadb.js';
import { APP_ENV, type AppMode } from './protocol.js';
import type { BenchRedis } from './redis.js';
import { usesDynamodb, usesMariadb, usesRedis, type Scenario } from './scenarios.js';
import { cpuDelta, mergeCpu } from './server-cpu.js';

/** The `application_name` of the connections of the app of a scenario (or wait measurement). */
export const applicationName = (measured: { name: string }) => `bench ${measured.name}`;

/** Time for requests cut off when the load stops to finish in the app. */
const SETTLE_MS = 150;

/** Load settings shared by every window. */
export interface LoadSettings {
  connections: number;
  pool: number;
}

/** The servers of the stores outside PostgreSQL, when the run uses them. */
export interface StoreServers {
  redis?: BenchRedis;
  mariadb?: BenchMariadb;
  dynamodb?: BenchDynamodb;
}

/**
 * Where the store of a `redis-*`, `peer-redis-*`, `wait-redis` or `mariadb-*` app keeps its
 * records: the app's settings, and how to empty it.
 */
export interface OwnStore {
  env: NodeJS.ProcessEnv;
  clear(): Promise<void>;
  /** CPU so far of the store's server processes serving the app, when it is a database (see `serverCpuMs`). */
  serverCpuMs?(): Promise<Map<number, number> | undefined>;
}

/**
 * One scenario with its own app process, measured in one or more windows
 * (interleaved with the other scenarios' by the caller), each from a clean
 * slate: empty tables (and an empty store for a `redis-*`, `peer-redis-*` or
 * `mariadb-*` app, an empty in-process store for a `memory-*` or
 * `peer-memory-*` app), the scenario's preparation, a warm-up, then the
 * measured load with the app's counters read before and after it.
 */
export class ScenarioRun {
  private readonly windows: Window[] = [];
  private readonly nextKey: () => string;

  private constructor(
    readonly scenario: Scenario,
    private readonly app: AppProcess,
    private readonly database: BenchDatabase,
    private readonly settings: LoadSettings,
    private readonly store?: OwnStore,
  ) {
    this.nextKey = scenario.keys(settings.connections);
  }

  /**
   * Starts the app of `scenario`; its connections are named after the
   * scenario. A `redis-*` or `peer-redis-*` app needs `servers.redis`, and gets a key prefix of
   * its own; a `mariadb-*` app needs `servers.mariadb`, and gets a database of its own.
   */
  static async start(
    scenario: Scenario,
    database: BenchDatabase,
    settings: LoadSettings,
    servers: StoreServers = {},
  ): Promise<ScenarioRun> {
    const url = withApplicationName(database.url, applicationName(scenario));
    const store = await ownStoreOf(scenario, servers);
    const app = await AppProcess.start(scenario.mode, url, settings.pool, store?.env);
    return new ScenarioRun(scenario, app, database, settings, store);
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
    await this.store?.clear();
    await this.app.reset();
    await this.scenario.prepare?.(this.app.port);
    const load = { port: this.app.port, connections: this.settings.connections, nextKey: this.nextKey };
    if (warmup > 0) await runLoad({ ...load, duration: warmup });
    await sleep(SETTLE_MS);

    const before = await this.app.stats();
    const serverCpuBefore = await this.serverCpuMs();
    if (profileFile) await this.app.startProfile();
    const measured = await runLoad({ ...load, duration });
    await sleep(SETTLE_MS);
    if (profileFile) await this.app.stopProfile(profileFile);
    const window: Window = {
      load: measured,
      before,
      after: await this.app.stats(),
      serverCpuMs: cpuDelta(serverCpuBefore, await this.serverCpuMs()),
    };
    this.windows.push(window);
    return window;
  }

  /** CPU so far of the database servers serving the app: its PostgreSQL backends, and its MariaDB threads in `mariadb-*`. */
  private async serverCpuMs(): Promise<Map<number, number> | undefined> {
    const postgres = await this.database.serverCpuMs(this.applicationName);
    return this.store?.serverCpuMs ? mergeCpu(postgres, await this.store.serverCpuMs()) : postgres;
  }

  /** The figures over every window so far. */
  result(): ScenarioResult {
    return scenarioResult(this.scenario, this.windows);
  }

  async stop(): Promise<void> {
    await this.app.stop();
  }
}

/** The store of a `redis-*`, `peer-redis-*`, `wait-redis` or `mariadb-*` app, made for it; `undefined` for the others. */
export async function ownStoreOf(
  scenario: { name: string; mode: AppMode },
  { redis, mariadb, dynamodb }: StoreServers,
): Promise<OwnStore | undefined> {
  if (usesRedis(scenario)) {
    if (!redis) throw new Error(`the ${scenario.name} scenario needs Redis`);
    const prefix = redis.prefixFor(scenario.name);
    return { env: { [APP_ENV.redisUrl]: redis.url, [APP_ENV.redisPrefix]: prefix }, clear: () => redis.clear(prefix) };
  }
  if (usesMariadb(scenario)) {
    if (!mariadb) throw new Error(`the ${scenario.name} scenario needs MariaDB`);
    const url = await mariadb.createDatabase();
    return { env: { [APP_ENV.mysqlUrl]: url }, clear: () => mariadb.clear(url), serverCpuMs: () => mariadb.serverCpuMs(url) };
  }
  if (usesDynamodb(scenario)) {
    if (!dynamodb) throw new Error(`the ${scenario.name} scenario needs dynalite`);
    const table = await dynamodb.createTable(scenario.name);
    return {
      env: { [APP_ENV.dynamodbEndpoint]: dynamodb.endpoint, [APP_ENV.dynamodbTable]: table },
      clear: () => dynamodb.clear(table),
      serverCpuMs: () => dynamodb.serverCpuMs(),
    };
  }
  return undefined;
}
