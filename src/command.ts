// What every subcommand module exports, so the CLI can list, document and run it.
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
      return spec.action(values, positionals);
    },
  };
}
