/** Stellar amounts: int64 stroops internally, 7-decimal strings on the wire (as Horizon). */

export const STROOPS_PER_UNIT = 10_000_000n;
export const MAX_INT64 = 9_223_372_036_854_775_807n;

/** 12345678n -> "1.2345678" (Horizon always prints all 7 decimals). */
export function formatStroops(stroops: bigint): string {
  const negative = stroops < 0n;
  const abs = negative ? -stroops : stroops;
  const whole = abs / STROOPS_PER_UNIT;
  const fraction = (abs % STROOPS_PER_UNIT).toString().padStart(7, '0');
  return `${negative ? '-' : ''}${whole.toString()}.${fraction}`;
}

/** "1.5" -> 15000000n; throws on more than 7 decimals or anything that is not a plain decimal. */
export function parseAmount(text: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,7}))?$/.exec(text.trim());
  if (!match) throw new Error(`invalid amount "${text}"`);
  const whole = BigInt(match[1] ?? '0');
  const fraction = BigInt((match[2] ?? '').padEnd(7, '0'));
  return whole * STROOPS_PER_UNIT + fraction;
}

export function xlm(units: number | bigint): bigint {
  return BigInt(units) * STROOPS_PER_UNIT;
}
