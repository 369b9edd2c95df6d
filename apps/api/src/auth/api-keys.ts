import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Merchant API keys look like `nk_<prefix>.<secret>`: the prefix finds the row, the secret is
 * checked against its stored SHA-256. The full key is shown once, at creation. (A fast hash
 * is right here: the secret is 32 random bytes, not a password, so it cannot be guessed.)
 */
export interface GeneratedApiKey {
  prefix: string;
  secretHash: string;
  /** The key to give the merchant; never stored. */
  key: string;
}

const KEY_PATTERN = /^nk_([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})$/;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function generateApiKey(): GeneratedApiKey {
  const prefix = randomBytes(9).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { prefix, secretHash: hashSecret(secret), key: `nk_${prefix}.${secret}` };
}

/** Splits a presented key; undefined when it is not shaped like one of ours. */
export function parseApiKey(presented: string): { prefix: string; secret: string } | undefined {
  const match = KEY_PATTERN.exec(presented);
  return match ? { prefix: match[1]!, secret: match[2]! } : undefined;
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
