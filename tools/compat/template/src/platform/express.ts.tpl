import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

/** The app on Express (the default platform). */
export function createApp(): Promise<INestApplication> {
  return NestFactory.create(AppModule);
}
