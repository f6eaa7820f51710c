import { table, usageError, type Command } from './command.js';

/** `latchkey sessions list | revoke <email>`. */
export const sessionsCommand: Command = {
  name: 'sessions',
  usage: `  sessions list <email>      List a user's live sessions
  sessions revoke <email>    Revoke every session of a user`,
  opensCore: true,
  async run(latchkey, { sub, positionals }) {
    const email = positionals[0];
    if ((sub !== 'list' && sub !== 'revoke') || email === undefined) return usageError(sessionsCommand);
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
  },
};
