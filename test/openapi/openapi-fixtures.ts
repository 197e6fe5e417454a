import { Body, Controller, Get, HttpCode, Post, Put, Sse } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { ApiConflictResponse, ApiCreatedResponse, ApiHeader, ApiProperty, ApiResponse } from '@nestjs/swagger';
import { Observable, of } from 'rxjs';
import { Idempotent } from '../../lib/decorators/idempotent.decorator.js';
import { SkipIdempotency } from '../../lib/decorators/skip-idempotency.decorator.js';

export class Order {
  @ApiProperty()
  id!: string;
}

/** One route per documentation case. */
@Controller('orders')
export class OrdersController {
  @Post()
  @Idempotent()
  create(@Body() _body: unknown) {
    return { id: '1' };
  }

  @Put(':id')
  @Idempotent({ required: false })
  replace() {
    return { id: '1' };
  }

  /** The app's own 409 and success response, declared above @Idempotent() (applied after it). */
  @Post('imports')
  @ApiResponse({ status: 409, description: 'An import of this file is already running.' })
  @ApiCreatedResponse({ type: Order, description: 'The import.' })
  @Idempotent()
  import() {
    return { id: '1' };
  }

  /** The app's own 409 and key header, declared below @Idempotent() (applied before it). */
  @Post('exports')
  @HttpCode(202)
  @Idempotent({ failOpen: true })
  @ApiConflictResponse({ description: 'An export is already running.' })
  @ApiHeader({ name: 'idempotency-key', description: 'The export id.', required: true })
  export() {
    return { id: '1' };
  }

  @Post('payments')
  @Idempotent({ key: (body: { paymentId?: string }) => body.paymentId })
  pay(@Body() _body: unknown) {
    return { id: '1' };
  }

  @Post('notes')
  note() {
    return { id: '1' };
  }

  @Get()
  list() {
    return [];
  }
}

/** @Idempotent() on the class covers its routes, but @SkipIdempotency() and server-sent events. */
@Controller('refunds')
@ApiResponse({ status: 503, description: 'Refunds are paused.' })
@Idempotent()
export class RefundsController {
  @Post()
  refund() {
    return { id: '1' };
  }

  @Post('preview')
  @SkipIdempotency()
  preview() {
    return { id: '1' };
  }

  @Sse('events')
  events(): Observable<MessageEvent> {
    return of();
  }
}

/** A message handler in a controller: not an HTTP route, so never documented. */
@Controller()
export class ShipmentsController {
  @MessagePattern('shipment.create')
  @Idempotent({ key: (data: { id: string }) => data.id })
  ship() {
    return 'shipped';
  }
}

/** What the swagger CLI plugin compiles a controller to: a static factory of response types. With its own key header. */
@Controller('invoices')
@ApiHeader({ name: 'IDEMPOTENCY-KEY', description: 'The invoice number.' })
export class InvoicesController {
  @Post()
  @Idempotent()
  create(): Order {
    return { id: '1' };
  }

  static _OPENAPI_METADATA_FACTORY() {
    return { create: { type: Order } };
  }
}
