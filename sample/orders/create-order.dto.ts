import { BadRequestException } from '@nestjs/common';

/** Body of `POST /orders`. */
export interface CreateOrderDto {
  product: string;
  quantity: number;
}

/**
 * Checks the body of `POST /orders` (the sample has no class-validator).
 * @throws BadRequestException naming the field to fix.
 */
export function toCreateOrderDto(body: unknown): CreateOrderDto {
  const { product, quantity } = (body ?? {}) as Record<string, unknown>;
  if (typeof product !== 'string' || product.length === 0) {
    throw new BadRequestException('product must be a non-empty string');
  }
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
    throw new BadRequestException('quantity must be a positive integer');
  }
  return { product, quantity };
}
