import { auditCommand } from './audit.js';
import { clientsCommand } from './clients.js';
import type { Command } from './command.js';
import { copyCommand } from './copy.js';
import { keysCommand } from './keys.js';
import { mailCommand } from './mail.js';
import { sessionsCommand } from './sessions.js';
import { usersCommand } from './users.js';
import { webhooksCommand } from './webhooks.js';

/** Every command group besides `serve`, `migrate` and `bench`, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  usersCommand,
  sessionsCommand,
  clientsCommand,
  keysCommand,
  copyCommand,
  mailCommand,
  webhooksCommand,
  auditCommand,
];
