import { Column, ColumnOptions } from 'typeorm';

/**
 * Column types TypeORM cannot express portably: binary ("blob" on SQLite, "bytea" on PostgreSQL) and
 * 64-bit auto-increment keys (SQLite only allows AUTOINCREMENT on "integer", which is 64-bit there).
 * The type is resolved when a DataSource builds its metadata, from the kind set by
 * buildDataSourceOptions; one process talks to one kind of database.
 */
let kind: 'sqlite' | 'postgres' = 'sqlite';

export function usePortableColumnTypesFor(k: 'sqlite' | 'postgres'): void {
  kind = k;
}

function withLazyType(options: ColumnOptions, type: () => string): ColumnOptions {
  const opts = { ...options };
  Object.defineProperty(opts, 'type', { enumerable: true, configurable: true, get: type, set: () => undefined });
  return opts;
}

export function BinaryColumn(options: Omit<ColumnOptions, 'type'> = {}): PropertyDecorator {
  return Column(withLazyType(options, () => (kind === 'postgres' ? 'bytea' : 'blob'))) as PropertyDecorator;
}

export function BigAutoIncrementPrimaryColumn(): PropertyDecorator {
  return Column(
    withLazyType({ primary: true, generated: 'increment' }, () => (kind === 'postgres' ? 'bigint' : 'integer')),
  ) as PropertyDecorator;
}
