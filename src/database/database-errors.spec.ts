import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable, redactSql, summarizeDatabaseError } from './database-errors';

/** A PostgreSQL error as node-postgres builds it from the server's message. */
function pgError(code: string, message: string, fields: Partial<DatabaseError> = {}): DatabaseError {
  return Object.assign(new DatabaseError(message, message.length, 'error'), { code, ...fields });
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

describe('summarizeDatabaseError', () => {
  it('keeps code, schema names and SQL, never parameters or quoted values', () => {
    const driver = pgError('23505', 'duplicate key value violates unique constraint "boxes_license_key"', {
      detail: 'Key (license_key)=(NAAXWN0001) already exists.',
      table: 'boxes',
      constraint: 'boxes_license_key',
    });
    const e = new QueryFailedError("INSERT INTO boxes (license_key, name) VALUES ($1, 'Zelda')", ['NAAXWN0001', 'Zelda Quickfox'], driver);
    const s = summarizeDatabaseError(e);
    expect(s).toEqual({
      code: '23505',
      message: 'duplicate key value violates unique constraint "…"',
      table: 'boxes',
      constraint: 'boxes_license_key',
      sql: "INSERT INTO boxes (license_key, name) VALUES ($1, '…')",
      sqlHash: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
    expect(JSON.stringify(s)).not.toMatch(/NAAXWN0001|Zelda/);
  });

  it('blanks the value PostgreSQL quotes in a message', () => {
    const s = summarizeDatabaseError(pgError('22P02', 'invalid input syntax for type uuid: "NAAXWN0001"'));
    expect(s.message).toBe('invalid input syntax for type uuid: "…"');
  });

  it('cuts long SQL', () => {
    expect(redactSql(`SELECT ${'x, '.repeat(1000)}1`).length).toBeLessThanOrEqual(1001);
  });
});

describe('isDatabaseUnavailable', () => {
  it('is true for a refused connection', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as net.AddressInfo;
        s.close(() => resolve(p));
      });
    });
    const error = await new Promise((resolve) => net.connect(port, '127.0.0.1').once('error', resolve));
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('is true for timeouts, shutdowns and lost connections, false for bad input', () => {
    for (const code of ['57014', '57P01', '57P03', '08006', '55P03', '53300', '40P01']) {
      expect(isDatabaseUnavailable(new QueryFailedError('SELECT 1', [], pgError(code, 'x')))).toBe(true);
    }
    expect(isDatabaseUnavailable(new QueryFailedError('SELECT 1', [], new Error('Query read timeout')))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated due to connection timeout'))).toBe(true);
    for (const code of ['23505', '22P02', '42P01', '23514']) {
      expect(isDatabaseUnavailable(new QueryFailedError('SELECT 1', [], pgError(code, 'x')))).toBe(false);
    }
    expect(isDatabaseUnavailable(new Error('something else'))).toBe(false);
  });

  it('is true for a SQLite database locked by another connection, false for a constraint', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rh-dberr-'));
    const file = path.join(dir, 'db.sqlite');
    const a = new Database(file);
    const b = new Database(file, { timeout: 0 });
    try {
      a.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      a.exec('BEGIN IMMEDIATE');
      expect(isDatabaseUnavailable(thrownBy(() => b.exec('INSERT INTO t VALUES (1)')))).toBe(true);
      a.exec('INSERT INTO t VALUES (1); COMMIT');
      expect(isDatabaseUnavailable(thrownBy(() => b.exec('INSERT INTO t VALUES (1)')))).toBe(false);
    } finally {
      a.close();
      b.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
