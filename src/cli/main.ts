#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { Latchkey } from '../app/latchkey.js';
import { openLatchkey } from '../app/open.js';
import { ConfigError, loadConfig, type LatchkeyConfig } from '../config/config.js';
import { isLatchkeyError } from '../errors.js';
import { createLogger } from '../log.js';
import { migrateStore } from '../app/stores.js';
import { lockEmbeddedStore, startServer } from './serve.js';
import { COMMANDS } from './commands/index.js';
import type { CommandContext } from './commands/command.js';

const USAGE = `Usage: latchkey <command> [options]

Commands:
  serve                      Start the HTTP server (configured by environment variables)
  migrate                    Apply pending database migrations and exit
${COMMANDS.map((command) => command.usage).join('\n')}
  bench [--quick]            Run the benchmarks

Configuration is read from the environment; see README.md.`;

/**
 * The core for a one-shot command: the revocation publisher only (connected on the first
 * revocation, so that `users disable` or `sessions revoke` reach every node's near cache and
 * the resource services at once), no feed; warnings only at `LOG_LEVEL`.
 */
function openCore(config: LatchkeyConfig, options: { migrate?: boolean } = {}): Promise<Latchkey> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  return openLatchkey(config, { ...options, logger, channels: 'publish', warnings: false });
}

async function serve(config: LatchkeyConfig): Promise<void> {
  const server = await startServer(config);
  const { logger } = server.latchkey;
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    logger.info({ event: 'shutdown', signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason, event: 'unhandled_rejection' }, 'unhandled rejection');
  });
  await server.listen();
}

async function main(argv: string[]): Promise<number> {
  const [command, ...words] = argv;
  // A group without subcommands (`copy --from ...`) starts with its options.
  const sub = words[0]?.startsWith('-') === true ? undefined : words[0];
  const rest = sub === undefined ? words : words.slice(1);
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 1 : 0;
  }
  const config = loadConfig();
  switch (command) {
    case 'serve':
      await serve(config);
      return -1;
    case 'migrate': {
      const lock = await lockEmbeddedStore(config, 'migrate');
      const { store, applied } = await migrateStore(config).finally(() => lock?.release());
      console.log(
        applied.length === 0
          ? `${store}: no pending migrations`
          : `${store}: applied ${applied.length} migration(s): ${applied.join(', ')}`,
      );
      return 0;
    }
    case 'bench': {
      const { runBenchmarks } = await import('./bench.js');
      return runBenchmarks(argv.slice(1));
    }
    default:
      break;
  }
  const group = COMMANDS.find((candidate) => candidate.name === command);
  if (group === undefined) {
    console.error(`unknown command "${command}"\n\n${USAGE}`);
    return 1;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      now: { type: 'boolean', default: false },
      limit: { type: 'string', default: '100' },
      scopes: { type: 'string', default: '' },
      audiences: { type: 'string' },
      failed: { type: 'boolean', default: false },
      from: { type: 'string' },
      to: { type: 'string' },
      sessions: { type: 'boolean', default: false },
      'from-redis': { type: 'string' },
      'to-redis': { type: 'string' },
      events: { type: 'string' },
      search: { type: 'string' },
      user: { type: 'string' },
      cursor: { type: 'string' },
    },
    allowPositionals: true,
  });
  const context: CommandContext = { config, sub, positionals, values };
  if (!group.opensCore) return group.run(context);
  // A command on an embedded store refuses while a server (or another command) has it open.
  const lock = await lockEmbeddedStore(config, command);
  const latchkey = await openCore(config).catch(async (error: unknown) => {
    await lock?.release();
    throw error;
  });
  try {
    return await group.run(latchkey, context);
  } finally {
    await latchkey.close();
    await lock?.release();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(`latchkey: configuration error: ${error.message}`);
    } else if (isLatchkeyError(error)) {
      console.error(`latchkey: ${error.code}: ${error.message}`);
    } else {
      console.error('latchkey: fatal:', error instanceof Error ? error.message : error);
    }
    process.exit(1);
  },
);
