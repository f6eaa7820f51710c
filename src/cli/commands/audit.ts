import { table, usageError, type Command } from './command.js';

/** `latchkey audit list [--user <email>]`: the audit trail, as `GET /v1/admin/events` lists it. */
export const auditCommand: Command = {
  name: 'audit',
  usage: `  audit list [--user <email>] [--limit n] [--cursor c]
                             The audit trail (or one user's), newest first; prints the next cursor`,
  opensCore: true,
  async run(latchkey, { sub, values }) {
    if (sub !== 'list') return usageError(auditCommand);
    const { auth } = latchkey;
    const userId =
      values.user === undefined ? undefined : (await auth.adminDescribeUser(values.user)).user.id;
    const page = await auth.adminListEvents({
      limit: Number(values.limit) || 50,
      cursor: values.cursor,
      userId,
    });
    console.log(
      table(
        page.events.map((e) => ({
          at: new Date(e.at).toISOString(),
          event: e.event,
          user: e.userId ?? '',
          client: e.clientId ?? '',
          ip: e.ip ?? '',
          details: Object.entries(e.details)
            .map(([name, value]) => `${name}=${String(value)}`)
            .join(' ')
            .slice(0, 80),
        })),
      ),
    );
    if (page.next !== null) console.log(`next: --cursor ${page.next}`);
    return 0;
  },
};
