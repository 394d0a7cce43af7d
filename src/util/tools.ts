// The system's command-line tools the trust stores need (certutil, keytool, update-ca-*):
// finding them, and the one line of their output that says why they failed.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The executable `name` in a PATH folder, else in one of `alsoIn`; undefined when none has it. */
export function onPath(name: string, alsoIn: string[] = []): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(delimiter), ...alsoIn]) {
    if (!d) continue;
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A tool's last non-empty line, stderr before stdout (its own complaint), for a one-line error. */
export function lastLine(stderr: string, stdout: string, code: number | null): string {
  const lines = `${stderr}\n${stdout}`.split('\n').map((l) => l.trim());
  return lines.filter(Boolean).pop() ?? `exit code ${code}`;
}
