import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { ApiConfig } from '@nova/config';
import { AppModule } from './app.module';
import { expressRouteMethods, HttpExceptionFilter } from './common/http-exception.filter';
import { createValidationPipe } from './common/validation';
import { documentIdempotency } from './idempotency/idempotency.openapi';
import { operationIdFor, refineOpenApi } from './common/openapi';
import { recordHttpRequests } from './metrics/http-metrics';

// A wildcard listen address is not one a client can call.
const serverHost = (host: string): string => (host === '0.0.0.0' || host === '::' ? 'localhost' : host);

/** Builds the configured application; main.ts listens on it, e2e tests drive it with supertest. */
export async function createApp(config: ApiConfig): Promise<NestExpressApplication> {
  // The JSON body parser is RequestContractModule's (JSON only, API_BODY_LIMIT): none of Nest's own.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  // Before Nest's router and middleware: every request is timed, the refused ones too.
  app.use(recordHttpRequests);
  app.disable('x-powered-by');
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter(expressRouteMethods(app.getHttpAdapter().getInstance())));
  app.enableShutdownHooks();

  const document = openApiDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

/**
 * The OpenAPI document the API serves at /docs-json; also written by the build (openapi-cli.ts)
 * for the typed client in clients/typescript.
 */
export function openApiDocument(app: NestExpressApplication, config: ApiConfig): OpenAPIObject {
  return refineOpenApi(
    documentIdempotency(
      SwaggerModule.createDocument(
        app,
        new DocumentBuilder()
          .setTitle('Nova Rewards API')
          .setDescription(
            'Merchants issue NOVA token rewards to Stellar wallets. Every mutation runs as a Temporal workflow.',
          )
          .setVersion('0.1.0')
          .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
          .addApiKey(
            { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Merchant API key (nk_...)' },
            'merchant-key',
          )
          .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Admin API key' }, 'admin-key')
          .build(),
        { operationIdFactory: operationIdFor },
      ),
    ),
    { serverUrl: `http://${serverHost(config.http.host)}:${config.http.port || 3000}` },
  );
}
