import { describeHttpSemantics } from './http-semantics.js';

describeHttpSemantics('PostgreSQL (the default TypeORM store)');
