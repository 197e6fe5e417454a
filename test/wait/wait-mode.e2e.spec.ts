import { InMemoryIdempotencyStore } from '../../lib/index.js';
import { ADAPTERS } from '../support/app.js';
import { describeWaitMode } from './wait-mode.js';

for (const adapter of ADAPTERS) describeWaitMode('PostgreSQL (LISTEN/NOTIFY)', adapter);
describeWaitMode('InMemoryIdempotencyStore (in-process events)', 'express', () => ({ store: new InMemoryIdempotencyStore() }));
