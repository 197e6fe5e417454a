import { DataSource, type DataSourceOptions } from 'typeorm';

/** Every DataSource the fixtures' TypeORM module started, in order. */
const started: Promise<DataSource>[] = [];

/** The `dataSourceFactory` of the fixtures: starts a DataSource and keeps track of it. */
export function startDataSource(options: DataSourceOptions): Promise<DataSource> {
  const initialized = new DataSource(options).initialize();
  initialized.catch(() => undefined); // a failed boot may never await it
  started.push(initialized);
  return initialized;
}

/** How many DataSources were started so far: pass it to {@link destroyDataSourcesSince}. */
export const dataSourceMark = () => started.length;

/**
 * Waits for the DataSources started after `mark` to settle and destroys them.
 * A boot that fails in `compile()` never gets a module to close: its
 * DataSource would go on synchronizing beside the next app's on the same
 * database, and keep Jest from exiting.
 */
export async function destroyDataSourcesSince(mark: number): Promise<void> {
  const settled = await Promise.allSettled(started.slice(mark));
  for (const result of settled) {
    if (result.status === 'fulfilled' && result.value.isInitialized) await result.value.destroy();
  }
}
