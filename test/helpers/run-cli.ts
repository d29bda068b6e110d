import type { CliMain } from '../../src/common/cli';

/** Runs a CLI without a database: a command line refused before the database is opened never needs one. */
export async function runCli(main: CliMain, ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const env = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }; // unreachable: any attempt to connect fails
  const code = await main(
    args,
    env,
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out, err };
}
