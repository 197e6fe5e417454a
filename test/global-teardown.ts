/** Jest global teardown: stops the server that global-setup.ts started, if any. */
export default async function globalTeardown(): Promise<void> {
  const server = globalThis.__testPostgres;
  globalThis.__testPostgres = undefined;
  await server?.stop();
}
