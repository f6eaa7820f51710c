/**
 * `latchkey copy`: everything a deployment needs, from one open store to another, whatever
 * their backends. Users (with their password hashes and second factors: `./copy-factors.ts`), signing keys (still encrypted: both sides
 * must run with the same master secret, which is checked first), machine clients and the live
 * revocations; with `sessions`, the live sessions and their refresh-token families too
 * (`./copy-sessions.ts`), so that a signed-in browser and a refresh token keep working.
 *
 * Writes go through the store contract, as a server's would, so the target's own rules hold
 * (unique emails, the Redis key layout and its indexes). Reading everything out, and writing a
 * revocation with its own seq, go through the narrow transfer interface (`../store-transfer.ts`).
 *
 * Idempotent: a record already on the target as it is on the source counts as `present`; one
 * that moved on since (a later password change, a retired key, a disabled client) is `updated`
 * when the source holds the newer state; one that cannot be reconciled (the same email under
 * another user id, the same kid with other key material) is a `conflict`, left as it is on the
 * target and reported. Nothing is ever deleted from the target.
 */

import type { ClientRecord, SigningKeyRecord, UserRecord } from '../records.js';
import { LatchkeyError } from '../errors.js';
import { fromSigningKeyRecord } from '../keys/key-material.js';
import { deriveKey } from '../lib/secrets.js';
import type { Store } from '../store.js';
import { storeTransferOf, type StoreTransfer } from '../store-transfer.js';
import { copyUserFactors } from './copy-factors.js';
import { copyRevocations, copySessions } from './copy-sessions.js';
import { forEachConcurrently } from './concurrently.js';

/** The record kinds `copy` moves, in the order it moves them. */
export const COPY_KINDS = [
  'users',
  'factors',
  'keys',
  'clients',
  'sessions',
  'refreshTokens',
  'revocations',
] as const;
export type CopyKind = (typeof COPY_KINDS)[number];

/** What happened to the records of one kind. */
export interface CopyCounts {
  /** Written to the target. */
  created: number;
  /** On the target already, and brought up to the source's newer state. */
  updated: number;
  /** On the target already, as on the source (or newer there). */
  present: number;
  /** On the target already, differently, and left alone (see the report's `conflicts`). */
  conflicts: number;
  /** Not copied because they no longer matter (expired, revoked, a conflicting user's). */
  skipped: number;
}

export interface CopyReport {
  counts: Record<CopyKind, CopyCounts>;
  /** One line per conflict, naming the record (ids and emails, never a hash or a secret). */
  conflicts: string[];
}

export interface CopyOptions {
  source: Store;
  target: Store;
  /** The master secret both sides run with (signing keys are encrypted with it). */
  secret: string;
  /** Copy live sessions and their refresh tokens too. */
  sessions: boolean;
  /** The time that decides what is live (default: now). */
  now?: number;
  /** Records read per page (default 500). */
  batchSize?: number;
  /** Called after every page, with the counts so far of the kind being copied. */
  onProgress?: (kind: CopyKind, counts: CopyCounts) => void;
}

/** What the copy of one kind works with (shared with `./copy-sessions.ts`). */
export interface CopyRun {
  readonly source: Store;
  readonly target: Store;
  readonly sourceTransfer: StoreTransfer;
  readonly targetTransfer: StoreTransfer;
  readonly now: number;
  readonly batchSize: number;
  readonly report: CopyReport;
  /** Users left alone on the target (a conflict): their sessions are not copied. */
  readonly conflictingUsers: Set<string>;
  /** Counts one outcome and, at the end of a page, reports progress. */
  count(kind: CopyKind, outcome: keyof CopyCounts): void;
  progress(kind: CopyKind): void;
  conflict(kind: CopyKind, line: string): void;
}

function transferOf(store: Store, side: 'source' | 'target'): StoreTransfer {
  const transfer = storeTransferOf(store);
  if (transfer === null) {
    throw new LatchkeyError('config_invalid', `The ${side} store (${store.kind}) cannot be copied`);
  }
  return transfer;
}

/**
 * Refuses, before anything is written, when a signing key of either side cannot be opened with
 * `secret`: the target would hold keys it cannot sign with.
 */
async function checkKeys(source: Store, target: Store, secret: string): Promise<void> {
  const encryptionKey = deriveKey(Buffer.from(secret, 'utf8'), 'signing-keys');
  for (const [side, store] of [
    ['source', source],
    ['target', target],
  ] as const) {
    for (const key of await store.listKeys()) {
      try {
        fromSigningKeyRecord(key, encryptionKey);
      } catch (cause) {
        throw new LatchkeyError(
          'config_invalid',
          `signing key ${key.kid} of the ${side} store cannot be decrypted with this master secret: ` +
            'run copy with the LATCHKEY_SECRET the source server used (for a data directory without ' +
            'LATCHKEY_SECRET, the one in its `secret` file); nothing was copied',
          { cause },
        );
      }
    }
  }
}

function sameUser(a: UserRecord, b: UserRecord): boolean {
  return (
    a.email === b.email &&
    a.passwordHash === b.passwordHash &&
    a.status === b.status &&
    a.roles.join('\n') === b.roles.join('\n') &&
    a.createdAt === b.createdAt &&
    a.updatedAt === b.updatedAt
  );
}

async function copyUser(run: CopyRun, user: UserRecord): Promise<void> {
  const { target } = run;
  const existing = await target.getUserById(user.id);
  if (existing === null) {
    const holder = await target.getUserByEmail(user.email);
    if (holder !== null) {
      run.conflictingUsers.add(user.id);
      run.conflict('users', `${user.email}: the target has this email under another user id`);
      return;
    }
    await target.createUser(user);
    run.count('users', 'created');
  } else if (sameUser(existing, user) || existing.updatedAt > user.updatedAt) {
    run.count('users', 'present');
  } else if (existing.email !== user.email) {
    run.conflictingUsers.add(user.id);
    run.conflict('users', `${user.email}: the target has user ${user.id} under another email`);
  } else {
    const { passwordHash, status, roles, updatedAt } = user;
    await target.updateUser(user.id, { passwordHash, status, roles, updatedAt });
    run.count('users', 'updated');
  }
  await copyUserFactors(run, user.id);
}

async function copyUsers(run: CopyRun): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const page = await run.source.listUsers({
      limit: run.batchSize,
      ...(after === undefined ? {} : { after }),
    });
    await forEachConcurrently(page, (user) => copyUser(run, user));
    run.progress('users');
    const last = page.at(-1);
    if (last === undefined || page.length < run.batchSize) return;
    after = last.email;
  }
}

function sameKeyMaterial(a: SigningKeyRecord, b: SigningKeyRecord): boolean {
  return (
    a.alg === b.alg &&
    a.publicJwk === b.publicJwk &&
    a.createdAt === b.createdAt &&
    a.activatesAt === b.activatesAt
  );
}

async function copyKeys(run: CopyRun): Promise<void> {
  const onTarget = new Map((await run.target.listKeys()).map((key) => [key.kid, key]));
  for (const key of await run.source.listKeys()) {
    const existing = onTarget.get(key.kid);
    if (key.expiresAt !== null && key.expiresAt <= run.now) {
      run.count('keys', 'skipped');
    } else if (existing === undefined) {
      await run.target.insertKey(key);
      run.count('keys', 'created');
    } else if (!sameKeyMaterial(existing, key)) {
      run.conflict('keys', `${key.kid}: the target has another key under this kid`);
    } else if (existing.retiredAt === key.retiredAt && existing.expiresAt === key.expiresAt) {
      run.count('keys', 'present');
    } else if (existing.retiredAt !== null && key.retiredAt === null) {
      run.count('keys', 'present'); // retired on the target since: keep the newer state
    } else {
      await run.target.updateKey(key.kid, { retiredAt: key.retiredAt, expiresAt: key.expiresAt });
      run.count('keys', 'updated');
    }
  }
  run.progress('keys');
}

function sameClient(a: ClientRecord, b: ClientRecord): boolean {
  return (
    a.name === b.name &&
    a.secretHash === b.secretHash &&
    a.scopes.join(' ') === b.scopes.join(' ') &&
    a.audiences.join(' ') === b.audiences.join(' ') &&
    a.createdAt === b.createdAt
  );
}

async function copyClient(run: CopyRun, client: ClientRecord): Promise<void> {
  const existing = await run.target.getClient(client.id);
  if (existing === null) {
    await run.target.createClient(client);
    run.count('clients', 'created');
  } else if (!sameClient(existing, client)) {
    run.conflict('clients', `${client.id}: the target has another client under this id`);
  } else if (existing.disabledAt === client.disabledAt || existing.disabledAt !== null) {
    run.count('clients', 'present');
  } else {
    await run.target.updateClient(client.id, { disabledAt: client.disabledAt });
    run.count('clients', 'updated');
  }
}

async function copyClients(run: CopyRun): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const page = await run.source.listClients({
      limit: run.batchSize,
      ...(after === undefined ? {} : { after }),
    });
    await forEachConcurrently(page, (client) => copyClient(run, client));
    run.progress('clients');
    const last = page.at(-1);
    if (last === undefined || page.length < run.batchSize) return;
    after = last.id;
  }
}

function emptyCounts(): CopyCounts {
  return { created: 0, updated: 0, present: 0, conflicts: 0, skipped: 0 };
}

/**
 * Copies `source` into `target` (both open; the target migrated). Rejects with
 * `config_invalid` before writing anything when a signing key does not open with `secret`.
 *
 * @example
 * const report = await copyStore({ source, target, secret, sessions: true });
 * report.counts.users; // { created: 12, updated: 0, present: 0, conflicts: 0, skipped: 0 }
 */
export async function copyStore(options: CopyOptions): Promise<CopyReport> {
  const { source, target } = options;
  const sourceTransfer = transferOf(source, 'source');
  const targetTransfer = transferOf(target, 'target');
  await checkKeys(source, target, options.secret);
  const report: CopyReport = {
    counts: Object.fromEntries(COPY_KINDS.map((kind) => [kind, emptyCounts()])) as Record<
      CopyKind,
      CopyCounts
    >,
    conflicts: [],
  };
  const run: CopyRun = {
    source,
    target,
    sourceTransfer,
    targetTransfer,
    now: options.now ?? Date.now(),
    batchSize: options.batchSize ?? 500,
    report,
    conflictingUsers: new Set(),
    count: (kind, outcome) => {
      report.counts[kind][outcome] += 1;
    },
    progress: (kind) => options.onProgress?.(kind, { ...report.counts[kind] }),
    conflict: (kind, line) => {
      report.counts[kind].conflicts += 1;
      report.conflicts.push(`${kind}: ${line}`);
    },
  };
  await copyUsers(run);
  await copyKeys(run);
  await copyClients(run);
  if (options.sessions) await copySessions(run);
  await copyRevocations(run);
  return report;
}
