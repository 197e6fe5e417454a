/** The start-up hint: a few curl commands against the running sample. */
export function tryItHint(baseUrl: string, rabbitmq: boolean): string {
  const lines = [
    `Listening on ${baseUrl}. Try it:`,
    `  curl -i ${baseUrl}/orders -H 'Idempotency-Key: order-1' -H 'Content-Type: application/json' -d '{"product":"book","quantity":1}'`,
    '  (run it again: same 201 and body, plus Idempotent-Replayed: true; see README "Try it against the sample")',
    `  curl -i ${baseUrl}/webhooks/payments -H 'Content-Type: application/json' -d '{"id":"evt_1","orderId":1,"amount":2500}'`,
  ];
  if (rabbitmq) {
    lines.push(
      '  node dist-sample/sample/shipments/publish-shipment.js 1 3   (one message id, published 3 times: the order ships once)',
      `  curl ${baseUrl}/orders/1   ("shipments": 1)`,
    );
  }
  return lines.join('\n');
}
