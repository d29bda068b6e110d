import { simulatorOptions } from '../../scripts/simulate';
import { runApiKeyCli } from '../auth/api-key.cli';
import { runBoxAccessCli } from '../box-callbacks/box-access.cli';
import { CliMain } from './cli';
import { parseCommandLine, UsageError } from './command-line';

/** Runs a CLI without a database: a command line refused before the database is opened never needs one. */
async function run(main: CliMain, ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
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

describe('command lines (node:util parseArgs)', () => {
  const commands = { create: { options: ['name', 'role'], required: ['name'] }, show: { args: ['license_key'] } };

  it('parses a command with its options and arguments, in any order', () => {
    expect(parseCommandLine(['create', '--role', 'admin', '--name=ops'], commands)).toEqual({
      command: 'create',
      args: [],
      options: { name: 'ops', role: 'admin' },
    });
    expect(parseCommandLine(['show', 'BOX1'], commands)).toEqual({ command: 'show', args: ['BOX1'], options: {} });
    expect(parseCommandLine(['show', '--help'], commands)).toEqual({ help: true });
  });

  it.each([
    [['bogus'], "unknown command 'bogus'"],
    [['create', '--name', 'x', '--colour', 'red'], "create: Unknown option '--colour'"],
    [['create', '--name'], "create: Option '--name <value>' argument missing"],
    [['create', '--role', 'admin'], 'create: missing --name <value>'],
    [['show'], 'show: missing <license_key>'],
    [['show', 'A', 'B'], "show: unexpected argument 'B'"],
    [['show', 'A', '--name', 'x'], "show: Unknown option '--name'"],
  ])('refuses %j with one line: %s', (argv, message) => {
    expect(() => parseCommandLine(argv, commands)).toThrow(new UsageError(message));
  });

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

  it('simulator: the documented options, and one-line errors for unknown options, missing values and bad numbers', () => {
    expect(
      simulatorOptions([
        '--url',
        'http://localhost:3000/x',
        '--boxes',
        '3',
        '--rate',
        '2',
        '--duration',
        '5',
        '--batch',
        '10',
        '--drain',
        '0',
        '--seed',
        '7',
      ]),
    ).toEqual({ url: 'http://localhost:3000/x', boxes: 3, rate: 2, duration: 5, batch: 10, drain: 0, seed: 7 });
    expect(simulatorOptions(['--url', 'http://10.0.0.9/x', '--allow-remote'])).toMatchObject({ url: 'http://10.0.0.9/x' });
    expect(simulatorOptions(['--help'])).toBe('help');
    expect(() => simulatorOptions(['--bogus'])).toThrow(new UsageError("Unknown option '--bogus'"));
    expect(() => simulatorOptions(['--rate'])).toThrow(new UsageError("Option '--rate <value>' argument missing"));
    expect(() => simulatorOptions(['--boxes', 'two'])).toThrow(new UsageError('--boxes must be a number from 1 to 1000'));
    expect(() => simulatorOptions(['--url', 'http://10.0.0.9/x'])).toThrow(/pass --allow-remote/);
    expect(() => simulatorOptions(['extra'])).toThrow(UsageError);
  });
});
