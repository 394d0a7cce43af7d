// Placeholder until the demo issue lands: the command exists but says so.
import type { Command } from '../command.js';
import { CommandError } from '../config/errors.js';

export const command: Command = {
  name: 'demo',
  summary: 'not built yet',
  run: () => Promise.reject(new CommandError('tlsecho demo is not built yet')),
};
