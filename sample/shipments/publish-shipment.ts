import amqp from 'amqplib';
import { SHIPMENTS_QUEUE } from './rabbitmq.js';

/**
 * Publishes `order.shipped` for an order several times with ONE message id,
 * as a publisher retrying after a lost confirm would:
 * `node dist-sample/sample/shipments/publish-shipment.js <orderId> [times] [messageId]`.
 */
async function publish(): Promise<void> {
  const [orderId = '1', times = '3', messageId = `shipment-${orderId}`] = process.argv.slice(2);
  const connection = await amqp.connect(process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(SHIPMENTS_QUEUE, { durable: true });
  const content = Buffer.from(JSON.stringify({ pattern: 'order.shipped', data: { orderId: Number(orderId) } }));
  for (let i = 0; i < Number(times); i++) channel.sendToQueue(SHIPMENTS_QUEUE, content, { messageId, persistent: true });
  await channel.waitForConfirms();
  await connection.close();
  console.log(`Published order.shipped for order ${orderId} ${times} times as message ${messageId}.`);
}

publish().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
