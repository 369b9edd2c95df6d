import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

export type { components, operations, paths };

/** The API's request and response bodies by schema name, e.g. `Schemas['IssuanceView']`. */
export type Schemas = components['schemas'];

/** Every route of the API, typed from its OpenAPI document (`client.GET('/v1/campaigns')`, ...). */
export type NovaClient = Client<paths>;

export interface NovaClientOptions extends Omit<ClientOptions, 'baseUrl' | 'headers'> {
  /** Where the API listens, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** Sent as `X-API-Key` with every request: a merchant key (`nk_...`) or the admin key. */
  apiKey?: string;
  /** More headers for every request. */
  headers?: Record<string, string>;
}

/**
 * A client of the Nova Rewards API generated from its OpenAPI document: paths, parameters,
 * bodies and answers are the document's types. A mutating merchant route takes its
 * `Idempotency-Key` as a typed (required) header parameter:
 *
 *   await client.POST('/v1/rewards/issuances', {
 *     params: { header: { 'Idempotency-Key': 'order-1' } },
 *     body: { campaignId, walletAddress, amount: '12.5' },
 *   });
 *
 * Each call resolves to `{ data, error, response }`: `data` on a 2xx, `error` (the API's
 * `{ statusCode, error, message, details? }`) otherwise.
 */
export function createNovaClient({ apiKey, headers, ...options }: NovaClientOptions): NovaClient {
  return createClient<paths>({
    ...options,
    headers: { ...(apiKey ? { 'X-API-Key': apiKey } : {}), ...headers },
  });
}
