import type { OpenAPIObject, OperationObject, ResponseObject } from '@nestjs/swagger';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER } from './idempotency-key';

const MUTATING = ['post', 'put', 'patch', 'delete'] as const;
const ERROR = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } };

function isMerchantOperation(operation: OperationObject): boolean {
  return (operation.security ?? []).some((requirement) => 'merchant-key' in requirement);
}

function addAnswer(operation: OperationObject, status: string, description: string): void {
  const existing = operation.responses[status] as ResponseObject | undefined;
  operation.responses[status] = existing
    ? { ...existing, description: `${existing.description}; or ${description}` }
    : { description, content: ERROR };
}

/**
 * Documents what IdempotencyInterceptor does on every mutating merchant route, so a route
 * cannot get the behaviour without its documentation: the required header, the replay
 * marker on the answers and the 400 / 409 / 422 it adds.
 */
export function documentIdempotency(document: OpenAPIObject): OpenAPIObject {
  for (const path of Object.values(document.paths)) {
    for (const method of MUTATING) {
      const operation = path[method];
      if (!operation || !isMerchantOperation(operation)) continue;
      operation.parameters = [
        ...(operation.parameters ?? []),
        {
          name: IDEMPOTENCY_KEY_HEADER,
          in: 'header',
          required: true,
          description:
            'Your unique key for this request (1-255 printable ASCII characters; spaces only inside it, ' +
            'as HTTP drops them at either end), kept 24 h or more. ' +
            'Retrying with the same key and body returns the original answer and never acts twice.',
          schema: {
            type: 'string',
            minLength: 1,
            maxLength: 255,
            pattern: '^[!-~]([ -~]{0,253}[!-~])?$',
            example: 'order-18311',
          },
        },
      ];
      for (const [status, answer] of Object.entries(operation.responses)) {
        if (!status.startsWith('2') || !answer || '$ref' in answer) continue;
        answer.headers = {
          ...answer.headers,
          [IDEMPOTENT_REPLAYED_HEADER]: {
            description: `"true" when this is the stored answer to an earlier request with the same ${IDEMPOTENCY_KEY_HEADER}`,
            schema: { type: 'string', enum: ['true'] },
          },
        };
      }
      addAnswer(operation, '400', `${IDEMPOTENCY_KEY_HEADER} missing or malformed (details name it)`);
      addAnswer(
        operation,
        '409',
        `a request with this ${IDEMPOTENCY_KEY_HEADER} is still in progress (details.reason IdempotencyKeyInFlight): retry later`,
      );
      addAnswer(
        operation,
        '422',
        `${IDEMPOTENCY_KEY_HEADER} already used with another body or on another route (details.reason IdempotencyKeyReused)`,
      );
    }
  }
  return document;
}
