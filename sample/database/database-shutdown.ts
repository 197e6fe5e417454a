import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DATABASE } from './database.constants.js';
import type { Database } from './database.js';

/**
 * Stops the embedded PostgreSQL when the app shuts down (SIGINT/SIGTERM with
 * `app.enableShutdownHooks()`). It lives in the root module, whose hooks run
 * after those of TypeORM's global module, so the connections are closed first.
 */
@Injectable()
export class DatabaseShutdown implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');

  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.database.stop) return;
    await this.database.stop();
    this.logger.log('Embedded PostgreSQL stopped');
  }
}
