import * as http from 'node:http';
import * as net from 'node:net';
import { boxRecordWithOwnFace, Json } from './helpers/api-client';
import { eventually } from './helpers/eventually';
import { ServerProcess, spawnServer } from './helpers/spawn-server';
import { CALLBACK_PATH, startTestApp, TestApp } from './helpers/test-app';
import { createTestDatabase, describeDb, TestDatabase } from './helpers/test-database';

const ADMIN = 'rest-slow-clients-admin-key-0123456789';
const T = 1_768_000_000_000;
const RECORDS = 60;
const SLOW_UPLOADS = 8;
const SLOW_READERS = 9;

const recordOf = (i: number) =>
  boxRecordWithOwnFace({ identity: `SC-${i}`, box: `SC-BOX-${i % 3}`, device: `cam-${i % 2}`, timestamp: T + i * 1000 });
const featureOf = (i: number) => (recordOf(i).recognize_face_attr as Json).feature_base64_str as string;

/** Reads a raw HTTP/1.1 answer (Connection: close) into status and parsed JSON body. */
function parseAnswer(raw: Buffer): { status: number; body: Json } {
  const text = raw.toString('utf8');
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  let body = text.slice(head.length + 4);
  if (/transfer-encoding: chunked/i.test(head)) {
    let out = '';
    for (let rest = body; ;) {
      const nl = rest.indexOf('\r\n');
      const size = parseInt(rest.slice(0, nl), 16);
      if (!size) break;
      out += rest.slice(nl + 2, nl + 2 + size);
      rest = rest.slice(nl + 2 + size + 2);
    }
    body = out;
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)![1]), body: JSON.parse(body) as Json };
}

/** A raw connection from `localAddress`; resolves with everything the server sent once it closes. */
function rawConnection(port: number, localAddress: string): { socket: net.Socket; answer: Promise<Buffer> } {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  const chunks: Buffer[] = [];
  socket.on('data', (d) => chunks.push(d));
  const answer = new Promise<Buffer>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => resolve(Buffer.concat(chunks)));
  });
  return { socket, answer };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Slow clients on the REST endpoints of the newest modules: searches whose body trickles in and stalls, list
 * readers that do not read their answers. Other clients are answered meanwhile, and the slow ones get their
 * answers in full once they go on.
 */
describeDb('slow clients on /faces/search, /persons, /presence and /alerts', () => {
  let db: TestDatabase;
  let server: ServerProcess;
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    recordOf(0); // the fixtures are generated on first use, which may take seconds on a loaded machine
    db = await createTestDatabase();
    // A long grace: these searches stall on purpose for as long as the rest of the test takes (the cut-off of stalled
    // bodies is the next test's).
    server = await spawnServer({
      ...db.env,
      ADMIN_API_KEY: ADMIN,
      OUTBOX_POLL_INTERVAL_MS: '100',
      FACE_SEARCH_POLL_MS: '100',
      INGEST_BODY_GRACE_MS: '120000',
    });
    const rule = await api('POST', '/alert-rules', { name: 'SC employees', severity: 'info', userTypes: ['employee'] });
    expect(rule.status).toBe(201);
    for (let i = 0; i < RECORDS; i += 30) {
      const batch = Array.from({ length: 30 }, (_, k) => recordOf(i + k));
      const res = await fetch(server.url + CALLBACK_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batch),
      });
      expect(res.status).toBe(200);
    }
    await eventually(
      async () => ((await api('GET', '/alerts?limit=200')).body.items as Json[]).length === RECORDS,
      'every alert raised',
      30_000,
    );
    await eventually(
      async () => ((await api('GET', '/persons?limit=200')).body.items as Json[]).length === RECORDS,
      'every person',
      30_000,
    );
    await eventually(
      async () => (await api('POST', '/faces/search', { feature: featureOf(RECORDS - 1), limit: 1 })).status === 200,
      'search',
    );
  }, 90_000);
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    server?.kill('SIGKILL');
    await server?.exited;
    await db?.drop();
  });

  /** A well-behaved client, from its own address. */
  function api(method: string, path: string, body?: Json): Promise<{ status: number; body: Json }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          localAddress: '127.0.0.2',
          method,
          path,
          agent: false,
          headers: { 'x-api-key': ADMIN, 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Json }));
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  it('answers other clients while searches trickle their bodies and list readers do not read, then answers the slow ones in full', async () => {
    // Searches that send their headers and half the body a few bytes at a time, then stall.
    const uploads = Array.from({ length: SLOW_UPLOADS }, (_, i) => {
      const body = Buffer.from(JSON.stringify({ feature: featureOf(i), limit: 3 }));
      const c = rawConnection(server.port, '127.0.0.3');
      sockets.push(c.socket);
      const half = body.length >> 1;
      const sent = (async () => {
        await new Promise((r) => c.socket.once('connect', r));
        c.socket.write(
          `POST /faces/search HTTP/1.1\r\nHost: hub\r\nX-API-Key: ${ADMIN}\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
        );
        for (let at = 0; at < half; at += 100) {
          c.socket.write(body.subarray(at, Math.min(at + 100, half)));
          await sleep(50);
        }
      })();
      return { ...c, body, half, sent };
    });
    // Readers of the largest lists that leave their answers unread.
    const paths = ['/persons?limit=200', `/presence?limit=200&since=${T}`, '/alerts?limit=200'];
    const readers = Array.from({ length: SLOW_READERS }, (_, i) => {
      const c = rawConnection(server.port, '127.0.0.4');
      sockets.push(c.socket);
      c.socket.pause();
      c.socket.once('connect', () =>
        c.socket.write(`GET ${paths[i % paths.length]} HTTP/1.1\r\nHost: hub\r\nX-API-Key: ${ADMIN}\r\nConnection: close\r\n\r\n`),
      );
      return { ...c, path: paths[i % paths.length] };
    });
    await Promise.all(uploads.map((u) => u.sent));

    // Everyone else is answered meanwhile, each request in turn.
    for (let round = 0; round < 3; round++) {
      expect((await api('GET', '/health/live')).status).toBe(200);
      for (const path of [...paths, '/alerts?limit=5', '/persons?limit=5']) expect((await api('GET', path)).status).toBe(200);
      const found = await api('POST', '/faces/search', { feature: featureOf(40 + round), limit: 1 });
      expect(found.status).toBe(200);
      expect(((found.body.items as Json[])[0].record as Json).identityExternalId).toBe(`SC-${40 + round}`);
    }
    // The slow ones were all still waiting on their side (nothing was answered to a search missing half its body).
    for (const u of uploads) expect(u.socket.destroyed).toBe(false);

    // They go on: each search gets its own answer, each reader its whole list.
    for (const u of uploads) u.socket.write(u.body.subarray(u.half));
    for (const r of readers) r.socket.resume();
    for (const [i, u] of uploads.entries()) {
      const { status, body } = parseAnswer(await u.answer);
      expect(status).toBe(200);
      expect(((body.items as Json[])[0].record as Json).identityExternalId).toBe(`SC-${i}`);
    }
    for (const r of readers) {
      const { status, body } = parseAnswer(await r.answer);
      expect([r.path, status]).toEqual([r.path, 200]);
      expect(body.items as Json[]).toHaveLength(RECORDS);
    }
  });
});

describeDb('a REST body that stalls', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await startTestApp({ env: { INGEST_BODY_GRACE_MS: '300' } });
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as net.AddressInfo).port;
  });
  afterAll(async () => t?.close());

  it('gets 408 naming the body once the grace period has passed, and its connection is closed', async () => {
    const c = rawConnection(port, '127.0.0.5');
    await new Promise((r) => c.socket.once('connect', r));
    // No key needed: the body is read before the guard looks at the key.
    c.socket.write('POST /faces/search HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"feature":');
    const { status, body } = parseAnswer(await c.answer); // resolves only once the server closes the connection
    expect(status).toBe(408);
    expect(body).toMatchObject({ code: 'request_timeout', field: 'body' });
  });

  it('leaves a body that keeps up the rate alone', async () => {
    const c = rawConnection(port, '127.0.0.6');
    await new Promise((r) => c.socket.once('connect', r));
    const body = JSON.stringify({ name: 'slow but steady' }).padEnd(2000, ' ');
    c.socket.write(
      `POST /api-keys HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    // 2 KB over about 0.8 s: well above 1 KiB/s, and past the 300 ms grace.
    for (let at = 0; at < body.length; at += 250) {
      c.socket.write(body.slice(at, at + 250));
      await sleep(100);
    }
    expect(parseAnswer(await c.answer).status).toBe(401); // read in full, then refused for the missing key
  });
});
