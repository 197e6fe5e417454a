import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** The one statement the handler runs: insert an order. */
export const INSERT_ORDER_SQL = 'INSERT INTO orders (item, quantity) VALUES ($1, $2) RETURNING id, created_at';

/** Request body of `POST /orders`. */
export interface OrderInput {
  item: string;
  quantity: number;
}

/** Response body of `POST /orders`. */
export interface Order extends OrderInput {
  id: number;
  createdAt: Date;
}

/** The handler's own work, identical in every scenario: one insert through TypeORM. */
@Injectable()
export class OrdersRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Inserts the order on a connection of the pool, or with `manager` (the
   * `atomic-*` scenarios: the request's transaction, from `@TransactionManager()`).
   */
  async insert(input: OrderInput, manager?: EntityManager): Promise<Order> {
    const [row] = await (manager ?? this.dataSource).query(INSERT_ORDER_SQL, [input.item, input.quantity]);
    return { id: row.id, item: input.item, quantity: input.quantity, createdAt: row.created_at };
  }
}
