import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createHttpLogger } from './logging.module';

/** Access log lines of a few requests through the real pino-http logger, answered with the given statuses. */
async function accessLog(boxPushes: 'all' | 'errors', requests: [string, number][]): Promise<{ url: string; statusCode: number }[]> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createHttpLogger('info', boxPushes, sink);
  const server: Server = createServer((req, res) => {
    logger(req, res);
    res.statusCode = Number(req.headers['x-status']);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    for (const [path, status] of requests) {
      await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'x-status': String(status) } });
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return lines
    .map((l) => JSON.parse(l) as { req: { url: string }; res: { statusCode: number } })
    .map((l) => ({ url: l.req.url, statusCode: l.res.statusCode }));
}

describe('access log of box pushes (LOG_BOX_PUSHES)', () => {
  const requests: [string, number][] = [
    ['/box-callbacks/recognition-records', 200],
    ['/box-callbacks/secret/recognition-records', 200],
    ['/box-callbacks/recognition-records', 400],
    ['/box-callbacks/recognition-records', 503],
    ['/records', 200],
  ];

  it('all: one line per push', async () => {
    expect((await accessLog('all', requests)).map((l) => l.statusCode)).toEqual([200, 200, 400, 503, 200]);
  });

  it('errors: only refused or failed pushes, other routes unchanged', async () => {
    expect(await accessLog('errors', requests)).toEqual([
      { url: '/box-callbacks/recognition-records', statusCode: 400 },
      { url: '/box-callbacks/recognition-records', statusCode: 503 },
      { url: '/records', statusCode: 200 },
    ]);
  });
});
