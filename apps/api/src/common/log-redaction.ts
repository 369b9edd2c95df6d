/**
 * Secrets a client may put where they do not belong (a seed as ?walletAddress=S..., a key as
 * ?api_key= or in a path) must not reach the request log: the logged URL, query and params are
 * cleaned here, as the headers and bodies are by REDACTED_PATHS.
 */

export const REDACTED = '[redacted]';

// A Stellar secret seed (S + 55 base32 characters) and a merchant API key (nk_<prefix>.<secret>).
const SECRET_SEED = /S[A-Z2-7]{55}/g;
const MERCHANT_KEY = /nk_[A-Za-z0-9_-]{12}[.%][A-Za-z0-9_.%-]{40,}/g;
// Query parameters whose value is a credential whatever it looks like.
const SECRET_PARAMETER =
  /^(api[-_]?key|x-api-key|key|token|access[-_]?token|secret|password|seed|auth|authorization)$/i;

export function redactText(text: string, adminApiKey: string): string {
  let cleaned = text.replace(SECRET_SEED, REDACTED).replace(MERCHANT_KEY, REDACTED);
  for (const form of new Set([adminApiKey, encodeURIComponent(adminApiKey)])) {
    if (form) cleaned = cleaned.split(form).join(REDACTED);
  }
  return cleaned;
}

export function redactUrl(url: string, adminApiKey: string): string {
  const at = url.indexOf('?');
  const path = redactText(at < 0 ? url : url.slice(0, at), adminApiKey);
  if (at < 0) return path;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decodedName = name;
      try {
        decodedName = decodeURIComponent(name);
      } catch {
        // a malformed escape: judge the name as written
      }
      if (eq >= 0 && SECRET_PARAMETER.test(decodedName)) return `${redactText(name, adminApiKey)}=${REDACTED}`;
      return redactText(pair, adminApiKey);
    })
    .join('&');
  return `${path}?${query}`;
}

function redactValues(values: unknown, adminApiKey: string): unknown {
  if (values === null || typeof values !== 'object') return values;
  const cleaned: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const key = redactText(name, adminApiKey);
    if (SECRET_PARAMETER.test(name)) cleaned[key] = REDACTED;
    else if (typeof value === 'string') cleaned[key] = redactText(value, adminApiKey);
    else if (Array.isArray(value))
      cleaned[key] = value.map((v) => (typeof v === 'string' ? redactText(v, adminApiKey) : REDACTED));
    else cleaned[key] = value === undefined || value === null ? value : REDACTED;
  }
  return cleaned;
}

/** A pino-http `req` serializer (it receives pino's serialized request) that cleans url, query and params. */
export function redactingRequestSerializer(adminApiKey: string) {
  return (req: Record<string, unknown>): Record<string, unknown> => {
    const cleaned: Record<string, unknown> = { ...req };
    if (typeof req.url === 'string') cleaned.url = redactUrl(req.url, adminApiKey);
    if ('query' in req) cleaned.query = redactValues(req.query, adminApiKey);
    if ('params' in req) cleaned.params = redactValues(req.params, adminApiKey);
    return cleaned;
  };
}
