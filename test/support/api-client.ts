import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createNovaClient, type NovaClient, type Schemas } from '@nova/client';

/**
 * The end-to-end tests call the API through the typed client generated from its OpenAPI
 * document (@nova/client), as a merchant's code would: a route, parameter or body the document
 * does not state does not compile. The app listens on a free loopback port for it.
 */
export async function listenForClients(app: NestExpressApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
}

/** A client of the API at `baseUrl` sending `apiKey` as X-API-Key (none: an anonymous caller). */
export function apiClient(baseUrl: string, apiKey?: string): NovaClient {
  return createNovaClient({ baseUrl, apiKey });
}

/** The `params` of a mutating merchant request: its Idempotency-Key (a fresh one by default). */
export function idempotencyKey(key: string = randomUUID()): { header: { 'Idempotency-Key': string } } {
  return { header: { 'Idempotency-Key': key } };
}

/**
 * The `params` of a request that leaves out the Idempotency-Key the document requires (a cast:
 * the client's types would not allow it), for the refusals that come before or of that check.
 */
export const NO_IDEMPOTENCY_KEY = {} as ReturnType<typeof idempotencyKey>;

/**
 * Asserts the answer's status (supertest's `.expect(status)`), showing the body otherwise, and
 * returns the answer.
 */
export async function expectStatus<T extends { response: Response; data?: unknown; error?: unknown }>(
  call: Promise<T>,
  status: number,
): Promise<T> {
  const answer = await call;
  assert.equal(answer.response.status, status, JSON.stringify(answer.data ?? answer.error));
  return answer;
}

/** The fields a 400 names (its `details` as field errors), in order; none for other details. */
export function fieldsOf(error: Schemas['ErrorResponse'] | undefined): string[] {
  const details = error?.details;
  return Array.isArray(details) ? details.map((d) => d.field) : [];
}

/** The reason a refusal names (its `details.reason`); none for field errors. */
export function reasonOf(error: Schemas['ErrorResponse'] | undefined): string | undefined {
  const details = error?.details;
  return details && !Array.isArray(details) ? details.reason : undefined;
}

/**
 * A running campaign of the client's merchant (from a minute ago for a day unless `body` says
 * otherwise), created through the API; its view.
 */
export async function runningCampaign(
  client: NovaClient,
  body: Partial<Schemas['CreateCampaignRequest']> = {},
): Promise<Schemas['CampaignView']> {
  const { data } = await expectStatus(
    client.POST('/v1/campaigns', {
      params: idempotencyKey(),
      body: {
        name: 'Rewards',
        budget: '1000',
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + 86_400_000).toISOString(),
        ...body,
      },
    }),
    201,
  );
  return data!;
}
