import type { INestMicroservice, ModuleMetadata } from '@nestjs/common';
import type { CustomTransportStrategy, MicroserviceOptions } from '@nestjs/microservices';
import type { AnyServer } from './transports.js';
import { Test } from '@nestjs/testing';
import type { AddressInfo, Server as NetServer } from 'node:net';

export const LOGGER = process.env.TEST_LOG ? ['error' as const, 'warn' as const] : false;

/** Boots a Nest microservice of `imports` on `server` (or on `options`), listening. */
export async function bootMicroservice(imports: ModuleMetadata['imports'], server: AnyServer | MicroserviceOptions): Promise<INestMicroservice> {
  const moduleRef = await Test.createTestingModule({ imports }).compile();
  const options = 'listen' in server ? { strategy: server as unknown as CustomTransportStrategy } : server;
  const app = moduleRef.createNestMicroservice<MicroserviceOptions>({ ...options, logger: LOGGER });
  await app.listen();
  return app;
}

/** The port a listening TCP microservice got (it asked for port 0). */
export function tcpPort(app: INestMicroservice): number {
  return (app.unwrap<NetServer>().address() as AddressInfo).port;
}
