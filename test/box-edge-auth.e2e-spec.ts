import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BoxAccessService } from '../src/box-callbacks/box-access.service';
import { runBoxAccessCli } from '../src/box-callbacks/box-access.cli';
import { CALLBACK_PATH, readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';

type Row = Record<string, unknown>;

let seq = 0;
/** A fresh event from the given box. */
const event = (licenseKey: string): Row => ({
  ...readFixture('small/000005.json'),
  mq_license_key: licenseKey,
  timestamp: 1720000000000 + seq++,
});

function helpers(get: () => TestApp) {
  const post = (body: unknown, path = CALLBACK_PATH) =>
    get().http().post(path).set('content-type', 'application/json').send(JSON.stringify(body));
  const boxes = async (key: string) =>
    Number((await get().dataSource.query(`SELECT COUNT(*) AS n FROM boxes WHERE license_key = '${key}'`))[0].n);
  const records = async () => Number((await get().dataSource.query(`SELECT COUNT(*) AS n FROM recognition_records`))[0].n);
  return { post, boxes, records };
}

describeDb('box authentication, open mode (default)', () => {
  let t: TestApp;
  let access: BoxAccessService;
  const { post, boxes, records } = helpers(() => t);

  beforeAll(async () => {
    t = await startTestApp();
    access = t.app.get(BoxAccessService);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function expectRefused(res: { status: number; body: Row }, status: number, reason: string, field: string, before: number) {
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ statusCode: status, reason, field });
    expect(typeof res.body.message).toBe('string');
    expect(await records()).toBe(before);
  }

  it('registers an unknown box on its first push', async () => {
    expect(await boxes('OPEN-NEW')).toBe(0);
    expect((await post(event('OPEN-NEW'))).status).toBe(200);
    expect(await boxes('OPEN-NEW')).toBe(1);
  });

  it('refuses a disabled box with 403, also inside an array and under legacy names', async () => {
    await access.setEnabled('OPEN-OFF', false);
    const before = await records();
    await expectRefused(await post(event('OPEN-OFF')), 403, 'box_disabled', 'mq_license_key', before);
    await expectRefused(await post([event('OPEN-NEW'), event('OPEN-OFF')]), 403, 'box_disabled', '[1].mq_license_key', before);
    const legacy: Row = { ...event('x'), dev_sno: 'OPEN-OFF', ep_info: { ep_id: 'cam-1' } };
    delete legacy.mq_license_key;
    delete legacy.media_device_info;
    await expectRefused(await post(legacy), 403, 'box_disabled', 'dev_sno', before);
    await access.setEnabled('OPEN-OFF', true);
    expect((await post(event('OPEN-OFF'))).status).toBe(200);
  });

  it('requires the callback token once one is set, comparing it exactly', async () => {
    const { token } = await access.issueToken('OPEN-TOKEN');
    const before = await records();
    await expectRefused(await post(event('OPEN-TOKEN')), 401, 'token_required', 'token', before);
    await expectRefused(
      await post(event('OPEN-TOKEN'), `/box-callbacks/${token}x/recognition-records`),
      401,
      'token_mismatch',
      'token',
      before,
    );
    await expectRefused(
      await post(event('OPEN-TOKEN'), `/box-callbacks/${token.slice(0, -1)}/recognition-records`),
      401,
      'token_mismatch',
      'token',
      before,
    );
    expect((await post(event('OPEN-TOKEN'), `/box-callbacks/${token}/recognition-records`)).status).toBe(200);
    const stored: Row[] = await t.dataSource.query(`SELECT callback_token_hash FROM boxes WHERE license_key = 'OPEN-TOKEN'`);
    expect(stored[0].callback_token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored[0].callback_token_hash).not.toContain(token);
    await access.clearToken('OPEN-TOKEN');
    expect((await post(event('OPEN-TOKEN'))).status).toBe(200);
  });

  it('refuses a token URL for a box without a token, and does not register an unknown one', async () => {
    const before = await records();
    await expectRefused(
      await post(event('OPEN-GHOST'), '/box-callbacks/some-token/recognition-records'),
      401,
      'token_not_configured',
      'token',
      before,
    );
    expect(await boxes('OPEN-GHOST')).toBe(0);
  });

  it('accepts pushes only from the allowed source networks', async () => {
    await access.setNetworks('OPEN-NET', ['10.0.0.0/8', '192.168.1.7']);
    const before = await records();
    await expectRefused(await post(event('OPEN-NET')), 403, 'network_not_allowed', 'source_address', before);
    await access.setNetworks('OPEN-NET', ['10.0.0.0/8', '127.0.0.0/8', '::1/128']);
    expect((await post(event('OPEN-NET'))).status).toBe(200);
    await access.setNetworks('OPEN-NET', null);
    expect((await access.describe('OPEN-NET')).allowedNetworks).toBeNull();
    await expect(access.setNetworks('OPEN-NET', ['10.0.0.0/33'])).rejects.toThrow(/prefix/);
    await expect(access.setNetworks('OPEN-NET', ['not-an-ip'])).rejects.toThrow(/not an IP/);
  });

  it('answers garbage 400 before authentication', async () => {
    await access.setEnabled('OPEN-OFF2', false);
    const res = await post({ ...event('OPEN-OFF2'), timestamp: 'when' });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('timestamp');
  });
});

describeDb('box authentication, registered mode', () => {
  let t: TestApp;
  const { post, boxes, records } = helpers(() => t);
  const cli = async (...args: string[]) => {
    const lines: string[] = [];
    const code = await runBoxAccessCli(args, { ...process.env, ...t.db.env }, (l) => lines.push(l));
    return { code, output: lines.join('\n') };
  };

  beforeAll(async () => {
    t = await startTestApp({ env: { BOX_AUTH_MODE: 'registered' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses an unknown box with 401 and does not register it', async () => {
    const before = await records();
    const res = await post(event('REG-UNKNOWN'));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ statusCode: 401, reason: 'box_unknown', field: 'mq_license_key' });
    expect(await boxes('REG-UNKNOWN')).toBe(0);
    expect(await records()).toBe(before);
  });

  it('accepts a box registered with the CLI, refuses it once disabled, and honours a CLI-issued token', async () => {
    expect((await cli('register', 'REG-KNOWN', '--name', 'Gate 3')).code).toBe(0);
    expect((await post(event('REG-KNOWN'))).status).toBe(200);

    expect((await cli('disable', 'REG-KNOWN')).output).toMatch(/disabled/);
    const refused = await post(event('REG-KNOWN'));
    expect(refused.status).toBe(403);
    expect(refused.body.reason).toBe('box_disabled');
    expect((await cli('enable', 'REG-KNOWN')).code).toBe(0);

    const issued = await cli('token', 'REG-KNOWN');
    const path = /(\/box-callbacks\/[^/]+\/recognition-records)/.exec(issued.output)![1];
    expect((await post(event('REG-KNOWN'), path)).status).toBe(200);
    expect((await post(event('REG-KNOWN'))).status).toBe(401);

    const shown = await cli('show', 'REG-KNOWN');
    expect(shown.output).toMatch(/Gate 3/);
    expect(shown.output).toMatch(/callback token: set/);
    expect(shown.output).not.toContain(path.split('/')[2]);
    expect((await cli('networks', 'REG-KNOWN', '10.1.0.0/16,127.0.0.1')).output).toMatch(/10\.1\.0\.0\/16, 127\.0\.0\.1\/32/);
    expect((await cli('bogus', 'x')).code).toBe(2);
  });
});

describeDb('in-flight and upload caps', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { INGEST_MAX_IN_FLIGHT: '1', INGEST_MAX_UPLOADS: '2' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('holds no in-flight slot for a body still arriving, answers 503 with Retry-After beyond the upload cap, and frees both', async () => {
    const server = t.app.getHttpServer() as http.Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const body = Buffer.from(JSON.stringify(event('CAP-BOX')));
    /** A push whose body is held back: once the server has asked for it (100 Continue) it holds an upload place. */
    const slowPush = async () => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: CALLBACK_PATH,
        agent: false,
        headers: { 'content-length': String(body.length), expect: '100-continue' },
      });
      const status = new Promise<number>((resolve, reject) => {
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
      req.flushHeaders();
      await new Promise((resolve) => req.once('continue', resolve));
      req.write(body.subarray(0, 10));
      return { finish: () => req.end(body.subarray(10)), status };
    };
    const push = () =>
      t
        .http()
        .post(CALLBACK_PATH)
        .set('content-type', 'application/json')
        .send(JSON.stringify(event('CAP-BOX')));

    const first = await slowPush();
    // The only in-flight slot is free while that body trickles in: other pushes are stored.
    expect((await push()).status).toBe(200);
    const second = await slowPush();
    const refused = await push();
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toMatchObject({ statusCode: 503 });

    // One at a time: with one in-flight slot, two bodies arriving together would make one of them 503.
    first.finish();
    expect(await first.status).toBe(200);
    second.finish();
    expect(await second.status).toBe(200);
    expect((await push()).status).toBe(200);
  });
});
