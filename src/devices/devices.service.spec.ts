import type { UnitOfWork } from '../database/unit-of-work';
import { DevicesService } from './devices.service';

/** A database whose reads answer only when the test says so: which reads ran, with which keys. */
function fakeDatabase() {
  const reads: { keys: string[]; answer: () => void }[] = [];
  const enabled = new Map<string, boolean>();
  const uow = {
    dialect: { params: (from: number, n: number) => Array.from({ length: n }, () => '?').join(', ') },
    dataSource: {
      query: (_sql: string, keys: string[]) =>
        new Promise((resolve) => {
          // The rows as they are when the read starts.
          const rows = keys
            .filter((k) => enabled.has(k))
            .map((k) => ({ license_key: k, enabled: enabled.get(k), callback_token_hash: null, allowed_networks: null }));
          reads.push({ keys, answer: () => resolve(rows) });
        }),
    },
  } as unknown as UnitOfWork;
  return { uow, reads, enabled };
}

describe('DevicesService.accessSettings', () => {
  it('shares one read among the pushes that ask while a read runs, and never hands them the running one', async () => {
    const db = fakeDatabase();
    db.enabled.set('A', true).set('B', true);
    const devices = new DevicesService(db.uow);
    const first = devices.accessSettings(['A']);
    expect(db.reads.map((r) => r.keys)).toEqual([['A']]); // started at once
    // Box A is disabled after the first read started: pushes arriving now must see it.
    db.enabled.set('A', false);
    const second = devices.accessSettings(['A', 'B']);
    const third = devices.accessSettings(['B', 'C']);
    expect(db.reads).toHaveLength(1);
    db.reads[0].answer();
    expect((await first).map((r) => [r.licenseKey, r.enabled])).toEqual([['A', true]]);
    await Promise.resolve();
    expect(db.reads.map((r) => r.keys)).toEqual([['A'], ['A', 'B', 'C']]);
    db.reads[1].answer();
    expect((await second).map((r) => [r.licenseKey, r.enabled])).toEqual([
      ['A', false],
      ['B', true],
    ]);
    expect((await third).map((r) => r.licenseKey)).toEqual(['B']);
  });

  it('hands a failed read to every push that shared it, and reads again for the next', async () => {
    const db = fakeDatabase();
    const uow = db.uow as unknown as { dataSource: { query: () => Promise<unknown> } };
    const query = uow.dataSource.query;
    uow.dataSource.query = () => Promise.reject(new Error('connection lost'));
    const devices = new DevicesService(db.uow);
    await expect(devices.accessSettings(['A'])).rejects.toThrow('connection lost');
    uow.dataSource.query = query;
    db.enabled.set('A', true);
    const again = devices.accessSettings(['A']);
    db.reads[0].answer();
    expect(await again).toHaveLength(1);
  });
});
