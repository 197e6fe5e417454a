import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An order; `amountPaid` grows with each payment webhook event applied,
 * `shipments` with each `order.shipped` message consumed.
 */
@Entity({ name: 'orders' })
export class Order {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'text' })
  product!: string;

  @Column({ type: 'int' })
  quantity!: number;

  /** Sum of the payments applied, in cents. */
  @Column({ name: 'amount_paid', type: 'int', default: 0 })
  amountPaid!: number;

  /** How many times it was shipped: 1, however often RabbitMQ delivers its message. */
  @Column({ type: 'int', default: 0 })
  shipments!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
