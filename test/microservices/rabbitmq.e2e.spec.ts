import { randomUUID } from 'node:crypto';
import { queueOptions } from './support/brokers.js';
import { describeMessageTransport } from './support/transport-cases.js';
import { rmqTransport } from './support/transports.js';

// The key is the AMQP messageId; a queue of this run only, deleted once its consumer (the app) stops (autoDelete).
describeMessageTransport(() => rmqTransport(`ms-rabbitmq-${randomUUID()}`, { ...queueOptions(), autoDelete: true }));
