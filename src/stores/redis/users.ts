/**
 * Users in Redis: `P:{u:<uid>}:user` (a hash, `roles` as a JSON array), the email claim
 * `P:{e:<email>}` (the id of the user with this email; what makes an email unique), and the
 * listing `P:{users}:by-email` (`<email>\0<uid>`, all at score 0: byte order = code-point order).
 * None has a TTL.
 */

import { LatchkeyError } from '../../errors.js';
import type { UserPatch, UserRecord, UserStatus } from '../../records.js';
import type { UserStore } from '../../store.js';
import { malformed, oneOf, requiredNumber } from './codec.js';
import { duplicate, mapInChunks, type RedisContext } from './context.js';
import { createHashIfMissing, deleteIfEquals, updateHashIfExists } from './user-scripts.js';

const USER_STATUSES: readonly UserStatus[] = ['active', 'disabled'];

function encodeUser(user: UserRecord): string[] {
  return [
    'id',
    user.id,
    'email',
    user.email,
    'passwordHash',
    user.passwordHash,
    'status',
    user.status,
    'roles',
    JSON.stringify(user.roles),
    'createdAt',
    String(user.createdAt),
    'updatedAt',
    String(user.updatedAt),
    // Empty while unverified: a hash field cannot hold null.
    'emailVerifiedAt',
    user.emailVerifiedAt === null ? '' : String(user.emailVerifiedAt),
  ];
}

/**
 * The fields of a user's hash that make its record, in the order {@link decodeUserValues} takes
 * their values (the session read's script fetches them with HMGET, `./session-with-user.ts`).
 */
export const USER_FIELDS = [
  'id',
  'email',
  'passwordHash',
  'status',
  'roles',
  'createdAt',
  'updatedAt',
  'emailVerifiedAt',
] as const;

/**
 * A field's value as read: a string, or undefined when absent (HGETALL leaves it out; HMGET says
 * null, or false once a script has passed it through Lua and cjson).
 */
function fieldValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined || value === false) return undefined;
  throw malformed('user');
}

/**
 * A user from the values of {@link USER_FIELDS}, in that order, at the start of `values`; null
 * when the user is gone (no `id`).
 */
export function decodeUserValues(values: readonly unknown[]): UserRecord | null {
  const what = 'user';
  const id = fieldValue(values[0]);
  if (id === undefined) return null;
  const email = fieldValue(values[1]);
  const passwordHash = fieldValue(values[2]);
  const status = fieldValue(values[3]);
  let roles: unknown;
  try {
    roles = JSON.parse(fieldValue(values[4]) ?? '');
  } catch {
    throw malformed(what);
  }
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) throw malformed(what);
  if (email === undefined || passwordHash === undefined || status === undefined) throw malformed(what);
  const emailVerifiedAt = fieldValue(values[7]);
  return {
    id,
    email,
    passwordHash,
    status: oneOf(status, USER_STATUSES, what),
    roles,
    createdAt: requiredNumber(fieldValue(values[5]), what),
    updatedAt: requiredNumber(fieldValue(values[6]), what),
    // Absent in users written before verification existed.
    emailVerifiedAt:
      emailVerifiedAt === undefined || emailVerifiedAt === '' ? null : requiredNumber(emailVerifiedAt, what),
  };
}

/** A user from its hash (HGETALL); null when the user is gone. */
export function decodeUser(hash: Record<string, string>): UserRecord | null {
  return decodeUserValues(USER_FIELDS.map((field) => hash[field]));
}

export async function getUserById({ client, keys }: RedisContext, id: string): Promise<UserRecord | null> {
  return decodeUser(await client.hgetall(keys.user(id)));
}

async function createUser(context: RedisContext, user: UserRecord): Promise<void> {
  const { client, keys, runScript } = context;
  const emailKey = keys.email(user.email);
  const userKey = keys.user(user.id);
  const listing = `${user.email}\0${user.id}`;
  // Claim the email first: the claim is what makes the email unique.
  if ((await client.set(emailKey, user.id, 'NX')) === null) throw new LatchkeyError('email_taken');
  try {
    await client.zadd(keys.usersByEmail, 0, listing);
    const created = await runScript(createHashIfMissing, [userKey], encodeUser(user));
    if (created !== 1) throw duplicate('user');
  } catch (error) {
    // A driver error leaves the outcome unknown: undo only if the user was not written.
    if (!(error instanceof LatchkeyError)) {
      const written = await client.exists(userKey).catch(() => 1);
      if (written !== 0) throw error;
    }
    await Promise.allSettled([
      runScript(deleteIfEquals, [emailKey], [user.id]),
      client.zrem(keys.usersByEmail, listing),
    ]);
    throw error;
  }
}

async function getUserByEmail(context: RedisContext, email: string): Promise<UserRecord | null> {
  const id = await context.client.get(context.keys.email(email));
  if (id === null) return null;
  const user = await getUserById(context, id);
  return user !== null && user.email === email ? user : null;
}

/**
 * A new email: claimed first (what makes it unique), then written to the user, then the old
 * claim and listing entry dropped. Readers check that a claim points to a user who has that
 * email, so a step cut short leaves only harmless leftovers.
 */
async function changeEmail(context: RedisContext, id: string, email: string): Promise<UserRecord | null> {
  const { client, keys } = context;
  const user = await getUserById(context, id);
  if (user === null || user.email === email) return user;
  if ((await client.set(keys.email(email), id, 'NX')) === null) throw new LatchkeyError('email_taken');
  await client.zadd(keys.usersByEmail, 0, `${email}\0${id}`);
  return user;
}

async function updateUser(context: RedisContext, id: string, patch: UserPatch): Promise<boolean> {
  const previous = patch.email === undefined ? null : await changeEmail(context, id, patch.email);
  if (patch.email !== undefined && previous === null) return false;
  const fields = ['updatedAt', String(patch.updatedAt)];
  if (patch.email !== undefined) fields.push('email', patch.email);
  if (patch.passwordHash !== undefined) fields.push('passwordHash', patch.passwordHash);
  if (patch.status !== undefined) fields.push('status', patch.status);
  if (patch.roles !== undefined) fields.push('roles', JSON.stringify(patch.roles));
  if (patch.emailVerifiedAt !== undefined) {
    fields.push('emailVerifiedAt', patch.emailVerifiedAt === null ? '' : String(patch.emailVerifiedAt));
  }
  const updated = (await context.runScript(updateHashIfExists, [context.keys.user(id)], fields)) === 1;
  if (updated && previous !== null && previous.email !== patch.email) {
    await Promise.allSettled([
      context.runScript(deleteIfEquals, [context.keys.email(previous.email)], [id]),
      context.client.zrem(context.keys.usersByEmail, `${previous.email}\0${id}`),
    ]);
  }
  return updated;
}

async function listUsers(
  context: RedisContext,
  options: { limit: number; after?: string },
): Promise<UserRecord[]> {
  const { limit, after } = options;
  const page: UserRecord[] = [];
  // `<after>\x01` sorts after every `<after>\0<id>` and before every greater email.
  let min = after === undefined ? '-' : `[${after}\u0001`;
  while (page.length < limit) {
    const wanted = limit - page.length;
    const members = await context.client.zrangebylex(context.keys.usersByEmail, min, '+', 'LIMIT', 0, wanted);
    const users = await mapInChunks(members, async (member) => {
      const nul = member.indexOf('\0');
      const user = await getUserById(context, member.slice(nul + 1));
      // Skip creations in progress or undone, whose user is not (or no longer) there.
      return user !== null && user.email === member.slice(0, nul) ? user : null;
    });
    for (const user of users) if (user !== null) page.push(user);
    const last = members.at(-1);
    if (members.length < wanted || last === undefined) break;
    min = `(${last}`;
  }
  return page;
}

/**
 * The user operations of one Redis store.
 *
 * @example
 * const users = createRedisUsers(context);
 * await users.createUser(user); // rejects with email_taken when the email is claimed
 */
export function createRedisUsers(context: RedisContext): UserStore {
  const { run } = context;
  return {
    createUser: (user) => run(() => createUser(context, user)),
    getUserById: (id) => run(() => getUserById(context, id)),
    getUserByEmail: (email) => run(() => getUserByEmail(context, email)),
    updateUser: (id, patch) => run(() => updateUser(context, id, patch)),
    listUsers: (options) => run(() => listUsers(context, options)),
  };
}
