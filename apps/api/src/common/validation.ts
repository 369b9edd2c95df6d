import {
  BadRequestException,
  ValidationPipe,
  type ArgumentMetadata,
  type ValidationError,
  type ValidationPipeOptions,
} from '@nestjs/common';

function flatten(errors: ValidationError[], parent = ''): { field: string; messages: string[] }[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

export function fieldError(field: string, message: string): BadRequestException {
  return new BadRequestException({ message, details: [{ field, messages: [message] }] });
}

/**
 * Deeper than any request of this API needs (metadata, the deepest, allows 5 levels under its
 * own): refused before class-transformer and class-validator recurse into it, so a body nested
 * thousands deep is a 400, not a stack overflow.
 */
export const MAX_INPUT_DEPTH = 16;

// NUL, and UTF-16 surrogates without their other half: PostgreSQL stores neither (22021, 22P05).
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * Checks every string (object keys included) and the nesting depth of one request part,
 * iteratively (no recursion, whatever the depth). Throws a 400 naming the field.
 */
export function inspectInput(value: unknown, root: string | undefined): void {
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: root ?? '', depth: 0 }];
  const fieldOf = (path: string, key: string): string => (path ? `${path}.${key}` : key);
  while (pending.length > 0) {
    const { value: current, path, depth } = pending.pop()!;
    if (typeof current === 'string') {
      if (!isStorableText(current)) {
        const field = path || 'body';
        throw fieldError(field, `${field} must not contain NUL characters or unpaired UTF-16 surrogates`);
      }
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth >= MAX_INPUT_DEPTH) {
      const field = path.split('.')[0] || 'body';
      throw fieldError(field, `${field} is nested too deeply (at most ${MAX_INPUT_DEPTH} levels)`);
    }
    for (const [key, child] of Object.entries(current)) {
      if (!isStorableText(key)) {
        const field = path || 'body';
        throw fieldError(field, `${field} has a key with a NUL character or an unpaired UTF-16 surrogate`);
      }
      pending.push({ value: child, path: fieldOf(path, key), depth: depth + 1 });
    }
  }
}

// A path parameter named `id` or `...Id` is a resource id, a random (v4) UUID everywhere in this API.
const ID_PARAMETER = /^(id|[a-z][A-Za-z0-9]*Id)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function inspectIdParameters(value: unknown, name: string | undefined): void {
  const entries: [string, unknown][] =
    name !== undefined ? [[name, value]] : Object.entries((value ?? {}) as Record<string, unknown>);
  for (const [parameter, given] of entries) {
    if (ID_PARAMETER.test(parameter) && (typeof given !== 'string' || !UUID.test(given))) {
      throw fieldError(parameter, `${parameter} must be a UUID`);
    }
  }
}

/**
 * The one validation every route's input goes through: unknown fields are refused, every
 * message names its field (in `details`), strings PostgreSQL cannot store and over-deep input
 * are refused before the DTO is built (bodies as they are parsed), and path ids are UUIDs.
 */
export class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Bodies were inspected as they were parsed (RequestContractModule).
    if (metadata.type === 'query' || metadata.type === 'param') inspectInput(value, metadata.data);
    if (metadata.type === 'param') inspectIdParameters(value, metadata.data);
    return await super.transform(value, metadata);
  }
}

export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => {
    const details = flatten(errors);
    return new BadRequestException({
      message: details.flatMap((d) => d.messages).join('; '),
      details,
    });
  },
};

/** Global validation (see ApiValidationPipe). */
export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe(VALIDATION_OPTIONS);
}
