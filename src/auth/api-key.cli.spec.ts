import { runCli as run } from '../../test/helpers/run-cli';
import { runApiKeyCli } from './api-key.cli';

describe('api-key command line (node:util parseArgs)', () => {
  it('api-key: one-line errors and exit code 2 for unknown options and missing values, usage on --help', async () => {
    expect(await run(runApiKeyCli, 'create', '--name', 'x', '--role', 'reader', '--bogus')).toEqual({
      code: 2,
      out: [],
      err: ["api-key: create: Unknown option '--bogus' (see npm run api-key -- --help)"],
    });
    expect((await run(runApiKeyCli, 'create', '--name', 'x', '--role')).err).toEqual([
      "api-key: create: Option '--role <value>' argument missing (see npm run api-key -- --help)",
    ]);
    expect((await run(runApiKeyCli, 'revoke')).err).toEqual(['api-key: revoke: missing --id <value> (see npm run api-key -- --help)']);
    expect((await run(runApiKeyCli, 'create', '--name', 'x', '--role', 'root')).err[0]).toMatch(
      /^api-key: create: --role must be one of reader, /,
    );
    expect((await run(runApiKeyCli, 'list', 'extra')).code).toBe(2);
    const help = await run(runApiKeyCli, '--help');
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toMatch(/npm run api-key -- revoke --id <key id>/);
  });
});
