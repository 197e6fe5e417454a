import { describeMessageTransport } from './support/transport-cases.js';
import { natsTransport } from './support/transports.js';

// The key is the Nats-Msg-Id header; subjects are under a prefix of this run.
describeMessageTransport(natsTransport);
