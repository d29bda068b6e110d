import { parseArgs, ParseArgsConfig } from 'node:util';

/*
 * Command lines of the CLIs (api-key, box-access) and the simulator, parsed by node:util parseArgs. Kept apart from
 * cli.ts so that the simulator does not load the database layer.
 */

/**
 * parseArgs in strict mode; its errors (unknown option, option without a value, unexpected argument) become one-line
 * UsageErrors. Node's messages go on with advice about '--' that does not apply here: only their first sentence is kept.
 */
export function parseStrict<T extends Omit<ParseArgsConfig, 'strict'>>(
  config: T,
  prefix = '',
): ReturnType<typeof parseArgs<T & { strict: true }>> {
  try {
    return parseArgs({ ...config, strict: true });
  } catch (e) {
    if (String((e as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_'))
      throw new UsageError(prefix + (e as Error).message.split('. ')[0]);
    throw e;
  }
}

/** A command line the CLI cannot run: reported on one line, exit code 2 (like a missing command). */
export class UsageError extends Error {}

export interface CliCommand {
  /** Names of the positional arguments after the command, all required. */
  args?: string[];
  /** String options it takes (`--name value` or `--name=value`). */
  options?: string[];
  /** Options it cannot do without. */
  required?: string[];
}

export type CommandLine = { help: true } | { help?: false; command: string; args: string[]; options: Record<string, string | undefined> };

/**
 * `<command> [args] [--option value]` parsed by node:util parseArgs in strict mode: unknown commands and options,
 * options without a value, and missing or extra arguments throw a UsageError. `--help`/`-h` anywhere asks for help.
 */
export function parseCommandLine(argv: string[], commands: Record<string, CliCommand>): CommandLine {
  if (argv[0] === '--help' || argv[0] === '-h') return { help: true };
  const [command, ...rest] = argv;
  const spec = command !== undefined && Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!spec) throw new UsageError(command === undefined ? 'missing command' : `unknown command '${command}'`);
  const { values, positionals } = parseStrict(
    {
      args: rest,
      options: {
        ...Object.fromEntries((spec.options ?? []).map((o) => [o, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    },
    `${command}: `,
  );
  if (values.help) return { help: true };
  const names = spec.args ?? [];
  if (positionals.length < names.length) throw new UsageError(`${command}: missing <${names[positionals.length]}>`);
  if (positionals.length > names.length) throw new UsageError(`${command}: unexpected argument '${positionals[names.length]}'`);
  const options = values as Record<string, string | undefined>;
  for (const o of spec.required ?? []) if (!options[o]) throw new UsageError(`${command}: missing --${o} <value>`);
  return { command, args: positionals, options };
}

/**
 * Parses the command line and runs the command. Usage errors: one line on `err` pointing at --help, exit code 2;
 * no arguments: the usage, exit code 2; --help: the usage, exit code 0.
 */
export async function runCommandLine(
  argv: string[],
  cli: { name: string; usage: string; commands: Record<string, CliCommand> },
  out: (line: string) => void,
  err: (line: string) => void,
  run: (line: Extract<CommandLine, { command: string }>) => Promise<number>,
): Promise<number> {
  if (argv.length === 0) {
    err(cli.usage);
    return 2;
  }
  let line: CommandLine;
  try {
    line = parseCommandLine(argv, cli.commands);
    if (line.help) {
      out(cli.usage);
      return 0;
    }
    return await run(line);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`${cli.name}: ${e.message} (see npm run ${cli.name} -- --help)`);
    return 2;
  }
}
