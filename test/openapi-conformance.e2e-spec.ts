import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { OpenAPIObject } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { operations } from '../src/common/openapi';
import { boxRecord, createApiKey, Json, push } from './helpers/api-client';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';

type Schema = Json & {
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: Schema;
  maximum?: number;
  maxLength?: number;
  pattern?: string;
};
type Param = { name: string; in: string; required?: boolean; schema?: Schema };
type Op = {
  operationId: string;
  parameters?: Param[];
  requestBody?: Json;
  responses: Record<string, { content?: Record<string, unknown> }>;
  security?: unknown[];
};

interface Case {
  what: string;
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  /** The exact status the server must answer, when the case is meant to provoke one. */
  expect?: number;
  /** Statuses the case must not get even though they are declared. */
  refuse?: number[];
}

/** A value the parameter's schema refuses, or undefined when the schema accepts every string. */
function badValue(schema: Schema | undefined): string | undefined {
  if (!schema) return undefined;
  if (schema.type === 'array') return badValue(schema.items);
  if (schema.enum) return 'not-one-of-the-enum';
  if (schema.type === 'integer') return schema.maximum !== undefined ? String(schema.maximum + 1) : '1.5';
  if (schema.type === 'number') return schema.maximum !== undefined ? String(schema.maximum + 1) : 'NaN-ish';
  if (schema.type === 'boolean') return 'maybe';
  if (schema.format === 'uuid') return 'not-a-uuid';
  if (schema.pattern) return 'does not match';
  if (schema.maxLength !== undefined) return 'x'.repeat(schema.maxLength + 1);
  return undefined;
}

/**
 * Walks every operation of /docs-json with bad inputs (bad path ids, bad query values and headers, bad bodies,
 * no key, a reader key where more is needed) and with good ones, and fails when the server answers a status the
 * document does not declare for that operation, or a content type other than the declared one.
 */
describeDb('OpenAPI document conformance', () => {
  let t: TestApp;
  let doc: OpenAPIObject;
  let admin: string;
  let reader: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // Off: the wrong-key cases of every operation would exceed the per-address failure limit and be answered 429.
    t = await startTestApp({ env: { API_RATE_LIMIT_PER_MINUTE: '100000', API_AUTH_FAILURES_PER_MINUTE: '0' } });
    admin = (await createApiKey(t, 'admin')).key;
    reader = (await createApiKey(t, 'reader')).key;
    await push(t, boxRecord({ identity: 'conf-1', timestamp: 1_790_000_000_000, withImages: true }));
    const [record] = (await t.http().get('/records').set('x-api-key', admin).expect(200)).body.items as Json[];
    ids['/records'] = record.id as string;
    ids['/identities'] = record.identityId as string;
    ids['/boxes'] = record.boxId as string;
    const res = await t.http().get('/docs-json').expect(200);
    doc = res.body as OpenAPIObject;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is a valid OpenAPI document with readable, unique operationIds and both key schemes', async () => {
    await SwaggerParser.validate(structuredClone(doc) as never);
    const opIds = operations(doc).map(({ op }) => (op as unknown as Op).operationId);
    expect(opIds.filter((id) => !/^[a-z][a-zA-Z]+$/.test(id ?? ''))).toEqual([]);
    expect(new Set(opIds).size).toBe(opIds.length);
    for (const { path, op } of operations(doc)) {
      const security = (op as unknown as Op).security;
      // The event stream also takes a stream token (?token=), for browsers' EventSource.
      const expected =
        path === '/events/stream' ? [{ 'api-key': [] }, { bearer: [] }, { 'stream-token': [] }] : [{ 'api-key': [] }, { bearer: [] }];
      if (security) expect([path, security]).toEqual([path, expected]);
    }
  });

  it('pre-fills no optional filter in Swagger UI: optional query parameters carry no example', () => {
    const prefilled = operations(doc).flatMap(({ path, op }) =>
      ((op as unknown as Op).parameters ?? [])
        .filter((p) => p.in === 'query' && !p.required && ((p as Json).example !== undefined || p.schema?.example !== undefined))
        .map((p) => `${path} ${p.name}`),
    );
    expect(prefilled).toEqual([]);
  });

  it('answers every operation, with bad and good inputs, only with declared statuses and content types', async () => {
    const cases: Case[] = [];
    for (const { path, method, op: raw } of operations(doc)) {
      const op = raw as unknown as Op;
      const params = op.parameters ?? [];
      const good = (p: Param): string => {
        if (p.name === 'role') return 'face';
        if (p.name === 'token') return 'no-such-token';
        const owner = Object.keys(ids).find((prefix) => path.startsWith(`${prefix}/{id}`));
        return p.name === 'id' && owner ? ids[owner] : randomUUID();
      };
      const goodPath = (override: Record<string, string> = {}) =>
        path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(override[name] ?? good(params.find((p) => p.name === name)!)));
      const base = { method, path: goodPath() };
      const goodBody = op.requestBody ? '{}' : undefined;

      if (op.security) {
        cases.push({ ...base, what: 'no API key', body: goodBody, expect: 401, headers: { 'x-api-key': '' } });
        cases.push({
          ...base,
          what: 'unknown API key',
          body: goodBody,
          expect: 401,
          headers: { 'x-api-key': '', authorization: 'Bearer rh_not-a-key' },
        });
        // A reader may open the event stream, which never ends: only keys it refuses are walked there.
        if (op.operationId !== 'streamEvents')
          cases.push({ ...base, what: 'reader key', body: goodBody, headers: { 'x-api-key': reader } });
      }
      for (const p of params) {
        const bad = badValue(p.schema);
        if (bad === undefined) continue;
        if (p.in === 'path')
          cases.push({ method, path: goodPath({ [p.name]: bad }), what: `bad path ${p.name}`, body: goodBody, expect: 400 });
        if (p.in === 'query')
          cases.push({ ...base, what: `bad query ${p.name}=${bad.slice(0, 30)}`, query: { [p.name]: bad }, body: goodBody, expect: 400 });
        if (p.in === 'header')
          cases.push({ ...base, what: `bad header ${p.name}`, headers: { [p.name]: bad }, body: goodBody, expect: 400 });
      }
      if (method === 'get' || method === 'delete') {
        cases.push({
          ...base,
          what: 'unknown query parameter',
          query: { notAParameter: '1' },
          expect: params.some((p) => p.in === 'query') ? 400 : undefined,
        });
      }
      // What Swagger UI's "Try it out" sends as pre-filled must be accepted (the token route's sample token is not).
      if (op.operationId !== 'streamEvents') {
        const prefilled = prefilledRequest(doc, path, op);
        cases.push({
          method,
          ...prefilled,
          what: 'Swagger UI pre-filled values',
          expect: op.operationId === 'receiveRecordsWithToken' ? 401 : undefined,
          refuse: [400],
        });
      }
      // A good request to the event stream opens an endless stream: only its refusals are walked.
      if (op.operationId !== 'streamEvents' && method === 'get') cases.push({ ...base, what: 'good request' });
      if (op.requestBody) {
        cases.push({ ...base, what: 'body not JSON', body: '{"a":', expect: 400 });
        cases.push({ ...base, what: 'body with an unknown or missing field', body: '{"notAField":1}', expect: 400 });
        cases.push({ ...base, what: 'body a JSON string', body: '"text"', expect: 400 });
        cases.push({ ...base, what: 'gzip body', body: '{}', headers: { 'content-encoding': 'gzip' }, expect: 415 });
      }
    }

    // Bodies are checked against the declared schema (OpenAPI 3.0 schemas: nullable, $refs into components).
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    ajv.addFormat('int64', true).addFormat('binary', true);
    ajv.addSchema(nullableToJsonSchema({ components: doc.components }) as Json, 'doc');
    const validators = new Map<string, ValidateFunction>();
    const bodyValidator = (schema: Json): ValidateFunction => {
      const key = JSON.stringify(schema);
      if (!validators.has(key))
        validators.set(key, ajv.compile(nullableToJsonSchema(JSON.parse(key.replace(/"#\/components\//g, '"doc#/components/'))) as Json));
      return validators.get(key)!;
    };
    const problems: string[] = [];
    for (const c of cases) {
      let req = t.http()[c.method as 'get'](c.path);
      if (c.query) req = req.query(c.query);
      const headers = { 'x-api-key': admin, ...c.headers };
      for (const [k, v] of Object.entries(headers)) if (v !== '') req = req.set(k, v);
      if (c.body !== undefined) req = req.set('content-type', 'application/json').send(c.body);
      let res: Response;
      try {
        res = await req.timeout(10_000);
      } catch (e) {
        problems.push(`${c.method.toUpperCase()} ${c.path} (${c.what}): ${(e as Error).message}`);
        continue;
      }
      const label = `${c.method.toUpperCase()} ${c.path} (${c.what}) → ${res.status} ${res.headers['content-type'] ?? ''}`;
      const response = findOp(doc, c.method, c.path)?.responses[String(res.status)];
      if (c.expect !== undefined && res.status !== c.expect) problems.push(`${label}: expected ${c.expect}`);
      if (c.refuse?.includes(res.status)) problems.push(`${label}: ${JSON.stringify(res.body)}`);
      if (res.status >= 500) problems.push(`${label}: server error ${JSON.stringify(res.body)}`);
      if (!response) {
        problems.push(`${label}: status not declared`);
        continue;
      }
      const type = String(res.headers['content-type'] ?? '')
        .split(';')[0]
        .trim();
      const declaredTypes = Object.keys(response.content ?? {});
      const hasBody =
        Number(res.headers['content-length'] ?? (res.text ? res.text.length : 0)) > 0 || (res.body && Object.keys(res.body).length > 0);
      if (declaredTypes.length === 0 && hasBody) problems.push(`${label}: body ${type} but none declared`);
      if (declaredTypes.length > 0 && !declaredTypes.includes(type))
        problems.push(`${label}: content type not in [${declaredTypes.join(', ')}]`);
      const schema = (response.content?.[type] as { schema?: Json } | undefined)?.schema;
      if (type === 'application/json' && schema) {
        const validate = bodyValidator(schema);
        if (!validate(res.body)) problems.push(`${label}: body does not match the schema: ${ajv.errorsText(validate.errors)}`);
      }
    }
    expect(problems).toEqual([]);
    expect(cases.length).toBeGreaterThan(150);
  });
});

/** The operation a concrete request path belongs to (literal segments win over {params}, as in the router). */
function findOp(doc: OpenAPIObject, method: string, concretePath: string): Op | undefined {
  const segments = concretePath.split('?')[0].split('/');
  const candidates = Object.keys(doc.paths)
    .filter((p) => {
      const parts = p.split('/');
      return parts.length === segments.length && parts.every((part, i) => /^\{\w+\}$/.test(part) || part === segments[i]);
    })
    .filter((p) => (doc.paths[p] as Json)[method])
    .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  return candidates.length ? ((doc.paths[candidates[0]] as Json)[method] as Op) : undefined;
}

/** The request Swagger UI pre-fills for an operation: parameter examples, defaults or first enum values, and the body example. */
function prefilledRequest(doc: OpenAPIObject, path: string, op: Op): { path: string; query: Record<string, string>; body?: string } {
  const query: Record<string, string> = {};
  let concrete = path;
  for (const p of op.parameters ?? []) {
    const value = (p as Json).example ?? p.schema?.example ?? p.schema?.default;
    if (value === undefined) {
      if (p.required) throw new Error(`${op.operationId}: required parameter ${p.name} has nothing to pre-fill`);
      continue;
    }
    if (p.in === 'path') concrete = concrete.replace(`{${p.name}}`, encodeURIComponent(String(value)));
    if (p.in === 'query') query[p.name] = String(value);
  }
  const media = (
    op.requestBody?.content as
      Record<string, { example?: unknown; examples?: Record<string, { value: unknown }>; schema?: Schema }> | undefined
  )?.['application/json'];
  if (!media) return { path: concrete, query };
  const example = media.example ?? Object.values(media.examples ?? {})[0]?.value ?? sample(doc, media.schema);
  return { path: concrete, query, body: JSON.stringify(example) };
}

/** Swagger UI's sample of a schema: examples first, then defaults, enums and placeholder values by type. */
function sample(doc: OpenAPIObject, schema: Schema | undefined): unknown {
  if (!schema) return undefined;
  if (typeof schema.$ref === 'string')
    return sample(doc, (doc.components?.schemas as Record<string, Schema>)[schema.$ref.split('/').pop()!]);
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  if (Array.isArray(schema.oneOf)) return sample(doc, schema.oneOf[0] as Schema);
  if (Array.isArray(schema.allOf)) return Object.assign({}, ...(schema.allOf as Schema[]).map((s) => sample(doc, s)));
  switch (schema.type) {
    case 'array':
      return [sample(doc, schema.items)];
    case 'string':
      return schema.format === 'uuid'
        ? '3fa85f64-5717-4562-b3fc-2c963f66afa6'
        : schema.format === 'uri'
          ? 'https://example.com/'
          : 'string';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return true;
    default:
      return Object.fromEntries(Object.entries((schema.properties as Record<string, Schema>) ?? {}).map(([k, v]) => [k, sample(doc, v)]));
  }
}

/** OpenAPI 3.0 `nullable: true` (which also covers an allOf/$ref beside it) as JSON Schema: null or the schema. */
function nullableToJsonSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(nullableToJsonSchema);
  if (!value || typeof value !== 'object') return value;
  const { nullable, ...rest } = value as Json;
  const converted = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, k === 'example' ? v : nullableToJsonSchema(v)]));
  return nullable === true ? { anyOf: [{ type: 'null' }, converted] } : converted;
}
