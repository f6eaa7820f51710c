/**
 * The in-memory revocation list a resource service keeps: every live revocation record the
 * auth server pushed, indexed for O(1) lookups on the hot path of every request.
 *
 * Core code: no I/O, no clock of its own (callers pass `now`), no framework. The same module
 * holds the wire format of a record (`toWireRevocation` / `parseWireRevocation`), shared by
 * the server's feed and the SDK that reads it.
 *
 * @see ../records.ts `RevocationRecord`
 */

import type { RevocationKind, RevocationRecord } from '../records.js';

/** The claims of a verified access token that a revocation can match. */
export interface RevocationCheck {
  /** Session id (`sid`); absent for machine clients. */
  readonly sid?: string | undefined;
  /** User id (`sub`). */
  readonly sub: string;
  /** Issued at, in seconds (NumericDate). */
  readonly iat: number;
  /** Token id (`jti`). */
  readonly jti: string;
}

/** Why a token is revoked: the kind of the record that matched. */
export type RevocationMatch = RevocationKind;

export interface RevocationList {
  /**
   * Adds a record. Idempotent (the feed delivers at least once): applying a record twice, or
   * an older record after a newer one of the same subject, changes nothing.
   */
  apply(record: RevocationRecord): void;
  /**
   * The kind of revocation that refuses this token, or null. A user-wide revocation refuses
   * every token whose `iat` falls in or before the second of `issuedBefore`: `iat` has a
   * resolution of one second, so a token issued in the same second as the revocation cannot
   * be told apart from one issued just before it, and is refused.
   */
  isRevoked(token: RevocationCheck): RevocationMatch | null;
  /** Forgets records whose `expiresAt` is at or before `now`; returns how many were removed. */
  prune(now: number): number;
  /** The highest `seq` applied, 0 when none. */
  readonly lastSeq: number;
  /** Live entries (after merging records of the same subject). */
  readonly size: number;
  /** Forgets everything. */
  clear(): void;
}

interface UserEntry {
  issuedBefore: number;
  expiresAt: number;
}

/**
 * Creates an empty revocation list.
 *
 * Records of the same subject are merged conservatively (the latest `expiresAt`; for users,
 * the latest `issuedBefore`), so each lookup is one `Map.get` per kind.
 *
 * @example
 * const list = createRevocationList();
 * list.apply({ seq: 1, kind: 'session', subject: sid, issuedBefore: null, createdAt: now, expiresAt: now + 930_000 });
 * list.isRevoked({ sid, sub, iat, jti }); // 'session'
 * list.prune(Date.now());
 * @see https://www.rfc-editor.org/rfc/rfc7009 OAuth 2.0 Token Revocation (the problem it solves for JWTs)
 */
export function createRevocationList(): RevocationList {
  const sessions = new Map<string, number>();
  const tokens = new Map<string, number>();
  const users = new Map<string, UserEntry>();
  let lastSeq = 0;

  function keepLatest(map: Map<string, number>, subject: string, expiresAt: number): void {
    const known = map.get(subject);
    if (known === undefined || expiresAt > known) map.set(subject, expiresAt);
  }

  function pruneMap<T>(map: Map<string, T>, expiry: (value: T) => number, now: number): number {
    let removed = 0;
    for (const [subject, value] of map) {
      if (expiry(value) <= now) {
        map.delete(subject);
        removed += 1;
      }
    }
    return removed;
  }

  return {
    apply(record) {
      switch (record.kind) {
        case 'session':
          keepLatest(sessions, record.subject, record.expiresAt);
          break;
        case 'token':
          keepLatest(tokens, record.subject, record.expiresAt);
          break;
        case 'user': {
          // A user record without issuedBefore revokes everything issued until it expires.
          const issuedBefore = record.issuedBefore ?? record.expiresAt;
          const known = users.get(record.subject);
          if (known === undefined) {
            users.set(record.subject, { issuedBefore, expiresAt: record.expiresAt });
          } else {
            known.issuedBefore = Math.max(known.issuedBefore, issuedBefore);
            known.expiresAt = Math.max(known.expiresAt, record.expiresAt);
          }
          break;
        }
      }
      if (record.seq > lastSeq) lastSeq = record.seq;
    },
    isRevoked({ sid, sub, iat, jti }) {
      if (sid !== undefined && sessions.has(sid)) return 'session';
      if (tokens.has(jti)) return 'token';
      const user = users.get(sub);
      // Conservative at the second: floor(iat) * 1000 <= issuedBefore refuses a token issued
      // anywhere in the revocation's second (and a non-number iat is refused outright).
      if (user !== undefined && !(Math.floor(iat) * 1000 > user.issuedBefore)) return 'user';
      return null;
    },
    prune(now) {
      return (
        pruneMap(sessions, (expiresAt) => expiresAt, now) +
        pruneMap(tokens, (expiresAt) => expiresAt, now) +
        pruneMap(users, (entry) => entry.expiresAt, now)
      );
    },
    get lastSeq() {
      return lastSeq;
    },
    get size() {
      return sessions.size + tokens.size + users.size;
    },
    clear() {
      sessions.clear();
      tokens.clear();
      users.clear();
      lastSeq = 0;
    },
  };
}

/**
 * A revocation record as sent over the wire (the SSE feed and the snapshot endpoint): snake
 * case, times in milliseconds since the epoch.
 */
export interface WireRevocation {
  readonly seq: number;
  readonly kind: RevocationKind;
  readonly subject: string;
  readonly issued_before: number | null;
  readonly created_at: number;
  readonly expires_at: number;
}

const KINDS: ReadonlySet<string> = new Set<RevocationKind>(['session', 'user', 'token']);
const MAX_SUBJECT_LENGTH = 256;

/**
 * The wire form of a record.
 *
 * @example
 * JSON.stringify(toWireRevocation(record)); // {"seq":7,"kind":"session","subject":"...",...}
 * @see parseWireRevocation
 */
export function toWireRevocation(record: RevocationRecord): WireRevocation {
  return {
    seq: record.seq,
    kind: record.kind,
    subject: record.subject,
    issued_before: record.issuedBefore,
    created_at: record.createdAt,
    expires_at: record.expiresAt,
  };
}

/**
 * Reads a wire record back, checking every member; null for anything malformed, so that a
 * feed never applies half a record.
 *
 * @example
 * const record = parseWireRevocation(JSON.parse(event.data));
 * if (record !== null) list.apply(record);
 * @see toWireRevocation
 */
export function parseWireRevocation(value: unknown): RevocationRecord | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const {
    seq,
    kind,
    subject,
    issued_before: issuedBefore,
    created_at: createdAt,
    expires_at: expiresAt,
  } = value as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return null;
  if (typeof kind !== 'string' || !KINDS.has(kind)) return null;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) return null;
  if (issuedBefore !== null && !isTime(issuedBefore)) return null;
  if (kind === 'user' && issuedBefore === null) return null;
  if (!isTime(createdAt) || !isTime(expiresAt)) return null;
  return { seq, kind: kind as RevocationKind, subject, issuedBefore, createdAt, expiresAt };
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
