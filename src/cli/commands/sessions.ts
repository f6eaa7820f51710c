import { table, usageError, type Command } from './command.js';

/** `latchkey sessions list | revoke <email>`: the admin use cases, as the admin API calls them. */
export const sessionsCommand: Command = {
  name: 'sessions',
  usage: `  sessions list <email>      List a user's live sessions
  sessions revoke <email>    Revoke every session of a user`,
  opensCore: true,
  async run(latchkey, { sub, positionals }) {
    const email = positionals[0];
    if ((sub !== 'list' && sub !== 'revoke') || email === undefined) return usageError(sessionsCommand);
    if (sub === 'revoke') {
      const { user, revoked } = await latchkey.auth.adminRevokeSessions(email);
      console.log(`revoked ${revoked} session(s) of ${user.email}`);
      return 0;
    }
    const { sessions } = await latchkey.auth.adminListSessions(email);
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
