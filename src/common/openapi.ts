import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { API_KEY_SECURITY } from '../auth/auth.decorators';

/** OpenAPI document at /docs-json and Swagger UI at /docs, generated from the controllers and DTOs. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Recognition Hub')
    .setDescription(
      'System of record for SE AI compute box recognition records. REST endpoints need an API key in the ' +
        'X-API-Key header (or Authorization: Bearer). Roles: reader (no biometrics), biometric-reader (images ' +
        'and feature vectors, every read audited), admin. Times are epoch milliseconds.',
    )
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'API key (npm run api-key -- create …)' }, API_KEY_SECURITY)
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
