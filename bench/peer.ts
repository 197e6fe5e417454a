import { createRequire } from 'node:module';

/** The peer library of the `peer-*` rows. */
export const PEER_PACKAGE = '@node-idempotency/nestjs';

/** The peer library as installed here. */
export interface PeerLibrary {
  /** Its `package.json` version, for the report. */
  readonly version: string;
}

/**
 * Checks that the peer library loads beside this project's Nest: it is
 * CommonJS and `require()`s `@nestjs/common` and `@nestjs/core`, which are
 * ESM only since Nest 12 (Node 20.19+ can `require()` ESM), and it declares
 * Nest `^9 || ^10` (package.json's `overrides` let npm install it anyway).
 * @throws Error saying why when it does not load (not installed, or the error it throws).
 */
export async function openPeerLibrary(): Promise<PeerLibrary> {
  try {
    await import(PEER_PACKAGE);
    const { version } = createRequire(import.meta.url)(`${PEER_PACKAGE}/package.json`) as { version: string };
    return { version };
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`${PEER_PACKAGE} does not load (${why})`, { cause: error });
  }
}
