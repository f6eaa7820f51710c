import { table, usageError, type Command } from './command.js';

/** `latchkey users list | disable | enable | roles | verify | reset-link`. */
export const usersCommand: Command = {
  name: 'users',
  usage: `  users list [--search <text>]
                             List users (whose email contains the text)
  users show <email>         A user, with their live sessions and factors counted
  users disable <email>      Disable a user and revoke all their sessions and tokens
  users enable <email>       Enable a disabled user
  users roles <email> [a,b]  Set a user's roles (none without a list); revokes their access tokens
  users verify <email>       Mark a user's email address verified
  users reset-link <email>   Print a password reset link for a user (not mailed)`,
  opensCore: true,
  async run(latchkey, { sub, positionals, values }) {
    const email = positionals[0];
    if (sub === 'list') {
      const { users } = await latchkey.auth.adminListUsers({
        limit: Number(values.limit) || 100,
        emailContains: values.search,
      });
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
    if (sub === 'show' && email !== undefined) {
      const { user, sessions, factors } = await latchkey.auth.adminDescribeUser(email);
      console.log(`id:       ${user.id}`);
      console.log(`email:    ${user.email}${user.emailVerifiedAt === null ? '' : ' (verified)'}`);
      console.log(`status:   ${user.status}`);
      console.log(`roles:    ${user.roles.length === 0 ? '(none)' : user.roles.join(', ')}`);
      console.log(`sessions: ${sessions}`);
      console.log(`factors:  ${factors.totp} TOTP, ${factors.passkeys} passkey(s)`);
      return 0;
    }
    if ((sub === 'disable' || sub === 'enable') && email !== undefined) {
      const user = await latchkey.auth.setUserStatus(email, sub === 'disable' ? 'disabled' : 'active');
      console.log(`${user.email} is now ${user.status}`);
      return 0;
    }
    if (sub === 'roles' && email !== undefined && positionals.length <= 2) {
      const user = await latchkey.auth.setUserRoles(email, (positionals[1] ?? '').split(','));
      console.log(`${user.email} has roles: ${user.roles.length === 0 ? '(none)' : user.roles.join(', ')}`);
      return 0;
    }
    if (sub === 'verify' && email !== undefined) {
      const user = await latchkey.auth.markVerified(email);
      console.log(`${user.email} is verified`);
      return 0;
    }
    if (sub === 'reset-link' && email !== undefined) {
      console.log(await latchkey.auth.createResetLink(email));
      return 0;
    }
    return usageError(usersCommand);
  },
};
