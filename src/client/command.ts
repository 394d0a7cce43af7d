// Placeholder until the client issue lands: the command exists but says so.
import type { Command } from '../command.js';
import { CommandError } from '../config/errors.js';

export const command: Command = {
  name: 'client',
  summary: 'not built yet',
  run: () => Promise.reject(new CommandError('tlsecho client is not built yet')),
};
