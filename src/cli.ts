#!/usr/bin/env node
// tlsecho: a private CA, an SNI echo server and a DNS-resolving client over verified TLS.
import { CommandError, UsageError } from './config/errors.js';
import type { Command } from './command.js';

// Each command is loaded only when it runs, so `tlsecho ca` does not load the server's stack.
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  ca: {
    summary: 'create a root CA and issue certificates (minica layout)',
    load: async () => (await import('./ca/command.js')).command,
  },
  server: {
    summary: 'run the HTTPS echo server (+ /ping) and the plain-HTTP /root_ca endpoint',
    load: async () => (await import('./server/command.js')).command,
  },
  client: {
    summary: 'call the server under its DNS names with verified TLS',
    load: async () => (await import('./client/command.js')).command,
  },
  demo: {
    summary: 'run CA, DNS, server and client together on this machine',
    load: async () => (await import('./demo/command.js')).command,
  },
  lab: {
    summary: 'judge a client on the failure lab: lab check [-- command with {url}]',
    load: async () => (await import('./lab/command.js')).command,
  },
  dns: {
    summary: 'answer DNS for the server names (stand-in for Docker embedded DNS)',
    load: async () => (await import('./dns/command.js')).command,
  },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(8)}${c.summary}`);
  return `Usage: tlsecho <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun 'tlsecho <command> --help' for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version') {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry)
    throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
  const command = await entry.load();
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const cmd = process.argv[2] && process.argv[2] in COMMANDS ? ` ${process.argv[2]}` : '';
    if (err instanceof UsageError) {
      process.stderr.write(`tlsecho${cmd}: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof CommandError) {
      process.stderr.write(`tlsecho${cmd}: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(
        `tlsecho${cmd}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 1;
    }
  },
);
