// Placeholder until the server issue lands: the command exists but says so.
import type { Command } from '../command.js';
import { CommandError } from '../config/errors.js';

export const command: Command = {
  name: 'server',
  summary: 'not built yet',
  run: () => Promise.reject(new CommandError('tlsecho server is not built yet')),
};
