import type { OpenAPIObject, OperationObject, ResponseObject, SchemaObject } from '@nestjs/swagger';

type ReferenceObject = { $ref: string };
type HeaderObject = Exclude<NonNullable<ResponseObject['headers']>[string], ReferenceObject>;
import { DATABASE_RETRY_AFTER_SECONDS } from './http-exception.filter';

/**
 * The parts of the OpenAPI document that follow from what every route shares (the global
 * middleware, pipe, guards and filter), added here once so that a route, a new module's too,
 * cannot behave one way and be documented another: the error schema with both `details`
 * shapes, an example of the body each error status really returns, the statuses the global
 * layers answer (400, 413, 415, 429, 503) with their headers, `security: []` on public routes,
 * the tag order (merchant routes first) and realistic examples where a decorator gave none.
 */

const TAG_ORDER: { name: string; description: string }[] = [
  { name: 'campaigns', description: 'Reward campaigns: budget, window, per-wallet cap, pause and resume' },
  { name: 'rewards', description: 'Reward issuances to Stellar wallets, paid exactly once' },
  { name: 'stellar', description: 'What a wallet needs to know about the network (public)' },
  { name: 'catalog', description: 'Catalog items holders redeem NOVA for: price, stock, fulfilment' },
  { name: 'vesting', description: 'Vesting schedules: NOVA granted to a wallet, released over time, revocable' },
  {
    name: 'contract-events',
    description:
      'Events of the campaign, redemption and vesting contracts about your resources, as indexed from the chain',
  },
  {
    name: 'events',
    description: "The merchant's events as they happen (Server-Sent Events), resumable by Last-Event-ID",
  },
  { name: 'merchants', description: 'Admin: merchants and their first API key' },
  { name: 'api-keys', description: 'Admin: more API keys, revocation' },
  { name: 'admin', description: 'Admin: find and replay failed issuances, self-checks' },
  { name: 'health', description: 'Liveness and readiness probes (public)' },
];

const UUID_EXAMPLE = '5f0c2a4e-8b1d-4f7e-9a53-2c4d8e9f0a1b';
// Every id of this API is a random (version 4) UUID, and the validators say so.
const UUID_V4_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$';
const ID_PARAMETER = /^(id|[a-z][A-Za-z0-9]*Id)$/;
// What the global input checks refuse in any string (NUL), and a name that trims to nothing.
const STORABLE_TEXT_PATTERN = '^[^\\u0000]*$';
const NON_BLANK_TEXT_PATTERN = '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$';
const INSTANT_EXAMPLE = '2026-03-01T12:00:00.000Z';

const ERROR_REF = { $ref: '#/components/schemas/ErrorResponse' };

/** The body each status really has (see HttpExceptionFilter and the routes' services). */
const ERROR_EXAMPLES: Record<string, { summary: string; value: Record<string, unknown> }> = {
  '400': {
    summary: 'A field is invalid (details name it)',
    value: {
      statusCode: 400,
      error: 'Bad Request',
      message: 'walletAddress must be a Stellar account address (G...)',
      details: [{ field: 'walletAddress', messages: ['walletAddress must be a Stellar account address (G...)'] }],
    },
  },
  '401': {
    summary: 'No key, or not a valid one',
    value: { statusCode: 401, error: 'Unauthorized', message: 'X-API-Key header is required' },
  },
  '403': {
    summary: 'A genuine key without the role',
    value: {
      statusCode: 403,
      error: 'Forbidden',
      message: 'the admin key cannot act as a merchant: use a merchant API key',
    },
  },
  '404': {
    summary: 'No such resource of yours',
    value: { statusCode: 404, error: 'Not Found', message: `campaign ${UUID_EXAMPLE} not found` },
  },
  '409': {
    summary: 'Refused in the current state (details.reason)',
    value: {
      statusCode: 409,
      error: 'Conflict',
      message: `campaign ${UUID_EXAMPLE} is paused`,
      details: { reason: 'CampaignPaused' },
    },
  },
  '413': {
    summary: 'The body is larger than API_BODY_LIMIT',
    value: {
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'the request body is larger than the limit of 1 MiB (1048576 bytes, API_BODY_LIMIT)',
      details: { reason: 'BodyTooLarge', limitBytes: 1048576 },
    },
  },
  '415': {
    summary: 'The body is not JSON',
    value: {
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'request bodies must be JSON (Content-Type: application/json); got Content-Type text/plain',
      details: [{ field: 'Content-Type', messages: ['Content-Type must be application/json'] }],
    },
  },
  '422': {
    summary: 'The Idempotency-Key was used for another request',
    value: {
      statusCode: 422,
      error: 'Unprocessable Entity',
      message: 'Idempotency-Key order-1 was already used with a different request body',
      details: { reason: 'IdempotencyKeyReused', usedFor: 'POST /v1/rewards/issuances' },
    },
  },
  '429': {
    summary: 'Rate limit of the key exceeded',
    value: {
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Rate limit exceeded: at most 600 requests per minute per API key; retry after 12 s',
    },
  },
  '503': {
    summary: 'PostgreSQL unreachable: retry after Retry-After seconds',
    value: {
      statusCode: 503,
      error: 'Service Unavailable',
      message: `the database is unreachable: retry in ${DATABASE_RETRY_AFTER_SECONDS} s (the same Idempotency-Key is safe to reuse)`,
      details: { reason: 'DatabaseUnavailable' },
    },
  },
};

const REQUEST_ID_HEADER: HeaderObject = {
  description: 'The request id (yours when it was sane, else a new one), in the API log and workflow memos',
  required: true,
  schema: { type: 'string', example: 'b9d3f0c2-6a4e-4d1f-8e7a-3c2b1a0f9e8d' },
};
const RATE_LIMIT_HEADERS: Record<string, HeaderObject> = {
  'X-RateLimit-Limit': { description: 'Requests per rolling minute for this key', schema: { type: 'integer' } },
  'X-RateLimit-Remaining': { description: 'Requests left in the window', schema: { type: 'integer' } },
  'X-RateLimit-Reset': { description: 'Seconds until the window frees a request', schema: { type: 'integer' } },
};
const RETRY_AFTER_HEADER: HeaderObject = {
  description: 'Seconds to wait before retrying',
  required: true,
  schema: { type: 'integer', minimum: 1 },
};

const GLOBAL_ANSWERS: Record<string, string> = {
  '400': 'Invalid input: details name the field (a malformed id, query or body field)',
  '413': 'The body is larger than API_BODY_LIMIT (the limit is named)',
  '415': 'The body is not JSON',
  '429': 'Rate limit of the API key (or of the client address without one) exceeded',
  '503': 'PostgreSQL unreachable: retry after Retry-After seconds',
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

function isReference(value: unknown): value is ReferenceObject {
  return typeof value === 'object' && value !== null && '$ref' in value;
}

function errorResponse(status: string, description: string): ResponseObject {
  const example = ERROR_EXAMPLES[status];
  return {
    description,
    content: {
      'application/json': {
        schema: ERROR_REF,
        ...(example ? { examples: { [status]: example } } : {}),
      },
    },
  };
}

/** Which global answers an operation can get, from what it takes and where it lives. */
function globalAnswers(path: string, operation: OperationObject): string[] {
  if (path === '/health') return [];
  const statuses: string[] = [];
  const takesInput = (operation.parameters ?? []).length > 0 || operation.requestBody !== undefined;
  if (takesInput) statuses.push('400');
  if (operation.requestBody !== undefined) statuses.push('413', '415');
  // Health probes are never rate limited (RateLimitModule).
  if (!path.startsWith('/health')) statuses.push('429');
  // Everything but liveness and the static network description reads PostgreSQL.
  if (path !== '/v1/stellar' && path !== '/health/ready') statuses.push('503');
  return statuses;
}

function refineOperation(path: string, operation: OperationObject): void {
  if (!operation.security || operation.security.length === 0) operation.security = [];
  const rateLimited = !path.startsWith('/health');
  for (const status of globalAnswers(path, operation)) {
    if (!operation.responses[status]) operation.responses[status] = errorResponse(status, GLOBAL_ANSWERS[status]!);
  }
  for (const [status, answer] of Object.entries(operation.responses)) {
    if (!answer || isReference(answer)) continue;
    if (Number(status) >= 400) {
      // Every error has the one shape; its example is the body that status really returns.
      const example = ERROR_EXAMPLES[status];
      const json = answer.content?.['application/json'];
      if (!json || isReference(json.schema) || !json.schema) {
        answer.content = { 'application/json': { ...json, schema: json?.schema ?? ERROR_REF } };
      }
      const media = answer.content!['application/json']!;
      if (example && !media.examples && isReference(media.schema) && media.schema.$ref === ERROR_REF.$ref) {
        media.examples = { [status]: example };
      }
    }
    answer.headers = {
      'X-Request-Id': REQUEST_ID_HEADER,
      ...(rateLimited && status !== '503' ? RATE_LIMIT_HEADERS : {}),
      // The readiness probe's 503 is a report, not a "come back later".
      ...(status === '429' || (status === '503' && path !== '/health/ready')
        ? { 'Retry-After': RETRY_AFTER_HEADER }
        : {}),
      ...answer.headers,
    };
  }
}

/** Realistic examples for plain strings a decorator left without one (uuids, instants). */
function addExamples(schema: SchemaObject | ReferenceObject | undefined): void {
  if (!schema || isReference(schema)) return;
  if (schema.type === 'string' && schema.format === 'uuid') schema.pattern ??= UUID_V4_PATTERN;
  if (schema.type === 'string' && schema.example === undefined && !schema.enum) {
    if (schema.format === 'uuid') schema.example = UUID_EXAMPLE;
    if (schema.format === 'date-time') schema.example = INSTANT_EXAMPLE;
  }
  for (const property of Object.values(schema.properties ?? {})) addExamples(property);
  if (schema.items) addExamples(schema.items);
}

function errorSchemas(document: OpenAPIObject): void {
  const schemas = (document.components ??= {}).schemas ?? (document.components.schemas = {});
  schemas.ErrorReason = {
    type: 'object',
    description: 'A refusal that is not about one field: its reason, and what else it says',
    required: ['reason'],
    properties: { reason: { type: 'string', example: 'CampaignPaused' } },
    additionalProperties: true,
  };
  schemas.ErrorResponse = {
    type: 'object',
    description:
      'The one shape of every error. details is a list of field errors for invalid input (400, 415), ' +
      'or an object with a reason for a refusal (409, 413, 422, 503, ...); absent otherwise.',
    required: ['statusCode', 'error', 'message'],
    properties: {
      statusCode: { type: 'integer', example: 400 },
      error: { type: 'string', example: 'Bad Request' },
      message: { type: 'string', example: 'walletAddress must be a Stellar account address (G...)' },
      details: {
        oneOf: [
          { type: 'array', items: { $ref: '#/components/schemas/FieldError' } },
          { $ref: '#/components/schemas/ErrorReason' },
        ],
      },
    },
  };
}

/**
 * Request bodies as the global validation takes them: no property beyond the declared ones
 * (forbidNonWhitelisted), no NUL in free text, and a required or non-empty name not blank.
 */
function requestBodyRules(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  const names = new Set<string>();
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const body = item[method]?.requestBody;
      const schema = body && !isReference(body) ? body.content['application/json']?.schema : undefined;
      if (schema && isReference(schema)) names.add(schema.$ref.replace('#/components/schemas/', ''));
    }
  }
  for (const name of names) {
    const schema = schemas[name];
    if (!schema || isReference(schema)) continue;
    schema.additionalProperties ??= false;
    for (const property of Object.values(schema.properties ?? {})) {
      if (isReference(property) || property.type !== 'string' || property.enum || property.format || property.pattern)
        continue;
      property.pattern = (property.minLength ?? 0) > 0 ? NON_BLANK_TEXT_PATTERN : STORABLE_TEXT_PATTERN;
    }
  }
}

/** Path parameters named id or ...Id are UUIDs (ApiValidationPipe refuses anything else). */
function idParameters(operation: OperationObject): void {
  for (const parameter of operation.parameters ?? []) {
    if (isReference(parameter) || parameter.in !== 'path' || !ID_PARAMETER.test(parameter.name)) continue;
    parameter.schema = { type: 'string', format: 'uuid', pattern: UUID_V4_PATTERN, example: UUID_EXAMPLE };
  }
}

export function refineOpenApi(document: OpenAPIObject, options: { serverUrl: string }): OpenAPIObject {
  errorSchemas(document);
  requestBodyRules(document);
  for (const schema of Object.values(document.components?.schemas ?? {})) addExamples(schema);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      refineOperation(path, operation);
      idParameters(operation);
      for (const parameter of operation.parameters ?? []) {
        if (!isReference(parameter)) addExamples(parameter.schema);
      }
    }
  }
  // Merchant routes first (Swagger UI lists tags in this order, then paths in document order).
  const rank = (path: string): number => {
    const tag = Object.values(document.paths[path] ?? {}).find(
      (operation): operation is OperationObject => typeof operation === 'object' && 'responses' in operation,
    )?.tags?.[0];
    const index = TAG_ORDER.findIndex((t) => t.name === tag);
    return index < 0 ? TAG_ORDER.length : index;
  };
  const ordered = Object.keys(document.paths).sort((a, b) => rank(a) - rank(b));
  document.paths = Object.fromEntries(ordered.map((path) => [path, document.paths[path]!]));
  document.tags = TAG_ORDER;
  document.servers = [{ url: options.serverUrl, description: 'This API' }];
  return document;
}

/** `issuances.create` rather than `IssuancesController_create`. */
export function operationIdFor(controllerKey: string, methodKey: string): string {
  const resource = controllerKey.replace(/Controller$/, '');
  return `${resource.charAt(0).toLowerCase()}${resource.slice(1)}.${methodKey}`;
}
