/**
 * The short-lived half of `latchkey copy` (`./copy.ts`): live sessions with their refresh-token
 * families, and live revocations.
 *
 * Sessions are read a page at a time through the transfer interface, and each page's refresh
 * tokens with it, so that memory stays bounded by a page whatever the number of sessions. A
 * session keeps its id and secret hash, so its cookie (`id.secret`) opens it on the target.
 *
 * A family is rebuilt on the target as it grew on the source: its oldest live token is created,
 * then each rotation is replayed with the store's own compare-and-set (`rotateRefreshToken`,
 * with the source's `rotatedAt`). Every store then holds the chain its own way (Redis keeps a
 * rotation apart from the token), and on the target, as on the source, the current token
 * rotates, a replay within the grace window converges on the same successor, and a replay after
 * it is reuse, which revokes the session. A rotated token whose successor is gone (expired) is
 * not copied: on the target it is unknown, and refused.
 *
 * Revocations keep their seq (`importRevocation`), so that a resource service that resumes the
 * feed from the position it reached on the source misses nothing.
 */

import { isSessionLive, type RefreshTokenRecord, type SessionRecord } from '../records.js';
import { forEachConcurrently } from './concurrently.js';
import type { CopyCounts, CopyRun } from './copy.js';

function unrotated(token: RefreshTokenRecord): RefreshTokenRecord {
  return { ...token, rotatedAt: null, successorId: null };
}

function sameToken(a: RefreshTokenRecord, b: RefreshTokenRecord): boolean {
  return (
    a.sessionId === b.sessionId &&
    a.secretHash === b.secretHash &&
    a.createdAt === b.createdAt &&
    a.expiresAt === b.expiresAt
  );
}

/** Copies one live session; true when the target now holds it live (its tokens may follow). */
async function copySession(run: CopyRun, session: SessionRecord): Promise<boolean> {
  const { target } = run;
  const existing = await target.getSession(session.id);
  if (existing === null) {
    await target.createSession(session);
    run.count('sessions', 'created');
    return true;
  }
  if (existing.userId !== session.userId || existing.secretHash !== session.secretHash) {
    run.conflict('sessions', `${session.id}: the target has another session under this id`);
    return false;
  }
  if (existing.revokedAt !== null) {
    run.count('sessions', 'present'); // revoked on the target since: it stays revoked
    return false;
  }
  if (existing.lastSeenAt < session.lastSeenAt || existing.idleExpiresAt < session.idleExpiresAt) {
    const { lastSeenAt, idleExpiresAt } = session;
    await target.touchSession(session.id, { lastSeenAt, idleExpiresAt });
    run.count('sessions', 'updated');
  } else {
    run.count('sessions', 'present');
  }
  return true;
}

type Outcome = keyof CopyCounts;

/**
 * Ensures the first token of a chain is on the target; its outcome, or null when it was not
 * (a conflict, counted; or a rotated token whose successor is gone, skipped).
 */
async function startChain(
  run: CopyRun,
  root: RefreshTokenRecord,
  byId: Map<string, RefreshTokenRecord>,
): Promise<{ outcome: Outcome; held: RefreshTokenRecord } | null> {
  const held = await run.target.getRefreshToken(root.id);
  if (held !== null) {
    if (sameToken(held, root)) return { outcome: 'present', held };
    run.conflict('refreshTokens', `${root.id}: the target has another refresh token under this id`);
    return null;
  }
  if (root.rotatedAt !== null && !byId.has(root.successorId ?? '')) {
    run.count('refreshTokens', 'skipped');
    return null;
  }
  await run.target.createRefreshToken(unrotated(root));
  return { outcome: 'created', held: unrotated(root) };
}

/** Copies a chain of tokens from `root` (no live token points to it) to the current one. */
async function copyChain(
  run: CopyRun,
  root: RefreshTokenRecord,
  byId: Map<string, RefreshTokenRecord>,
): Promise<void> {
  const started = await startChain(run, root, byId);
  if (started === null) return;
  let { outcome, held } = started;
  let token = root;
  for (;;) {
    const next = token.rotatedAt === null ? undefined : byId.get(token.successorId ?? '');
    if (next === undefined || token.rotatedAt === null) {
      run.count('refreshTokens', outcome);
      return;
    }
    let nextHeld = await run.target.getRefreshToken(next.id);
    let nextOutcome: Outcome = 'present';
    if (held.rotatedAt === null) {
      // Rotated on the source since the last copy (or just created here): replay the rotation.
      const rotated =
        nextHeld === null &&
        (await run.target.rotateRefreshToken(token.id, unrotated(next), token.rotatedAt));
      if (!rotated) {
        run.conflict('refreshTokens', `${token.id}: cannot mark it rotated on the target`);
        return;
      }
      run.count('refreshTokens', outcome === 'created' ? 'created' : 'updated');
      nextHeld = unrotated(next);
      nextOutcome = 'created';
    } else if (held.successorId !== next.id) {
      run.conflict('refreshTokens', `${token.id}: rotated to another token on the target`);
      return;
    } else {
      run.count('refreshTokens', outcome);
      if (nextHeld === null) {
        await run.target.createRefreshToken(unrotated(next));
        nextHeld = unrotated(next);
        nextOutcome = 'created';
      } else if (!sameToken(nextHeld, next)) {
        run.conflict('refreshTokens', `${next.id}: the target has another refresh token under this id`);
        return;
      }
    }
    token = next;
    held = nextHeld;
    outcome = nextOutcome;
  }
}

/** Copies the live refresh tokens of one session (its family). */
async function copyFamily(run: CopyRun, tokens: RefreshTokenRecord[]): Promise<void> {
  const live = tokens.filter((token) => token.expiresAt > run.now);
  for (let skipped = tokens.length - live.length; skipped > 0; skipped -= 1)
    run.count('refreshTokens', 'skipped');
  const byId = new Map(live.map((token) => [token.id, token]));
  const pointedTo = new Set(live.map((token) => token.successorId));
  for (const root of live.filter((token) => !pointedTo.has(token.id))) await copyChain(run, root, byId);
}

/** Copies the refresh tokens of these sessions, at most 500 sessions per read. */
async function copyFamilies(run: CopyRun, sessionIds: string[]): Promise<void> {
  for (let start = 0; start < sessionIds.length; start += 500) {
    const tokens = await run.sourceTransfer.exportRefreshTokens(sessionIds.slice(start, start + 500));
    const bySession = new Map<string, RefreshTokenRecord[]>();
    for (const token of tokens) {
      const family = bySession.get(token.sessionId) ?? [];
      family.push(token);
      bySession.set(token.sessionId, family);
    }
    await forEachConcurrently([...bySession.values()], (family) => copyFamily(run, family));
  }
}

/**
 * Copies every live session (not revoked, not expired, of a user the target holds) and its
 * refresh tokens, a page at a time.
 *
 * @example
 * await copySessions(run);
 */
export async function copySessions(run: CopyRun): Promise<void> {
  let cursor: string | null = null;
  do {
    const page = await run.sourceTransfer.exportSessions({ cursor, limit: run.batchSize });
    const copied: string[] = [];
    await forEachConcurrently(page.records, async (session) => {
      if (!isSessionLive(session, run.now) || run.conflictingUsers.has(session.userId)) {
        run.count('sessions', 'skipped');
      } else if (await copySession(run, session)) {
        copied.push(session.id);
      }
    });
    await copyFamilies(run, copied);
    run.progress('sessions');
    cursor = page.cursor;
  } while (cursor !== null);
  run.progress('refreshTokens');
}

/**
 * Copies the revocations that have not expired, each with its seq.
 *
 * @example
 * await copyRevocations(run);
 */
export async function copyRevocations(run: CopyRun): Promise<void> {
  let afterSeq: number | undefined;
  for (;;) {
    const page = await run.source.listRevocations({
      now: run.now,
      limit: run.batchSize,
      ...(afterSeq === undefined ? {} : { afterSeq }),
    });
    for (const record of page) {
      const outcome = await run.targetTransfer.importRevocation(record);
      if (outcome === 'conflict') {
        run.conflict('revocations', `seq ${record.seq}: the target has another revocation under this seq`);
      } else {
        run.count('revocations', outcome);
      }
    }
    run.progress('revocations');
    const last = page.at(-1);
    if (last === undefined || page.length < run.batchSize) return;
    afterSeq = last.seq;
  }
}
