import { table, usageError, type Command } from './command.js';

/** `latchkey users list | disable | enable`. */
export const usersCommand: Command = {
  name: 'users',
  usage: `  users list                 List users
  users disable <email>      Disable a user and revoke all their sessions and tokens
  users enable <email>       Enable a disabled user`,
  opensCore: true,
  async run(latchkey, { sub, positionals, values }) {
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
    return usageError(usersCommand);
  },
};
