// `node --import ./register-ts.mjs entry.ts` runs TypeScript with ts-hooks.mjs.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
