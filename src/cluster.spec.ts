import { workerCount } from './cluster';

describe('workerCount', () => {
  it('runs SQLite as one process, warning when more were asked for', () => {
    const warnings: string[] = [];
    expect(workerCount({ WEB_CONCURRENCY: 4 }, (m) => warnings.push(m))).toBe(1);
    expect(warnings).toEqual(['WEB_CONCURRENCY=4 ignored: SQLite runs as one process']);
  });

  it('takes WEB_CONCURRENCY on PostgreSQL, and by default one worker per two cores, at least one', () => {
    const pg = 'postgres://x/y';
    expect(workerCount({ DATABASE_URL: pg, WEB_CONCURRENCY: 3 }, () => undefined)).toBe(3);
    for (const [cores, workers] of [
      [1, 1],
      [2, 1],
      [3, 1],
      [8, 4],
    ]) {
      expect(workerCount({ DATABASE_URL: pg }, () => undefined, cores)).toBe(workers);
    }
  });
});
