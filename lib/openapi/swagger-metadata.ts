import type { Type } from '@nestjs/common';
import type { Handler } from '../interceptors/idempotent-routes.js';

/*
 * The metadata `@nestjs/swagger` reads when it builds a document, written here
 * without importing it (an optional peer that the core never loads). Keys and
 * shapes are those its decorators write, identical in majors 11 and 12:
 * - `@ApiHeader()` on a method appends `{ name, in: 'header', ... }` to the
 *   method's `swagger/apiParameters` array; on a class it appends to the
 *   class's `swagger/apiHeaders`.
 * - `@ApiResponse()` on a method or a class sets `{ [status]: { description, ... } }`
 *   in `swagger/apiResponse`. A method's entry wins over its class's.
 * - A controller compiled with the swagger CLI plugin has a static
 *   `_OPENAPI_METADATA_FACTORY()`, from which swagger adds a success response.
 */
const PARAMETERS = 'swagger/apiParameters';
const CLASS_HEADERS = 'swagger/apiHeaders';
const RESPONSES = 'swagger/apiResponse';
const PLUGIN_FACTORY = '_OPENAPI_METADATA_FACTORY';

/** An OpenAPI header parameter, as `@ApiHeader()` stores it. */
export interface HeaderParameter {
  name: string;
  in: 'header';
  required: boolean;
  description: string;
  schema: Record<string, unknown>;
}

/** An OpenAPI response object, as `@ApiResponse()` stores it (without `status`). */
export interface ResponseObject {
  description: string;
  headers?: Record<string, { description: string; schema: Record<string, unknown> }>;
  content?: Record<string, { schema: Record<string, unknown>; examples?: Record<string, { summary: string; value: unknown }> }>;
}

type Responses = Record<string, ResponseObject>;

/** The entries this library wrote, told apart from the app's own so that a second app in the process rewrites only them. */
const written = new WeakSet<object>();

function ours<T extends object>(entry: T): T {
  written.add(entry);
  return entry;
}

/**
 * Documents `parameter` on `handler` unless the app declares a header of the
 * same name (case-insensitive, like HTTP) on the method or its class; `null`
 * removes what this library documented before.
 */
export function documentHeader(controller: Type, handler: Handler, parameter: HeaderParameter | null): void {
  const current: HeaderParameter[] = Reflect.getMetadata(PARAMETERS, handler) ?? [];
  const own = current.filter((entry) => !written.has(entry));
  const declared = [...own, ...(Reflect.getMetadata(PARAMETERS, controller) ?? []), ...(Reflect.getMetadata(CLASS_HEADERS, controller) ?? [])];
  const add = parameter && !declared.some((entry) => isHeader(entry, parameter.name));
  if (own.length === current.length && !add) return;
  Reflect.defineMetadata(PARAMETERS, add ? [...own, ours(parameter)] : own, handler);
}

function isHeader(entry: HeaderParameter, name: string): boolean {
  return entry.in === 'header' && typeof entry.name === 'string' && entry.name.toLowerCase() === name.toLowerCase();
}

/**
 * Documents `problems` (by status) on `handler`, each unless the app declares
 * that status on the method or its class, and adds `successHeaders` to the
 * method's success responses. Writing a method's responses hides swagger's
 * implicit success response, so when the app declares none on the method,
 * `success` is written instead: what swagger shows for the route by itself
 * (`201` for POST, else `200`, or the `@HttpCode()`). Not when the class
 * comes from the swagger CLI plugin: the plugin adds its own, typed one.
 */
export function documentResponses(
  controller: Type,
  handler: Handler,
  problems: Responses,
  success: { status: number; headers: NonNullable<ResponseObject['headers']> },
): void {
  const own = Object.entries<ResponseObject>(Reflect.getMetadata(RESPONSES, handler) ?? {}).filter(([, entry]) => !written.has(entry));
  const onClass: Responses = Reflect.getMetadata(RESPONSES, controller) ?? {};
  const responses: Responses = {};
  if (own.length === 0 && typeof (controller as unknown as Record<string, unknown>)[PLUGIN_FACTORY] !== 'function') {
    responses[success.status] = ours({ description: '', headers: structuredClone(success.headers) });
  }
  for (const [status, entry] of own) {
    responses[status] = isSuccess(status) ? { ...entry, headers: { ...structuredClone(success.headers), ...entry.headers } } : entry;
  }
  for (const [status, entry] of Object.entries(problems)) {
    if (!(status in responses) && !(status in onClass)) responses[status] = ours(entry);
  }
  Reflect.defineMetadata(RESPONSES, responses, handler);
}

function isSuccess(status: string): boolean {
  return /^2\d\d$/.test(status);
}
