import { runCli as run } from '../../test/helpers/run-cli';
import { runBoxAccessCli } from './box-access.cli';

describe('box-access command line (node:util parseArgs)', () => {
  it('box-access: one-line errors and exit code 2 for unknown options and missing values, usage on --help', async () => {
    expect(await run(runBoxAccessCli, 'register', 'BOX123', '--name')).toEqual({
      code: 2,
      out: [],
      err: ["box-access: register: Option '--name <value>' argument missing (see npm run box-access -- --help)"],
    });
    expect((await run(runBoxAccessCli, 'token', 'BOX123', '--name', 'x')).err).toEqual([
      "box-access: token: Unknown option '--name' (see npm run box-access -- --help)",
    ]);
    expect((await run(runBoxAccessCli, 'networks', 'BOX123')).err).toEqual([
      'box-access: networks: missing <cidr,…|none> (see npm run box-access -- --help)',
    ]);
    expect((await run(runBoxAccessCli, 'disable')).code).toBe(2);
    const help = await run(runBoxAccessCli, 'show', '-h');
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toMatch(/npm run box-access -- networks <license_key>/);
  });
});
