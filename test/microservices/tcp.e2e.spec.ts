import { describeMessageTransport } from './support/transport-cases.js';
import { tcpTransport } from './support/transports.js';

// TCP messages carry no id: the handlers read the key from the data (`key` option).
describeMessageTransport(tcpTransport);
