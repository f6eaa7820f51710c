/**
 * Where `latchkey copy` reads and writes: a store named on the command line, opened (and, when
 * it is embedded, locked) the way `latchkey serve` would open it with that configuration.
 *
 * | name                                  | store                                                  |
 * | ------------------------------------- | ------------------------------------------------------ |
 * | `DIR` (any other text)                | the embedded store of data directory `DIR`: SQLite, or |
 * |                                       | PGlite where it holds one and no SQLite file (as `auto`) |
 * | `sqlite:DIR`, `pglite:DIR`            | that embedded store of data directory `DIR`            |
 * | `postgres://...`, `postgresql://...`  | Postgres                                               |
 * | `mysql://...`, `mariadb://...`        | MySQL / MariaDB                                        |
 * | `redis://...`, `rediss://...`         | Redis alone; `?prefix=P` for another key prefix than   |
 * | `redis+cluster://h:p,h:p` (`rediss+`) | `LATCHKEY_REDIS_PREFIX`; the `+cluster` ones a Cluster |
 * | a SQL URL and `--from-redis` / `--to-redis URL` | the composite: users, keys and clients in SQL, |
 * |                                       | sessions, refresh tokens and revocations in Redis      |
 *
 * The master secret comes from `LATCHKEY_SECRET`, or else from the source data directory's
 * `secret` file; an embedded target without `LATCHKEY_SECRET` gets that file too, so that a
 * server started on it with nothing configured runs with the same secret.
 */

import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LatchkeyConfig, StoreSetting } from '../config/config.js';
import { LatchkeyError } from '../errors.js';
import { parseRedisClusterURL } from '../lib/redis-url.js';
import type { Store } from '../store.js';
import { lockDataDir } from './data-dir-lock.js';
import { chooseStore, embeddedStorePaths, isEmbeddedStore, openStore } from './stores.js';

/** A store named on the command line, not opened yet. */
export interface CopyLocation {
  /** How messages name it (a URL without its password). */
  readonly label: string;
  /** The configuration that opens it: the command's, with the store settings replaced. */
  readonly config: LatchkeyConfig;
  /** The data directory of an embedded store (locked while it is open), else null. */
  readonly dataDir: string | null;
}

const SQL_URL = /^(postgres(ql)?|mysql|mariadb):\/\//i;
const REDIS_URL = /^rediss?(\+cluster)?:\/\//i;
const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

function invalid(message: string): LatchkeyError {
  return new LatchkeyError('config_invalid', message);
}

/** A URL without its password, for messages. */
function withoutPassword(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    throw invalid('a store URL is malformed');
  }
}

/**
 * A Redis Cluster URL (`redis+cluster://h:p,h:p`, which `URL` cannot read: several hosts) and its
 * key prefix (`?prefix=`, the only parameter, removed from the URL the driver sees).
 */
function redisClusterLocation(
  text: string,
  fallbackPrefix: string,
): { url: string; prefix: string; label: string } {
  const [base = '', query = ''] = text.split('?', 2);
  const params = new URLSearchParams(query);
  const prefix = params.get('prefix') ?? fallbackPrefix;
  if ([...params.keys()].some((name) => name !== 'prefix'))
    throw invalid('a Redis Cluster URL takes no other parameter than prefix');
  if (!PREFIX.test(prefix))
    throw invalid(`the Redis prefix "${prefix}" must be 1 to 64 of A-Z a-z 0-9 _ . : -`);
  try {
    parseRedisClusterURL(base);
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : 'a Redis Cluster URL is malformed');
  }
  const label = base.replace(/\/\/([^@/]*:)[^@/]*@/, '//$1***@');
  return { url: base, prefix, label: `${label} (prefix ${prefix})` };
}

/** A Redis URL and its key prefix (`?prefix=`, removed from the URL the driver sees). */
function redisLocation(text: string, fallbackPrefix: string): { url: string; prefix: string; label: string } {
  if (/^rediss?\+cluster:/i.test(text)) return redisClusterLocation(text, fallbackPrefix);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('a Redis URL is malformed');
  }
  const prefix = url.searchParams.get('prefix') ?? fallbackPrefix;
  if (!PREFIX.test(prefix))
    throw invalid(`the Redis prefix "${prefix}" must be 1 to 64 of A-Z a-z 0-9 _ . : -`);
  url.searchParams.delete('prefix');
  return { url: url.toString(), prefix, label: `${withoutPassword(url.toString())} (prefix ${prefix})` };
}

/**
 * Reads a store name (see the table above). `redis` is the `--from-redis` / `--to-redis` URL.
 *
 * @example
 * parseCopyLocation('postgres://db/latchkey', { base: config, redis: 'redis://cache:6379' });
 */
export function parseCopyLocation(
  text: string,
  options: { base: LatchkeyConfig; redis?: string | undefined },
): CopyLocation {
  const { base, redis } = options;
  const stores = { store: 'auto' as const, databaseURL: null, redisURL: null };
  if (SQL_URL.test(text)) {
    if (redis !== undefined && !REDIS_URL.test(redis))
      throw invalid('--from-redis / --to-redis take a redis:// URL');
    const hot = redis === undefined ? null : redisLocation(redis, base.redisPrefix);
    const label = withoutPassword(text) + (hot === null ? '' : ` + ${hot.label}`);
    const config = { ...base, ...stores, databaseURL: text, redisURL: hot?.url ?? null };
    return { label, config: hot === null ? config : { ...config, redisPrefix: hot.prefix }, dataDir: null };
  }
  if (redis !== undefined) throw invalid('--from-redis / --to-redis go with a postgres:// or mysql:// URL');
  if (REDIS_URL.test(text)) {
    const hot = redisLocation(text, base.redisPrefix);
    const config = { ...base, ...stores, redisURL: hot.url, redisPrefix: hot.prefix };
    return { label: hot.label, config, dataDir: null };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    throw invalid(`unknown kind of store URL: ${text.split(':')[0]}://`);
  const explicit = /^(sqlite|pglite):(.+)$/.exec(text);
  const dataDir = resolve(explicit?.[2] ?? text);
  const store: StoreSetting =
    explicit?.[1] === 'sqlite' ? 'sqlite' : explicit?.[1] === 'pglite' ? 'pglite' : 'auto';
  const config: LatchkeyConfig = { ...base, ...stores, store, dataDir };
  return { label: `${chooseStore(config)} in ${dataDir}`, config, dataDir };
}

/**
 * Refuses a source data directory that holds no store of its kind (a typo would otherwise copy
 * an empty store, and create the directory).
 *
 * @example
 * assertSourceExists(source);
 */
export function assertSourceExists(location: CopyLocation): void {
  const choice = chooseStore(location.config);
  if (!isEmbeddedStore(choice)) return;
  const paths = embeddedStorePaths(location.config);
  const exists =
    choice === 'sqlite' ? existsSync(paths.sqlite) : existsSync(join(paths.pglite, 'PG_VERSION'));
  if (!exists) throw invalid(`no Latchkey store in ${location.dataDir ?? ''}: nothing to copy`);
}

/** Two names of one store (copying onto itself would only report everything as present). */
export function sameLocation(a: CopyLocation, b: CopyLocation): boolean {
  const key = (l: CopyLocation): string =>
    [
      chooseStore(l.config),
      l.dataDir ?? '',
      l.config.databaseURL ?? '',
      l.config.redisURL ?? '',
      l.config.redisPrefix,
    ].join('\n');
  return key(a) === key(b);
}

/** An open store and how to let it go (close it, then release the data-directory lock). */
export interface OpenedLocation {
  readonly store: Store;
  close(): Promise<void>;
}

/**
 * Opens a location: locks its data directory first when it is embedded (refused while a server
 * or another command has it open), then the store. A source must exist; a target is created
 * and migrated.
 *
 * @example
 * const target = await openCopyLocation(location, { role: 'target' });
 */
export async function openCopyLocation(
  location: CopyLocation,
  options: { role: 'source' | 'target' },
): Promise<OpenedLocation> {
  const embedded = isEmbeddedStore(chooseStore(location.config));
  if (options.role === 'source') assertSourceExists(location);
  const lock =
    embedded && location.dataDir !== null ? await lockDataDir(location.dataDir, { command: 'copy' }) : null;
  try {
    // No durability check: a copy serves nothing (the server checks the Redis it serves from).
    const store = await openStore(location.config, {
      migrate: options.role === 'target',
      checkDurability: false,
    });
    return {
      store,
      async close() {
        try {
          await store.close();
        } finally {
          await lock?.release();
        }
      },
    };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

async function readSecretFile(dataDir: string): Promise<string | null> {
  try {
    const value = (await readFile(join(dataDir, 'secret'), 'utf8')).trim();
    return value.length >= 32 ? value : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The master secret of a copy, and where it comes from. */
export interface CopySecret {
  readonly secret: string;
  readonly from: 'env' | 'source-file';
  /** The embedded target has no `secret` file and needs the source's (see {@link writeTargetSecret}). */
  readonly targetNeedsFile: boolean;
}

/**
 * The master secret of the copy (see the header); refuses when there is none, or when an
 * embedded target keeps another one in its `secret` file. Reads only: call it before opening
 * anything.
 *
 * @example
 * const secret = await resolveCopySecret(config, source, target);
 */
export async function resolveCopySecret(
  base: LatchkeyConfig,
  source: CopyLocation,
  target: CopyLocation,
): Promise<CopySecret> {
  if (base.secret !== null) return { secret: base.secret, from: 'env', targetNeedsFile: false };
  const secret = source.dataDir === null ? null : await readSecretFile(source.dataDir);
  if (secret === null) {
    throw invalid(
      'LATCHKEY_SECRET is not set (and the source has no data-directory secret file): set it to the ' +
        'master secret the source server runs with; signing keys and sessions depend on it',
    );
  }
  const existing = target.dataDir === null ? null : await readSecretFile(target.dataDir);
  if (existing !== null && existing !== secret) {
    throw invalid(
      `the target data directory ${target.dataDir ?? ''} has a secret file of its own, unlike the source's: ` +
        'set LATCHKEY_SECRET to the source secret for the copy and the target server',
    );
  }
  return { secret, from: 'source-file', targetNeedsFile: target.dataDir !== null && existing === null };
}

/**
 * Gives an embedded target the source's `secret` file when it needs one (see
 * {@link resolveCopySecret}); call it while the target is locked.
 *
 * @example
 * await writeTargetSecret(target, secret);
 */
export async function writeTargetSecret(target: CopyLocation, secret: CopySecret): Promise<void> {
  if (!secret.targetNeedsFile || target.dataDir === null) return;
  await mkdir(target.dataDir, { recursive: true, mode: 0o700 });
  await writeFile(join(target.dataDir, 'secret'), `${secret.secret}\n`, { mode: 0o600, flag: 'wx' });
}
