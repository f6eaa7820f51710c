import { describe, expect, it } from 'vitest';
import {
  createRevocationList,
  parseWireRevocation,
  toWireRevocation,
} from '../../src/revocation/revocation-list.js';
import type { RevocationRecord } from '../../src/records.js';
import { USER_CHANGED } from '../../src/revocation/revocations.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const TTL = 930_000;

function record(
  partial: Partial<RevocationRecord> & Pick<RevocationRecord, 'kind' | 'subject'>,
): RevocationRecord {
  return { seq: 1, issuedBefore: null, createdAt: NOW, expiresAt: NOW + TTL, ...partial };
}

const token = { sid: 'session-1', sub: 'user-1', iat: NOW / 1000 - 60, jti: 'jti-1' };

describe('revocation list', () => {
  it('refuses a token of a revoked session, and nothing else', () => {
    const list = createRevocationList();
    expect(list.isRevoked(token)).toBeNull();
    list.apply(record({ kind: 'session', subject: 'session-1' }));
    expect(list.isRevoked(token)).toBe('session');
    expect(list.isRevoked({ ...token, sid: 'session-2' })).toBeNull();
    // A machine client's token has no sid: a session revocation never matches it.
    expect(list.isRevoked({ sub: 'session-1', iat: token.iat, jti: 'x' })).toBeNull();
  });

  it('refuses a revoked jti', () => {
    const list = createRevocationList();
    list.apply(record({ kind: 'token', subject: 'jti-1' }));
    expect(list.isRevoked(token)).toBe('token');
    expect(list.isRevoked({ ...token, jti: 'jti-2' })).toBeNull();
  });

  it('refuses tokens of a user issued before the revocation, including in its very second', () => {
    const list = createRevocationList();
    const revokedAt = NOW + 400; // 12:00:00.400
    list.apply(record({ kind: 'user', subject: 'user-1', issuedBefore: revokedAt }));
    const iat = (seconds: number): number => Math.floor(NOW / 1000) + seconds;
    expect(list.isRevoked({ ...token, iat: iat(-60) })).toBe('user');
    expect(list.isRevoked({ ...token, iat: iat(-1) })).toBe('user');
    // Issued at 12:00:00.xxx, before or after .400: a second's resolution cannot tell, so refused.
    expect(list.isRevoked({ ...token, iat: iat(0) })).toBe('user');
    expect(list.isRevoked({ ...token, iat: iat(1) })).toBeNull();
    // A fractional iat in the revocation's second is refused too.
    expect(list.isRevoked({ ...token, iat: iat(0) + 0.9 })).toBe('user');
    expect(list.isRevoked({ ...token, iat: Number.NaN })).toBe('user');
    expect(list.isRevoked({ ...token, sub: 'user-2', iat: iat(-60) })).toBeNull();
  });

  it('refuses no token on a user-changed notice (issuedBefore 0), which survives the wire, and keeps a real revocation', () => {
    const list = createRevocationList();
    const notice = parseWireRevocation(
      JSON.parse(
        JSON.stringify(
          toWireRevocation(record({ kind: 'user', subject: 'user-1', issuedBefore: USER_CHANGED })),
        ),
      ),
    );
    expect(notice?.issuedBefore).toBe(0);
    list.apply(notice as RevocationRecord);
    expect(list.isRevoked(token)).toBeNull();
    expect(list.isRevoked({ ...token, iat: 1 })).toBeNull();
    list.apply(record({ seq: 2, kind: 'user', subject: 'user-1', issuedBefore: NOW }));
    list.apply(record({ seq: 3, kind: 'user', subject: 'user-1', issuedBefore: USER_CHANGED }));
    expect(list.isRevoked(token)).toBe('user');
  });

  it('handles a revocation at an exact second boundary', () => {
    const list = createRevocationList();
    list.apply(record({ kind: 'user', subject: 'user-1', issuedBefore: NOW }));
    expect(list.isRevoked({ ...token, iat: NOW / 1000 })).toBe('user');
    expect(list.isRevoked({ ...token, iat: NOW / 1000 + 1 })).toBeNull();
  });

  it('is idempotent and merges records of one subject conservatively', () => {
    const list = createRevocationList();
    const first = record({
      seq: 5,
      kind: 'user',
      subject: 'user-1',
      issuedBefore: NOW,
      expiresAt: NOW + 1000,
    });
    const later = record({
      seq: 9,
      kind: 'user',
      subject: 'user-1',
      issuedBefore: NOW + 5000,
      expiresAt: NOW + 6000,
    });
    list.apply(later);
    list.apply(first);
    list.apply(first);
    expect(list.size).toBe(1);
    expect(list.lastSeq).toBe(9);
    expect(list.isRevoked({ ...token, iat: (NOW + 5000) / 1000 })).toBe('user');
    // The earlier record's expiry does not shorten the later one.
    expect(list.prune(NOW + 1000)).toBe(0);
    expect(list.isRevoked({ ...token, iat: (NOW + 5000) / 1000 })).toBe('user');
  });

  it('prunes by expiresAt', () => {
    const list = createRevocationList();
    list.apply(record({ seq: 1, kind: 'session', subject: 's1', expiresAt: NOW + 10 }));
    list.apply(record({ seq: 2, kind: 'token', subject: 'j1', expiresAt: NOW + 20 }));
    list.apply(record({ seq: 3, kind: 'user', subject: 'u1', issuedBefore: NOW, expiresAt: NOW + 30 }));
    expect(list.size).toBe(3);
    expect(list.prune(NOW + 9)).toBe(0);
    expect(list.prune(NOW + 10)).toBe(1);
    expect(list.prune(NOW + 30)).toBe(2);
    expect(list.size).toBe(0);
    expect(list.lastSeq).toBe(3);
    list.clear();
    expect(list.lastSeq).toBe(0);
  });

  // How fast a lookup is, at 10 and at 100 000 records, is the bench's: bench/revocation-lag.ts.
  it('answers every lookup right in a list of 100 000 records', () => {
    const list = createRevocationList();
    for (let i = 0; i < 100_000; i++) list.apply(record({ seq: i + 1, kind: 'session', subject: `s${i}` }));
    expect(list.size).toBe(100_000);
    let hits = 0;
    for (let i = 0; i < 100_000; i++) if (list.isRevoked({ ...token, sid: `s${i * 2}` }) !== null) hits++;
    expect(hits).toBe(50_000);
    expect(list.isRevoked({ ...token, sid: 's99999' })).toBe('session');
    expect(list.isRevoked({ ...token, sid: 's100000' })).toBeNull();
  });
});

describe('wire format', () => {
  it('round-trips a record', () => {
    const original = record({ seq: 7, kind: 'user', subject: 'u', issuedBefore: NOW });
    const wire = JSON.parse(JSON.stringify(toWireRevocation(original))) as unknown;
    expect(wire).toEqual({
      seq: 7,
      kind: 'user',
      subject: 'u',
      issued_before: NOW,
      created_at: NOW,
      expires_at: NOW + TTL,
    });
    expect(parseWireRevocation(wire)).toEqual(original);
  });

  it('refuses anything malformed', () => {
    const good = toWireRevocation(record({ seq: 7, kind: 'session', subject: 's' }));
    for (const bad of [
      null,
      [],
      'x',
      { ...good, seq: 0 },
      { ...good, seq: 1.5 },
      { ...good, seq: '7' },
      { ...good, kind: 'everyone' },
      { ...good, subject: '' },
      { ...good, subject: 'x'.repeat(257) },
      { ...good, expires_at: 'soon' },
      { ...good, created_at: -1 },
      { ...good, issued_before: 'yesterday' },
      { ...good, kind: 'user', issued_before: null },
    ]) {
      expect(parseWireRevocation(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});
