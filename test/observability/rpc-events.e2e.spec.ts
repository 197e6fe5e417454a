import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { ClientTCP, MessagePattern, Payload, ServerTCP } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { Idempotent, IdempotencyModule, InMemoryIdempotencyStore } from '../../lib/index.js';
import { bootMicroservice, tcpPort } from '../microservices/support/microservice.js';
import { EventRecorder, expectedEvent } from './support/event-recorder.js';

@Controller()
class ChargesController {
  @MessagePattern('charge')
  @Idempotent({ key: (data: { id: string }) => data.id })
  charge(@Payload() data: { id: string; amount: number }) {
    return { charged: data.amount };
  }
}

@Module({})
class ChargesModule {}

/** A message handler emits the same events as an HTTP route, as transport `rpc`. */
describe('events of a message handler (TCP microservice)', () => {
  const recorder = new EventRecorder();
  let app: INestMicroservice;
  let client: ClientTCP;

  beforeAll(async () => {
    const charges = {
      module: ChargesModule,
      imports: [IdempotencyModule.forRoot({ store: new InMemoryIdempotencyStore(), onEvent: recorder.listener })],
      controllers: [ChargesController],
    };
    app = await bootMicroservice([charges], new ServerTCP({ host: '127.0.0.1', port: 0 }));
    client = new ClientTCP({ host: '127.0.0.1', port: tcpPort(app) });
    await client.connect();
  });

  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  it('claimed, completed; a redelivery: replayed', async () => {
    const send = () => firstValueFrom(client.send('charge', { id: 'charge-1', amount: 5 }));
    expect(await send()).toEqual({ charged: 5 });
    expect(await send()).toEqual({ charged: 5 });
    const record = { scope: 'message charge', key: 'charge-1', transport: 'rpc' as const };
    expect(recorder.of('charge-1')).toEqual([
      expectedEvent('claimed', record),
      expectedEvent('completed', record, { status: 200 }),
      expectedEvent('replayed', record, { status: 200 }),
    ]);
  });
});
