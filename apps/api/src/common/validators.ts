import { isISO8601, ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { StrKey } from '@stellar/stellar-sdk';
import { isValidAmount } from '@nova/domain';

function isAmount(value: unknown): boolean {
  if (typeof value !== 'string') return false;
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
          `${args?.property ?? 'amount'} must be a positive decimal string with at most 7 decimal places (e.g. "250.5")`,
      },
    },
    options,
  );
}

// A date-time with an explicit offset: a local time would mean whatever the server's zone is.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export function isInstant(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    INSTANT.test(value) &&
    isISO8601(value, { strict: true }) &&
    !Number.isNaN(new Date(value).getTime())
  );
}

/** An ISO-8601 date-time with a time zone, e.g. 2026-01-01T00:00:00Z. */
export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isInstant',
      validator: {
        validate: isInstant,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'date'} must be an ISO-8601 date-time with a time zone (e.g. 2026-01-01T00:00:00Z)`,
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
