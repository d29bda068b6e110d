import { simulatorOptions } from '../../scripts/simulate';
import { parseCommandLine, UsageError } from './command-line';

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
