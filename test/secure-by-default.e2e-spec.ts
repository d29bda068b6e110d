import { Body, Controller, Get, Module, Post, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { IsString } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { PUBLIC_ROUTE } from '../src/auth/auth.decorators';
import { boxRecord, createApiKey } from './helpers/api-client';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';

class ProbeBody {
  @IsString()
  name!: string;
}

/** What a feature-module author might write: no auth, role or validation decorator anywhere. */
@Controller('undecorated-probe')
class UndecoratedController {
  @Get()
  read(): { ok: true } {
    return { ok: true };
  }

  @Post()
  create(@Body() body: ProbeBody): ProbeBody {
    return body;
  }
}

@Module({ controllers: [UndecoratedController] })
class UndecoratedModule {}

/** The routes a caller may reach without an API key: boxes push, probes and scrapers poll. */
const PUBLIC_ROUTES = [
  'GET /health/live',
  'GET /health/ready',
  'GET /metrics',
  'POST /box-callbacks/:token/recognition-records',
  'POST /box-callbacks/recognition-records',
].sort();

/** Served by SwaggerModule straight on Express, outside every Nest guard: the document and Swagger UI. */
const isDocs = (path: string) => /^\/docs(?:[-/]|$)/.test(path);

describeDb('Secure by default: every route needs an API key unless marked @Public()', () => {
  let t: TestApp;
  /** "METHOD /path" (Express notation) of every Nest route, with whether it is marked @Public(). */
  let nestRoutes: Map<string, boolean>;
  /** "METHOD /path" of every route the running Express app would dispatch to. */
  let expressRoutes: string[];

  beforeAll(async () => {
    t = await startTestApp({ modules: [UndecoratedModule] });
    const reflector = t.app.get(Reflector);
    const scanner = new MetadataScanner();
    nestRoutes = new Map();
    for (const { metatype, instance } of new DiscoveryService(t.app.get(ModulesContainer)).getControllers()) {
      if (!metatype || !instance) continue;
      const prefix = Reflect.getMetadata(PATH_METADATA, metatype) as string;
      for (const name of scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const handler = (instance as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const path = `/${prefix}/${Reflect.getMetadata(PATH_METADATA, handler) as string}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
        nestRoutes.set(
          `${RequestMethod[method]} ${path}`,
          reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [handler, metatype]) === true,
        );
      }
    }
    const router = t.app.getHttpAdapter().getInstance().router as {
      stack: { route?: { path: string; methods: Record<string, boolean> } }[];
    };
    expressRoutes = router.stack.flatMap(({ route }) => {
      if (!route) return [];
      const methods = Object.keys(route.methods);
      // Nest mounts middleware (the request log) as catch-all routes on every method: no endpoint.
      if (route.path === '{/*splat}' && methods.length > 20) return [];
      return methods.map((m) => `${m.toUpperCase()} ${route.path}`);
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('marks exactly the box callbacks, health and metrics @Public()', () => {
    expect(
      [...nestRoutes]
        .filter(([, open]) => open)
        .map(([route]) => route)
        .sort(),
    ).toEqual(PUBLIC_ROUTES);
  });

  it('serves nothing outside Nest (and so outside its guards) but the OpenAPI document and Swagger UI', () => {
    const outside = expressRoutes.filter((r) => !nestRoutes.has(r));
    expect(outside.filter((r) => !isDocs(r.split(' ')[1]))).toEqual([]);
    expect(outside).toContain('GET /docs-json');
    // Every Nest route is in the walk below.
    expect([...nestRoutes.keys()].filter((r) => !expressRoutes.includes(r))).toEqual([]);
  });

  it('answers 401 without a key on every route of the running app that is not public', async () => {
    const reachable: string[] = [];
    for (const route of expressRoutes) {
      const [method, path] = route.split(' ');
      const url = path.replace(/:\w+/g, () => randomUUID());
      let req = t.http()[method.toLowerCase() as 'get'](url);
      if (method !== 'GET' && method !== 'DELETE') req = req.set('content-type', 'application/json').send('{}');
      const res = await req.timeout(10_000);
      if (res.status === 401) expect([route, res.body.field]).toEqual([route, 'X-API-Key']);
      else reachable.push(route);
    }
    expect(expressRoutes.length).toBeGreaterThan(35);
    expect(expressRoutes).toEqual(expect.arrayContaining(['GET /undecorated-probe', 'GET /events/stream', 'GET /records/:id']));
    expect(reachable.filter((r) => !isDocs(r.split(' ')[1])).sort()).toEqual(PUBLIC_ROUTES);
  });

  it('protects and validates a controller added without any decorator', async () => {
    const reader = (await createApiKey(t, 'reader')).key;
    await t.http().get('/undecorated-probe').expect(401);
    await t.http().get('/undecorated-probe').set('x-api-key', 'rhk_not-a-key').expect(401);
    await t.http().get('/undecorated-probe').set('x-api-key', reader).expect(200, { ok: true });
    await t.http().post('/undecorated-probe').send({ name: 'x' }).expect(401);
    // The global validation pipe: unknown properties, wrong types and unstorable text are refused naming the field.
    const post = (body: object) => t.http().post('/undecorated-probe').set('x-api-key', reader).send(body);
    expect((await post({ name: 'x', extra: 1 }).expect(400)).body).toMatchObject({ field: 'extra' });
    expect((await post({ name: 7 }).expect(400)).body).toMatchObject({ field: 'name' });
    expect((await post({ name: 'a\u0000b' }).expect(400)).body).toMatchObject({ field: 'name' });
    await post({ name: 'x' }).expect(201, { name: 'x' });
  });

  it('leaves box pushes to their own checks: a callback token with a NUL is answered like any wrong token', async () => {
    const record = boxRecord({ box: 'secure-default-box', timestamp: 1_790_000_000_000 });
    const plain = await t.http().post('/box-callbacks/not-the-token/recognition-records').send(record);
    const withNul = await t.http().post('/box-callbacks/not%00the-token/recognition-records').send(record);
    expect([plain.status, plain.body.reason]).toEqual([401, 'token_not_configured']);
    expect([withNul.status, withNul.body.reason]).toEqual([plain.status, plain.body.reason]);
  });
});
