import { isISO8601, ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { StrKey } from '@stellar/stellar-sdk';
import { isValidAmount } from '@nova/domain';

/**
 * The amounts the API takes, exactly as the OpenAPI document states them: positive, at most 7
 * decimals, at most 11 integer digits (99,999,999,999.9999999 NOVA: well inside int64 stroops,
 * so the pattern alone says what is valid).
 */
export const AMOUNT_PATTERN =
  '^(?:[1-9]\\d{0,10}(?:\\.\\d{1,7})?|0\\.(?:[1-9]\\d{0,6}|0[1-9]\\d{0,5}|00[1-9]\\d{0,4}|000[1-9]\\d{0,3}|0000[1-9]\\d{0,2}|00000[1-9]\\d?|000000[1-9]))$';
const AMOUNT = new RegExp(AMOUNT_PATTERN);

/** A Stellar account address, as the document states it (IsStellarAccount checks the checksum too). */
export const ACCOUNT_PATTERN = '^G[A-Z2-7]{55}$';

function isAmount(value: unknown): boolean {
  if (typeof value !== 'string' || !AMOUNT.test(value)) return false;
  try {
    return isValidAmount(value);
  } catch {
    return false; // larger than Stellar's int64 stroops
  }
}

/** A positive Stellar amount as a decimal string: at most 7 decimal places, fits int64 stroops. */
export function IsStellarAmount(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStellarAmount',
      validator: {
        validate: isAmount,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'amount'} must be a positive decimal string with at most 7 decimal places and 11 integer digits (e.g. "250.5")`,
      },
    },
    options,
  );
}

// A date-time with an explicit offset: a local time would mean whatever the server's zone is.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

// Instants are kept on chain as unix seconds in a u64 (the campaign contract): none before
// 1970; and four-digit years, as everywhere else in the API and in PostgreSQL's text form.
export const EARLIEST_INSTANT = '1970-01-01T00:00:00Z';
export const LATEST_INSTANT = '9999-12-31T23:59:59Z';
const LATEST_MS = Date.parse(LATEST_INSTANT);

export function isInstant(value: unknown): value is string {
  if (typeof value !== 'string' || !INSTANT.test(value) || !isISO8601(value, { strict: true })) return false;
  const ms = new Date(value).getTime();
  return !Number.isNaN(ms) && ms >= 0 && ms <= LATEST_MS;
}

/** An ISO-8601 date-time with a time zone, e.g. 2026-01-01T00:00:00Z. */
export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isInstant',
      validator: {
        validate: isInstant,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'date'} must be an ISO-8601 date-time with a time zone (e.g. 2026-01-01T00:00:00Z), from ${EARLIEST_INSTANT} to ${LATEST_INSTANT}`,
      },
    },
    options,
  );
}

/** Later than the instant in `property` of the same object (checked only when both are valid). */
export function IsAfter(property: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isAfter',
      constraints: [property],
      validator: {
        validate: (value: unknown, args?: ValidationArguments) => {
          const other = (args?.object as Record<string, unknown> | undefined)?.[property];
          if (!isInstant(value) || !isInstant(other)) return true; // reported by IsInstant
          return new Date(value).getTime() > new Date(other).getTime();
        },
        defaultMessage: (args?: ValidationArguments) => `${args?.property ?? 'date'} must be after ${property}`,
      },
    },
    options,
  );
}

/** A Stellar account address (G...), checked with the SDK's StrKey (checksum included). */
export function IsStellarAccount(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStellarAccount',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && StrKey.isValidEd25519PublicKey(value),
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'walletAddress'} must be a Stellar account address (G...)`,
      },
    },
    options,
  );
}

/** Bounds of a free-form JSON object field (metadata): what the OpenAPI document states too. */
export interface JsonObjectBounds {
  /** Levels of objects and arrays, the field's own object counting as the first. */
  maxDepth: number;
  /** Object keys at all levels together. */
  maxKeys: number;
  /** Serialized as JSON, in UTF-8 bytes. */
  maxBytes: number;
}

/** Why a value is not a JSON object within the bounds; undefined when it is. Iterative. */
export function jsonObjectProblem(value: unknown, bounds: JsonObjectBounds): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'must be a JSON object';
  let keys = 0;
  const pending: { value: object; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: current, depth } = pending.pop()!;
    if (depth >= bounds.maxDepth) return `must be nested at most ${bounds.maxDepth} levels deep`;
    if (!Array.isArray(current)) keys += Object.keys(current).length;
    if (keys > bounds.maxKeys) return `must have at most ${bounds.maxKeys} keys in all`;
    for (const child of Object.values(current)) {
      if (child !== null && typeof child === 'object') pending.push({ value: child as object, depth: depth + 1 });
    }
  }
  if (Buffer.byteLength(JSON.stringify(value)) > bounds.maxBytes) {
    return `must be at most ${bounds.maxBytes} bytes as JSON`;
  }
  return undefined;
}

/** A JSON object within the given bounds (depth, key count, serialized size). */
export function IsBoundedJsonObject(bounds: JsonObjectBounds, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isBoundedJsonObject',
      constraints: [bounds],
      validator: {
        validate: (value: unknown) => jsonObjectProblem(value, bounds) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'value'} ${jsonObjectProblem(args?.value, bounds) ?? 'must be a JSON object'}`,
      },
    },
    options,
  );
}
