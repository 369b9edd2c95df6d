/** Stellar amounts: decimal strings with at most 7 fractional digits, held as bigint stroops. */
export const STROOPS_PER_UNIT = 10_000_000n;
const AMOUNT_PATTERN = /^(0|[1-9]\d{0,11})(\.\d{1,7})?$/;
/** Stellar's largest amount: int64 max stroops. */
export const MAX_STROOPS = 9_223_372_036_854_775_807n;

export function isValidAmount(text: string): boolean {
  return AMOUNT_PATTERN.test(text) && toStroops(text) > 0n;
}

/** "12.5" -> 125000000n. Throws on anything that is not a plain positive decimal of <= 7 places. */
export function toStroops(text: string): bigint {
  if (!AMOUNT_PATTERN.test(text)) throw new RangeError(`not a Stellar amount: ${JSON.stringify(text)}`);
  const [whole = '0', fraction = ''] = text.split('.');
  const stroops = BigInt(whole) * STROOPS_PER_UNIT + BigInt(fraction.padEnd(7, '0'));
  if (stroops > MAX_STROOPS) throw new RangeError(`amount too large: ${text}`);
  return stroops;
}

/** 125000000n -> "12.5000000" (the fixed 7-decimal form Horizon and the SDK use). */
export function fromStroops(stroops: bigint): string {
  const negative = stroops < 0n;
  const abs = negative ? -stroops : stroops;
  const whole = abs / STROOPS_PER_UNIT;
  const fraction = (abs % STROOPS_PER_UNIT).toString().padStart(7, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}
