/** Splits a list for IN (...) lists: SQLite and PostgreSQL cap the bound parameters of one statement. */
export function chunks<T>(items: readonly T[], size = 1000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
