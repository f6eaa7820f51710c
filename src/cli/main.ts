#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { Latchkey } from '../app/latchkey.js';
import { openLatchkey } from '../app/open.js';
import { ConfigError, loadConfig, type LatchkeyConfig } from '../config/config.js';
import { isLatchkeyError } from '../errors.js';
import { createLogger } from '../log.js';
import { migrateStore } from '../app/stores.js';
import { lockEmbeddedStore, startServer } from './serve.js';

const USAGE = `Usage: latchkey <command> [options]

Commands:
  serve                      Start the HTTP server (configured by environment variables)
  migrate                    Apply pending database migrations and exit
  users list                 List users
  users disable <email>      Disable a user and revoke all their sessions and tokens
  users enable <email>       Enable a disabled user
  sessions list <email>      List a user's live sessions
  sessions revoke <email>    Revoke every session of a user
  clients create <name> --scopes "<s1 s2>" --audiences "<url1 url2>"
                             Create a machine client; prints its id and secret (once)
  clients list               List machine clients
  clients disable <id>       Disable a machine client (it can no longer authenticate)
  keys list                  List signing keys and their state
  keys rotate [--now]        Create a new signing key (published first; --now signs at once)
  bench [--quick]            Run the benchmarks

Configuration is read from the environment; see README.md.`;

/** The core for a one-shot command: no revocation channels, warnings only at `LOG_LEVEL`. */
function openCore(config: LatchkeyConfig, options: { migrate?: boolean } = {}): Promise<Latchkey> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  return openLatchkey(config, { ...options, logger, channels: false });
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)';
  const headers = Object.keys(rows[0] ?? {});
  const cells = rows.map((row) => headers.map((h) => String((row[h] as string | number | undefined) ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
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

/** `latchkey clients create | list | disable`. */
async function clientsCommand(
  latchkey: Latchkey,
  sub: string | undefined,
  positionals: string[],
  values: { limit: string; scopes: string; audiences?: string | undefined },
): Promise<number> {
  const { clients } = latchkey;
  const words = (text: string): string[] => text.split(/\s+/).filter((word) => word !== '');
  const name = positionals[0];
  if (sub === 'create' && name !== undefined) {
    const audiences = values.audiences === undefined ? [latchkey.config.audience] : words(values.audiences);
    const { client, secret } = await clients.create({ name, scopes: words(values.scopes), audiences });
    console.log(`client_id:     ${client.id}`);
    console.log(`client_secret: ${secret}`);
    console.log(`scopes:        ${client.scopes.join(' ')}`);
    console.log(`audiences:     ${client.audiences.join(' ')}`);
    console.log('The secret is shown only now: store it safely. Only its hash is kept.');
    return 0;
  }
  if (sub === 'list') {
    const list = await clients.list({ limit: Number(values.limit) || 100 });
    console.log(
      table(
        list.map((c) => ({
          id: c.id,
          name: c.name,
          status: c.disabledAt === null ? 'active' : 'disabled',
          scopes: c.scopes.join(' '),
          audiences: c.audiences.join(' '),
          created: new Date(c.createdAt).toISOString(),
        })),
      ),
    );
    return 0;
  }
  if (sub === 'disable' && name !== undefined) {
    if (!(await clients.disable(name))) {
      console.error(`no client ${name}`);
      return 1;
    }
    console.log(`client ${name} is now disabled`);
    return 0;
  }
  console.error(USAGE);
  return 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
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
    case 'users':
    case 'sessions':
    case 'keys':
    case 'clients':
      break;
    default:
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
    },
    allowPositionals: true,
  });
  // A command on an embedded store refuses while a server (or another command) has it open.
  const lock = await lockEmbeddedStore(config, command);
  const latchkey = await openCore(config).catch(async (error: unknown) => {
    await lock?.release();
    throw error;
  });
  try {
    switch (command) {
      case 'users':
        return await usersCommand(latchkey, sub, positionals, values);
      case 'sessions':
        return await sessionsCommand(latchkey, sub, positionals);
      case 'clients':
        return await clientsCommand(latchkey, sub, positionals, values);
      default:
        return await keysCommand(latchkey, sub, values);
    }
  } finally {
    await latchkey.close();
    await lock?.release();
  }
}

/** `latchkey users list | disable | enable`. */
async function usersCommand(
  latchkey: Latchkey,
  sub: string | undefined,
  positionals: string[],
  values: { limit: string },
): Promise<number> {
  const email = positionals[0];
  if (sub === 'list') {
    const users = await latchkey.store.listUsers({ limit: Number(values.limit) || 100 });
    console.log(
      table(
        users.map((u) => ({
          email: u.email,
          status: u.status,
          id: u.id,
          created: new Date(u.createdAt).toISOString(),
        })),
      ),
    );
    return 0;
  }
  if ((sub === 'disable' || sub === 'enable') && email !== undefined) {
    const user = await latchkey.auth.setUserStatus(email, sub === 'disable' ? 'disabled' : 'active');
    console.log(`${user.email} is now ${user.status}`);
    return 0;
  }
  console.error(USAGE);
  return 1;
}

/** `latchkey sessions list | revoke <email>`. */
async function sessionsCommand(
  latchkey: Latchkey,
  sub: string | undefined,
  positionals: string[],
): Promise<number> {
  const email = positionals[0];
  if ((sub !== 'list' && sub !== 'revoke') || email === undefined) {
    console.error(USAGE);
    return 1;
  }
  const user = await latchkey.store.getUserByEmail(email.trim().toLowerCase());
  if (user === null) {
    console.error(`no user ${email}`);
    return 1;
  }
  if (sub === 'revoke') {
    const ids = await latchkey.store.revokeUserSessions(user.id, latchkey.clock());
    for (const id of ids) await latchkey.revocations.sessionRevoked(id);
    await latchkey.revocations.userRevoked(user.id);
    console.log(`revoked ${ids.length} session(s) of ${user.email}`);
    return 0;
  }
  const sessions = await latchkey.store.listUserSessions(user.id, latchkey.clock());
  console.log(
    table(
      sessions.map((s) => ({
        id: s.id,
        mode: s.mode,
        ip: s.ip ?? '',
        created: new Date(s.createdAt).toISOString(),
        last_seen: new Date(s.lastSeenAt).toISOString(),
        agent: (s.userAgent ?? '').slice(0, 40),
      })),
    ),
  );
  return 0;
}

/** `latchkey keys list | rotate [--now]`. */
async function keysCommand(
  latchkey: Latchkey,
  sub: string | undefined,
  values: { now: boolean },
): Promise<number> {
  if (sub === 'list') {
    console.log(
      table(
        latchkey.keyring.list().map((k) => ({
          kid: k.kid,
          alg: k.alg,
          state: k.state,
          created: new Date(k.createdAt).toISOString(),
          activates: new Date(k.activatesAt).toISOString(),
          retired: k.retiredAt === null ? '' : new Date(k.retiredAt).toISOString(),
          expires: k.expiresAt === null ? '' : new Date(k.expiresAt).toISOString(),
        })),
      ),
    );
    return 0;
  }
  if (sub === 'rotate') {
    const key = await latchkey.keyring.rotate({ immediate: values.now });
    console.log(
      `new key ${key.kid} (${key.alg}) published; signs from ${new Date(key.activatesAt).toISOString()}`,
    );
    return 0;
  }
  console.error(USAGE);
  return 1;
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
