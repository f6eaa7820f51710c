import { table, usageError, type Command } from './command.js';

const words = (text: string): string[] => text.split(/\s+/).filter((word) => word !== '');

/** `latchkey clients create | list | disable`. */
export const clientsCommand: Command = {
  name: 'clients',
  usage: `  clients create <name> --scopes "<s1 s2>" --audiences "<url1 url2>"
                             Create a machine client; prints its id and secret (once)
  clients list               List machine clients
  clients disable <id>       Disable a machine client (it can no longer authenticate)`,
  opensCore: true,
  async run(latchkey, { sub, positionals, values }) {
    const { clients } = latchkey;
    const name = positionals[0];
    if (sub === 'create' && name !== undefined) {
      const audiences = values.audiences === undefined ? [latchkey.config.audience] : words(values.audiences);
      const { client, secret } = await clients.create({ name, scopes: words(values.scopes), audiences });
      console.log(`client_id:     ${client.id}`);
      console.log(`client_secret: ${secret}`);
      console.log(`scopes:        ${client.scopes.join(' ')}`);
      console.log(`audiences:     ${client.audiences.join(' ')}`);
      console.log('The secret is shown only now: store it safely. Only its hash is kept.');
      return 0;
    }
    if (sub === 'list') {
      const list = await clients.list({ limit: Number(values.limit) || 100 });
      console.log(
        table(
          list.map((c) => ({
            id: c.id,
            name: c.name,
            status: c.disabledAt === null ? 'active' : 'disabled',
            scopes: c.scopes.join(' '),
            audiences: c.audiences.join(' '),
            created: new Date(c.createdAt).toISOString(),
          })),
        ),
      );
      return 0;
    }
    if (sub === 'disable' && name !== undefined) {
      if (!(await clients.disable(name))) {
        console.error(`no client ${name}`);
        return 1;
      }
      console.log(`client ${name} is now disabled`);
      return 0;
    }
    return usageError(clientsCommand);
  },
};
