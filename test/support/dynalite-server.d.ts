/** Type of `dynalite` (4.x, CommonJS, no types of its own): a local DynamoDB API server, in memory. */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** Milliseconds a table stays CREATING / DELETING / UPDATING (default 500). */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    /** Largest item (default 400). */
    maxItemSizeKb?: number;
    /** LevelDB folder; in memory when unset. */
    path?: string;
  }

  function dynalite(options?: DynaliteOptions): Server;
  export default dynalite;
}
