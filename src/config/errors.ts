// Errors that the CLI prints as one clear line instead of a stack trace.

/** Bad input: a flag, variable, config key or file the user gave. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure the user can act on (file exists, port in use, verification failed). Exit code 1. */
export class CommandError extends Error {
  override name = 'CommandError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
