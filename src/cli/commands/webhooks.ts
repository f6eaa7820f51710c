import { isLatchkeyError } from '../../errors.js';
import { table, usageError, type Command } from './command.js';

const iso = (ms: number | null): string => (ms === null ? '' : new Date(ms).toISOString());

/** `latchkey webhooks add | list | remove | deliveries`. */
export const webhooksCommand: Command = {
  name: 'webhooks',
  usage: `  webhooks add <url> --events "<e1,e2>"
                             Register a webhook endpoint for these events (* for all);
                             prints its id and signing secret (once)
  webhooks list              List webhook endpoints
  webhooks remove <id>       Remove an endpoint and its deliveries
  webhooks deliveries <id>   An endpoint's latest deliveries (status, attempts, last answer)`,
  opensCore: true,
  async run(latchkey, { sub, positionals, values }) {
    const { webhooks } = latchkey;
    const argument = positionals[0];
    if (sub === 'add' && argument !== undefined && values.events !== undefined) {
      try {
        const { endpoint, secret } = await webhooks.add({ url: argument, events: values.events.split(',') });
        console.log(`id:     ${endpoint.id}`);
        console.log(`url:    ${endpoint.url}`);
        console.log(`events: ${endpoint.events.join(',')}`);
        console.log(`secret: ${secret}`);
        console.log('The secret is shown only now: give it to the receiver to verify signatures.');
        return 0;
      } catch (error) {
        if (!isLatchkeyError(error, 'bad_request')) throw error;
        console.error(error.message);
        return 1;
      }
    }
    if (sub === 'list') {
      const endpoints = await webhooks.list();
      console.log(
        table(
          endpoints.map((e) => ({
            id: e.id,
            url: e.url,
            events: e.events.join(','),
            created: iso(e.createdAt),
          })),
        ),
      );
      return 0;
    }
    if (sub === 'remove' && argument !== undefined) {
      if (!(await webhooks.remove(argument))) {
        console.error(`no webhook endpoint ${argument}`);
        return 1;
      }
      console.log(`webhook endpoint ${argument} removed`);
      return 0;
    }
    if (sub === 'deliveries' && argument !== undefined) {
      const deliveries = await webhooks.deliveries(argument, Number(values.limit) || 50);
      console.log(
        table(
          deliveries.map((d) => ({
            id: d.id,
            event: d.event,
            status: d.status,
            attempts: d.attempts,
            answer: d.responseStatus ?? '',
            created: iso(d.createdAt),
            settled: iso(d.settledAt),
            next: d.status === 'queued' ? iso(d.nextAttemptAt) : '',
            error: d.lastError ?? '',
          })),
        ),
      );
      return 0;
    }
    return usageError(webhooksCommand);
  },
};
