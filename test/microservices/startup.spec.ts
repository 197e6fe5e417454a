import { describe, expect, it } from '@jest/globals';
import { Controller, Module, type Type } from '@nestjs/common';
import { MessagePattern, Transport } from '@nestjs/microservices';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Idempotent, IdempotencyConfigurationError, IdempotencyModule, InMemoryIdempotencyStore } from '../../lib/index.js';
import { LOGGER } from './support/microservice.js';

@Controller()
class KeylessTcpController {
  @MessagePattern('x', Transport.TCP)
  @Idempotent()
  x() {
    return 'x';
  }
}

@Controller()
class KeyedTcpController {
  @MessagePattern('x', Transport.TCP)
  @Idempotent({ key: (data: { id: string }) => data.id })
  x() {
    return 'x';
  }
}

@Controller()
class RmqController {
  @MessagePattern('x', Transport.RMQ)
  @Idempotent()
  x() {
    return 'x';
  }
}

@WebSocketGateway()
class IdempotentGateway {
  @SubscribeMessage('x')
  @Idempotent()
  x() {
    return 'x';
  }
}

/** Initialises an app (HTTP, no listening) of `controllers` and `providers`, then closes it. */
async function start(controllers: Type[], providers: Type[] = []): Promise<void> {
  @Module({ imports: [IdempotencyModule.forRoot({ store: new InMemoryIdempotencyStore() })], controllers, providers })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: LOGGER });
  try {
    await app.init();
  } finally {
    await app.close();
  }
}

describe('startup checks of @Idempotent() on message handlers', () => {
  it('refuses a TCP message handler without the `key` option (TCP messages carry no id)', async () => {
    await expect(start([KeylessTcpController])).rejects.toThrow(IdempotencyConfigurationError);
    await expect(start([KeylessTcpController])).rejects.toThrow(/KeylessTcpController\.x.*`key` option/);
  });

  it('starts a TCP message handler with the `key` option, and a RabbitMQ one without (its messages carry ids)', async () => {
    await expect(start([KeyedTcpController, RmqController])).resolves.toBeUndefined();
  });

  it('refuses @Idempotent() on a WebSocket gateway', async () => {
    await expect(start([], [IdempotentGateway])).rejects.toThrow(IdempotencyConfigurationError);
    await expect(start([], [IdempotentGateway])).rejects.toThrow(/IdempotentGateway\.x: WebSocket gateways are not supported/);
  });
});
