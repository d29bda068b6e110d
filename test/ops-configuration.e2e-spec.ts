import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAIN_JS } from './helpers/spawn-server';

// Start-up with a bad configuration: the built server as `npm start` runs it. No database is reached.
describe('configuration errors at start-up', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rh-config-'));
  });
  afterEach(() => fs.rmSync(cwd, { recursive: true, force: true }));

  const start = (env: Record<string, string>) =>
    spawnSync(process.execPath, [MAIN_JS], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });

  it('prints one line per bad variable, never a stack trace or a secret, and exits 1', () => {
    const run = start({ PORT: 'abc', DATABASE_URL: 'mysql://hub:hunter2@db/hub', BODY_LIMIT: 'huge' });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      'PORT: must be an integer number, must not be less than 0, must not be greater than 65535 (got "abc")',
      'DATABASE_URL: must be a postgres:// URL',
      'BODY_LIMIT: must look like 32mb (got "huge")',
    ]);
    expect(fs.existsSync(path.join(cwd, 'data'))).toBe(false);
  });

  it('checks the .env file too', () => {
    fs.writeFileSync(path.join(cwd, '.env'), 'OUTBOX_BATCH_SIZE=0\n');
    const run = start({});
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('OUTBOX_BATCH_SIZE: must not be less than 1 (got "0")');
  });
});
