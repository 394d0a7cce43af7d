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
      if (!spec.positionals && positionals.length)
        throw new UsageError(unexpected(argv, positionals[0]!, spec.options));
      return spec.action(values, positionals);
    },
  };
}

/** The line for a stray argument; `--switch false` is the likely slip, so it names the fix. */
function unexpected(argv: readonly string[], arg: string, options: OptionTable): string {
  // The stray word right after a switch of this command (not an option's value that happens to match).
  const i = argv.findIndex((a, j) => a === arg && options[argv[j - 1]?.slice(2) ?? '']?.kind === 'bool');
  if (i > 0 && /^(true|false)$/i.test(arg)) {
    const flag = argv[i - 1]!;
    const fix = arg.toLowerCase() === 'false' ? `--no-${flag.slice(2)}` : flag;
    return `unexpected argument '${arg}': ${flag} is a switch and takes no value; write ${fix} instead`;
  }
  return `unexpected argument '${arg}' (run with --help for the options)`;
}
