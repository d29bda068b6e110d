import * as http from 'node:http';
import * as net from 'node:net';
import { BoxAccessService } from '../src/box-callbacks/box-access.service';
import { createApiKey } from './helpers/api-client';
import { eventually } from './helpers/eventually';
import { spawnServer, ServerProcess } from './helpers/spawn-server';
import { CALLBACK_PATH, readFixture, startTestApp, TestApp } from './helpers/test-app';
import { createTestDatabase, describeDb, TestDatabase } from './helpers/test-database';

type Row = Record<string, unknown>;

const GRACE_MS = 2000;
const TRICKLE_EVERY_MS = 400;

interface Trickler {
  socket: net.Socket;
  /** The status the server answered with (null: closed without an answer), and when, in ms from the start. */
  outcome: Promise<{ status: number | null; afterMs: number }>;
}

/** A push that declares a typical record's size, then sends one byte now and then: a slow or hostile upload. */
function trickle(port: number, localAddress: string): Trickler {
  const started = Date.now();
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  let received = '';
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    socket.write(`POST ${CALLBACK_PATH} HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: 250000\r\n\r\n{`);
    timer = setInterval(() => socket.writable && socket.write(' '), TRICKLE_EVERY_MS);
  });
  socket.on('data', (d) => (received += d.toString('latin1')));
  socket.on('error', () => undefined); // a reset is an outcome too
  const outcome = new Promise<{ status: number | null; afterMs: number }>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(received);
      resolve({ status: m ? Number(m[1]) : null, afterMs: Date.now() - started });
    }),
  );
  return { socket, outcome };
}

let seq = 0;
/** A normal box push of a typical record (about 245 KB, three JPEGs) from the given local address. */
function push(port: number, localAddress: string): Promise<number> {
  const body = JSON.stringify({ ...readFixture('typical/000000.json'), mq_license_key: 'REAL-BOX', timestamp: 1760000000000 + seq++ });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        localAddress,
        method: 'POST',
        path: CALLBACK_PATH,
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeDb('box edge: slow uploads and connections per address (spawned server)', () => {
  let db: TestDatabase;
  let server: ServerProcess;
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await spawnServer({
      ...db.env,
      INGEST_BODY_GRACE_MS: String(GRACE_MS),
      INGEST_BODY_MIN_BYTES_PER_SECOND: '1024',
      INGEST_MAX_UPLOADS_PER_ADDRESS: '20',
      HTTP_MAX_CONNECTIONS_PER_ADDRESS: '60',
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    server?.kill('SIGKILL');
    await server?.exited;
    await db?.drop();
  });

  it('keeps answering real pushes 200 while 100 connections trickle bodies, and cuts the tricklers off', async () => {
    // 50 from one address (20 may upload at once there, the rest are refused at once), 50 from five others.
    const addresses = [...Array(50).fill('127.0.0.1'), ...[11, 12, 13, 14, 15].flatMap((n) => Array(10).fill(`127.0.0.${n}`))];
    const tricklers = addresses.map((a) => trickle(server.port, a));
    sockets.push(...tricklers.map((t) => t.socket));
    const started = Date.now();

    // Real pushes from another address, one after another, while every trickler still holds its upload.
    await sleep(300);
    const during: number[] = [];
    while (Date.now() - started < GRACE_MS - 500 || during.length < 3) during.push(await push(server.port, '127.0.0.2'));
    expect(during).toEqual(during.map(() => 200));

    const outcomes = await Promise.all(tricklers.map((t) => t.outcome));
    const fromBusy = outcomes.slice(0, 50);
    const refused = fromBusy.filter((o) => o.status === 429);
    expect(refused).toHaveLength(30);
    for (const o of refused) expect(o.afterMs).toBeLessThan(GRACE_MS);
    // Every admitted trickler is cut off (408, or a closed socket) once its average rate falls short after the grace.
    const cut = [...fromBusy.filter((o) => o.status !== 429), ...outcomes.slice(50)];
    expect(cut).toHaveLength(70);
    for (const o of cut) {
      expect([408, null]).toContain(o.status);
      expect(o.afterMs).toBeGreaterThanOrEqual(GRACE_MS - 100);
    }
    expect(cut.filter((o) => o.status === 408).length).toBeGreaterThan(0);

    expect(await push(server.port, '127.0.0.2')).toBe(200);
  });

  it('stores a push from a slow but steady link (3 KB/s, longer than the grace period)', async () => {
    const record = { ...readFixture('small/000000.json'), mq_license_key: 'SLOW-LINK-BOX', timestamp: 1760000000000 + seq++ };
    const body = Buffer.from(JSON.stringify({ ...record, padding: 'x'.repeat(5500) })); // about 9 KB: 3 s at 3 KB/s
    const started = Date.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: CALLBACK_PATH,
          agent: false,
          headers: { 'content-length': String(body.length) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      // Paced by the clock, so a busy test machine slows the ticks but not the rate.
      let sent = 0;
      const timer = setInterval(() => {
        const due = Math.min(body.length, Math.floor((3 * 1024 * (Date.now() - started)) / 1000));
        if (due > sent) req.write(body.subarray(sent, due));
        sent = Math.max(sent, due);
        if (sent >= body.length) {
          clearInterval(timer);
          req.end();
        }
      }, 50);
    });
    expect(status).toBe(200);
    expect(Date.now() - started).toBeGreaterThan(GRACE_MS);
  });

  it('closes connections beyond HTTP_MAX_CONNECTIONS_PER_ADDRESS from one address, and serves the others', async () => {
    const idle = Array.from({ length: 70 }, () => net.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.3' }));
    sockets.push(...idle);
    const closed = new Set<net.Socket>();
    for (const s of idle) {
      s.on('error', () => undefined);
      s.on('close', () => closed.add(s));
    }
    await eventually(() => closed.size >= 10, 'the connections over the limit to be closed');
    await sleep(200);
    expect(closed.size).toBe(10);
    expect(await push(server.port, '127.0.0.2')).toBe(200);
    for (const s of idle) s.destroy();
    await eventually(() => closed.size === 70, 'every idle connection to be closed');
    // Once they are gone, the address is served again.
    expect(await push(server.port, '127.0.0.3')).toBe(200);
  });
});

describeDb('failed authentications are limited per client address', () => {
  let t: TestApp;
  const A = '198.51.100.7';
  const B = '198.51.100.8';

  beforeAll(async () => {
    t = await startTestApp({
      env: { TRUST_PROXY: '1', BOX_AUTH_MODE: 'registered', BOX_AUTH_FAILURES_PER_MINUTE: '5', API_AUTH_FAILURES_PER_MINUTE: '30' },
    });
  });
  afterAll(async () => {
    agent?.destroy();
    await t?.close();
  });

  const get = (from: string, key?: string) => {
    const r = t.http().get('/records').set('X-Forwarded-For', from);
    return key === undefined ? r : r.set('X-API-Key', key);
  };
  /** Many requests, quickly: over kept-alive connections (supertest opens one per request). */
  let agent: http.Agent;
  let port = 0;
  const status = (from: string, key: string) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port, path: '/records', agent, headers: { 'x-forwarded-for': from, 'x-api-key': key } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
    });

  it('answers 429 with Retry-After to an address after 30 wrong API keys, even for a valid key; other addresses are unaffected', async () => {
    const valid = await createApiKey(t, 'reader', 'good');
    const server = t.app.getHttpServer() as http.Server;
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
    agent = new http.Agent({ keepAlive: true, maxSockets: 30 });
    const statuses: number[] = [];
    for (let i = 0; i < 1500; i += 30) {
      const batch = await Promise.all(Array.from({ length: 30 }, (_, k) => status(A, `rhk_wrong-${i + k}`)));
      statuses.push(...batch.map((r) => r.status));
      if (i === 120) {
        expect(Number(batch[0].headers['retry-after'])).toBeGreaterThan(0);
        expect(JSON.parse(batch[0].body)).toMatchObject({ statusCode: 429, field: 'X-API-Key' });
      }
    }
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
    expect(statuses.slice(30)).toEqual(Array(1470).fill(429));
    // During the block a valid key is refused too: answering it would tell a guesser it had hit.
    expect((await get(A, valid.key)).status).toBe(429);
    // One count for the whole API, not per controller.
    expect((await t.http().get('/identities').set('X-Forwarded-For', A).set('X-API-Key', valid.key)).status).toBe(429);
    expect((await get(B, valid.key)).status).toBe(200);
    expect((await get(B, 'rhk_wrong')).status).toBe(401);
  });

  it('answers 429 to an address after 5 failed box authentications, before reading its body; other addresses push on', async () => {
    await t.app.get(BoxAccessService).register('KNOWN-BOX');
    const body = (box: string) =>
      JSON.stringify({ ...readFixture('small/000000.json'), mq_license_key: box, timestamp: 1760000000000 + seq++ });
    const pushFrom = (from: string, box: string) =>
      t.http().post(CALLBACK_PATH).set('X-Forwarded-For', from).set('content-type', 'application/json').send(body(box));

    for (let i = 0; i < 5; i++) expect((await pushFrom(A, `GUESS-${i}`)).body).toMatchObject({ statusCode: 401, reason: 'box_unknown' });
    const blocked = await pushFrom(A, 'GUESS-5');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.headers.connection).toBe('close');
    expect((await pushFrom(A, 'KNOWN-BOX')).status).toBe(429);
    expect((await pushFrom(B, 'KNOWN-BOX')).status).toBe(200);
    expect((await pushFrom(B, 'GUESS-6')).status).toBe(401);
    // Box failures and API key failures have separate budgets.
    const r: Row = (await get(B, 'rhk_wrong-again')).body;
    expect(r.statusCode).toBe(401);
  });
});
