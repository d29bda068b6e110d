import { DataSource } from 'typeorm';

/** The few spots where hand-written SQL differs between SQLite and PostgreSQL. */
export class SqlDialect {
  readonly kind: 'sqlite' | 'postgres';

  constructor(dataSource: DataSource) {
    this.kind = dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
  }

  /** Positional parameter n (1-based). */
  p(n: number): string {
    return this.kind === 'postgres' ? `$${n}` : '?';
  }

  /** Parameter list $1..$n / ?,?,… */
  params(from: number, count: number): string {
    return Array.from({ length: count }, (_, i) => this.p(from + i)).join(', ');
  }

  /**
   * Multi-row VALUES lists for rows of `width` values each, cut so that no statement binds more parameters than
   * both drivers allow (SQLite 32766, PostgreSQL 65535): one `(…), (…)` text and its parameters per chunk.
   * `types` (one per column) casts the parameters on PostgreSQL, which needs them where the list is a table of its
   * own (`UPDATE … FROM (VALUES …)`) rather than the rows of an INSERT.
   */
  valuesChunks(rows: unknown[][], width: number, types?: string[]): { sql: string; params: unknown[] }[] {
    const perChunk = Math.max(1, Math.floor(MAX_PARAMS / width));
    const row = (first: number): string =>
      types && this.kind === 'postgres' ? types.map((t, j) => `${this.p(first + j)}::${t}`).join(', ') : this.params(first, width);
    const out: { sql: string; params: unknown[] }[] = [];
    for (let start = 0; start < rows.length; start += perChunk) {
      const chunk = rows.slice(start, start + perChunk);
      out.push({
        sql: chunk.map((_, i) => `(${row(1 + i * width)})`).join(', '),
        params: chunk.flat(),
      });
    }
    return out;
  }

  /** Rows of an UPDATE/DELETE … RETURNING (TypeORM's PostgreSQL runner returns [rows, count] for those). */
  returnedRows<T>(result: unknown): T[] {
    if (this.kind === 'postgres' && Array.isArray(result) && result.length === 2 && Array.isArray(result[0])) {
      return result[0] as T[];
    }
    return result as T[];
  }

  /** A boolean written into SQL text: TRUE/FALSE on PostgreSQL, 1/0 on SQLite (which stores booleans as integers). */
  bool(value: boolean): string {
    return this.kind === 'postgres' ? (value ? 'TRUE' : 'FALSE') : value ? '1' : '0';
  }

  /** A boolean bound as a parameter (better-sqlite3 cannot bind JS booleans). */
  boolParam(value: boolean): boolean | number {
    return this.kind === 'postgres' ? value : value ? 1 : 0;
  }

  greatest(a: string, b: string): string {
    return this.kind === 'postgres' ? `GREATEST(${a}, ${b})` : `MAX(${a}, ${b})`;
  }

  least(a: string, b: string): string {
    return this.kind === 'postgres' ? `LEAST(${a}, ${b})` : `MIN(${a}, ${b})`;
  }

  /** Lock-free claim clause for work queues shared by several instances (PostgreSQL only). */
  get skipLocked(): string {
    return this.kind === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
  }
}

/** Parameters per statement, under SQLite's default limit of 32766. */
const MAX_PARAMS = 30000;
