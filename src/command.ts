// What every subcommand module exports, so the CLI can list, document and run it.
import { UsageError } from './config/errors.js';
import { helpText, resolveOptions, type OptionTable, type Resolved } from './config/options.js';

export interface Command {
  name: string;
  summary: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[], env?: NodeJS.ProcessEnv): Promise<number>;
}

/** A command whose options come from the shared config layer; `--help` is handled here. */
export function defineCommand<T extends OptionTable>(spec: {
  name: string;
  summary: string;
  usage?: string;
  options: T;
  /** Whether the command takes arguments besides its options (a subcommand, a name …). */
  positionals?: boolean;
  action(values: Resolved<T>, positionals: string[]): Promise<number>;
}): Command & { options: T } {
  return {
    name: spec.name,
    summary: spec.summary,
    options: spec.options,
    async run(argv, env = process.env) {
      const { values, positionals, help } = resolveOptions(spec.options, argv, env);
      if (help) {
        process.stdout.write(
          helpText(spec.name, spec.summary, spec.usage ?? `tlsecho ${spec.name} [options]`, spec.options),
        );
        return 0;
      }
      if (!spec.positionals && positionals.length) throw new UsageError(unexpected(argv, positionals[0]!));
      return spec.action(values, positionals);
    },
  };
}

/** The line for a stray argument; `--switch false` is the likely slip, so it names the fix. */
function unexpected(argv: readonly string[], arg: string): string {
  const before = argv[argv.indexOf(arg) - 1];
  if (/^(true|false)$/i.test(arg) && before?.startsWith('--'))
    return `unexpected argument '${arg}': ${before} is a switch and takes no value; write ${arg.toLowerCase() === 'false' ? `--no-${before.slice(2)}` : before} instead`;
  return `unexpected argument '${arg}' (run with --help for the options)`;
}
