import type { AddressInfo } from 'node:net';
import { createApp } from './platform.js';

/** Boots the app on a free port of 127.0.0.1 and prints that port for the compatibility runner. */
async function bootstrap(): Promise<void> {
  const app = await createApp();
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  console.log(`compat-app listening on port ${port}`);
}

void bootstrap();
