/**
 * The `/v1/me` JSON kept per shared session record (`meJSONOfShared`): it is the document the
 * full path sends, and a different user record (the cache read the user again while the session
 * entry stayed) never gets the JSON made for another.
 */
import { describe, expect, it } from 'vitest';
import { meDocument, meJSONOfShared } from '../../src/http/documents.js';
import type { SessionRecord, UserRecord } from '../../src/records.js';

const user: UserRecord = {
  id: 'u1',
  email: 'a@example.com',
  passwordHash: 'x',
  status: 'active',
  roles: [],
  createdAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_000,
  emailVerifiedAt: null,
};
const session: SessionRecord = {
  id: 's1',
  userId: 'u1',
  secretHash: 'h',
  mode: 'cookie',
  createdAt: 1_700_000_000_000,
  lastSeenAt: 1_700_000_000_000,
  idleExpiresAt: 1_700_001_800_000,
  absoluteExpiresAt: 1_700_600_000_000,
  userAgent: null,
  ip: null,
  revokedAt: null,
  persistent: false,
  amr: ['pwd'],
  authTime: 1_700_000_000_000,
  acr: '1',
};

describe('the /v1/me JSON of shared records', () => {
  it('is the document, serialized', () => {
    expect(JSON.parse(meJSONOfShared(user, session))).toEqual(meDocument(user, session));
    expect(meJSONOfShared(user, session)).toBe(meJSONOfShared(user, session));
  });

  it('follows the user record it is given, for the same session record', () => {
    const first = meJSONOfShared(user, session);
    const admin = { ...user, roles: ['admin'], emailVerifiedAt: 1_700_000_100_000 };
    expect(JSON.parse(meJSONOfShared(admin, session))).toEqual(meDocument(admin, session));
    expect(JSON.parse(meJSONOfShared(user, session))).toEqual(JSON.parse(first));
  });

  it('is made again for another session record of the same session (a slid expiry)', () => {
    const slid = { ...session, idleExpiresAt: session.idleExpiresAt + 60_000 };
    expect(JSON.parse(meJSONOfShared(user, slid))).toMatchObject({
      session: { expires_at: new Date(slid.idleExpiresAt).toISOString() },
    });
  });
});
