/**
 * Entry of the nestjs-cls test app, run in a child process by
 * support/cls-app-process.ts (`node --import register-ts.mjs`): nestjs-cls is
 * CommonJS that require()s the ESM-only Nest 12, which plain Node 20.19+ can
 * load and Jest (before Node 24.9) cannot. Reads `DATABASE_URL`, `ADAPTER`
 * and `CLS_APP` (JSON of {@link ClsAppOptions}); tells the test its port over
 * IPC. Errors and warnings go to stderr, which the test reads.
 */
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { ClsAppModule, type ClsAppOptions } from './cls-app.module.js';

// The test is gone (or killed us): do not linger.
process.on('disconnect', () => process.exit(0));

const { DATABASE_URL, ADAPTER = 'express', CLS_APP = '{"mount":"middleware"}' } = process.env;
if (!DATABASE_URL) throw new Error('DATABASE_URL must be set');

const app = await NestFactory.create(
  ClsAppModule.forRoot(DATABASE_URL, JSON.parse(CLS_APP) as ClsAppOptions),
  ADAPTER === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(),
  { logger: ['error', 'warn'], abortOnError: false },
);
await app.listen(0, '127.0.0.1');
process.send?.({ type: 'ready', port: (app.getHttpServer().address() as AddressInfo).port });
