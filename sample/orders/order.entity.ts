import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An order; `amountPaid` grows with each payment webhook event applied. */
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

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
