import { table, usageError, type Command } from './command.js';

/** `latchkey keys list | rotate [--now]`. */
export const keysCommand: Command = {
  name: 'keys',
  usage: `  keys list                  List signing keys and their state
  keys rotate [--now]        Create a new signing key (published first; --now signs at once)`,
  opensCore: true,
  async run(latchkey, { sub, values }) {
    if (sub === 'list') {
      console.log(
        table(
          latchkey.keyring.list().map((k) => ({
            kid: k.kid,
            alg: k.alg,
            state: k.state,
            created: new Date(k.createdAt).toISOString(),
            activates: new Date(k.activatesAt).toISOString(),
            retired: k.retiredAt === null ? '' : new Date(k.retiredAt).toISOString(),
            expires: k.expiresAt === null ? '' : new Date(k.expiresAt).toISOString(),
          })),
        ),
      );
      return 0;
    }
    if (sub === 'rotate') {
      const key = await latchkey.keyring.rotate({ immediate: values.now });
      console.log(
        `new key ${key.kid} (${key.alg}) published; signs from ${new Date(key.activatesAt).toISOString()}`,
      );
      return 0;
    }
    return usageError(keysCommand);
  },
};
