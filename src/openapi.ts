import type { INestApplication } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { API_KEY_SECURITY, BEARER_SECURITY, PUBLIC_OPERATION_EXTENSION, STREAM_TOKEN_SECURITY } from './auth/auth.decorators';
import { API_KEY_REFUSALS, API_KEY_REQUIREMENT } from './auth/auth.openapi';
import { BOX_WIRE_SCHEMAS } from './box-callbacks/wire-format.openapi';
import { EVENT_SCHEMAS } from './integrations/event-envelope.openapi';
import { ErrorResponseDto } from './common/error-response.dto';
import { defaultErrorCode } from './common/http-error.filter';

type Json = Record<string, unknown>;
type Operation = Json & { parameters?: Json[]; requestBody?: Json; responses: Record<string, Json> };

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

/** Every operation of the document with its path and method. */
export function operations(document: OpenAPIObject): { path: string; method: string; op: Operation }[] {
  const found: { path: string; method: string; op: Operation }[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of HTTP_METHODS) {
      const op = (item as Json)[method] as Operation | undefined;
      if (op) found.push({ path, method, op });
    }
  }
  return found;
}

const errorRef = { $ref: `#/components/schemas/${ErrorResponseDto.name}` };

/**
 * Rules that hold for every operation, applied to the generated document so it says what the server does:
 * - an operation needs an API key unless it is @Public() (global guards, src/auth): one without its own security
 *   gets both key schemes and the guards' 401/403/429 answers;
 * - error answers (4xx/5xx) are always JSON (HttpErrorFilter), whatever the success content type is;
 * - 204 and 304 have no body;
 * - every parameter and body is validated, so an operation that takes any answers 400 naming the field;
 * - a body can be refused for its size (413) or encoding/charset (415) before any route code runs;
 * - an example on an optional query parameter moves into its description: Swagger UI pre-fills examples
 *   into "Try it out", where they would silently filter the results.
 */
export function makeExact(document: OpenAPIObject): OpenAPIObject {
  for (const { op } of operations(document)) {
    const isPublic = op[PUBLIC_OPERATION_EXTENSION] === true;
    delete op[PUBLIC_OPERATION_EXTENSION];
    if (!isPublic && !op.security) {
      op.security = structuredClone(API_KEY_REQUIREMENT);
      for (const [status, description] of Object.entries(API_KEY_REFUSALS)) {
        op.responses[status] ??= { description, content: { 'application/json': { schema: errorRef } } };
      }
    }
    const takesInput = (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined;
    if (takesInput && !op.responses['400']) {
      op.responses['400'] = {
        description: 'A parameter or the body is invalid; `field` names it.',
        content: { 'application/json': { schema: errorRef } },
      };
    }
    if (op.requestBody) {
      op.responses['413'] ??= { description: 'Body larger than BODY_LIMIT.', content: { 'application/json': { schema: errorRef } } };
      op.responses['415'] ??= {
        description: 'Compressed body (Content-Encoding) or a charset other than UTF-8.',
        content: { 'application/json': { schema: errorRef } },
      };
    }
    for (const [status, response] of Object.entries(op.responses)) {
      const code = Number(status);
      const content = response.content as Record<string, Json> | undefined;
      if (code === 204 || code === 304) delete response.content;
      else if (code >= 400 && content && !content['application/json']) {
        response.content = { 'application/json': Object.values(content)[0] ?? { schema: errorRef } };
      }
      // The error DTO's own example is a 400; show each status its own.
      const json = (response.content as Record<string, Json> | undefined)?.['application/json'];
      if (code >= 400 && json && (json.schema as Json | undefined)?.$ref === errorRef.$ref && json.example === undefined) {
        json.example = {
          statusCode: code,
          error: STATUS_CODES[code] ?? 'Error',
          code: defaultErrorCode(code),
          message: String(response.description ?? ''),
        };
      }
    }
    for (const p of op.parameters ?? []) {
      if (p.in !== 'query' || p.required) continue;
      const schema = p.schema as Json | undefined;
      const example = p.example ?? schema?.example;
      if (example === undefined) continue;
      delete p.example;
      if (schema) delete schema.example;
      p.description = `${(p.description as string | undefined) ?? ''}${p.description ? ' ' : ''}Example: ${String(example)}`;
    }
  }
  return document;
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Recognition Hub')
    .setDescription(
      'System of record for SE AI compute box recognition records. REST endpoints need an API key, sent in the ' +
        'X-API-Key header or as Authorization: Bearer <key> (either scheme below). Roles: reader (no biometrics), ' +
        'biometric-reader (images and feature vectors, every read audited), admin. Times are epoch milliseconds ' +
        'unless a parameter says otherwise. Errors are JSON: {statusCode, error, code, message, field?}; `code` is stable snake_case.',
    )
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'API key (npm run api-key -- create …)' }, API_KEY_SECURITY)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'The same API key as a bearer token.' },
      BEARER_SECURITY,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'query',
        name: 'token',
        description: 'A short-lived stream token (POST /events/stream-tokens); GET /events/stream only.',
      },
      STREAM_TOKEN_SECURITY,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // Schemas that no DTO class carries: the box wire format and the event envelope (SSE and webhooks).
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...BOX_WIRE_SCHEMAS, ...EVENT_SCHEMAS } };
  return makeExact(document);
}

/** OpenAPI document at /docs-json and Swagger UI at /docs, generated from the controllers and DTOs. */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
}
