/**
 * Throttling of the endpoints that send mail (reset, verification, sign-in links, sign-up under
 * `required`), per client and per address, with a 429 and `Retry-After`:
 *
 * - per client address (IPv6: its /64): `perClient` requests per `clientWindow`, all flows and
 *   addresses together. Stops one source from mailing many people (spam through us) and from
 *   enumerating by timing at scale.
 * - per address and flow: `perAddress` requests per `addressWindow`. Stops a flood of mail to
 *   one victim from many sources.
 *
 * Why the per-address limit cannot keep a victim from resetting for long: every request it
 * counts queued a mail *to the victim*, the newest link stays valid for longer than the window
 * (30 min against 15), and once the window ends the victim asks again. An attacker who holds
 * the address "busy" has in effect mailed the victim working links. Counts are taken before the
 * account is looked up, by the normalised address, whether or not an account exists: a 429
 * says nothing about accounts.
 */

import type { Clock } from '../clock.js';
import type { CounterStore } from '../store.js';
import { clientKey } from './client-key.js';
import { tooManyRequests } from './retry.js';

export interface MailLimits {
  perClient: number;
  clientWindow: number;
  perAddress: number;
  addressWindow: number;
}

export const DEFAULT_MAIL_LIMITS: MailLimits = {
  perClient: 30,
  clientWindow: 3_600_000,
  perAddress: 3,
  addressWindow: 15 * 60_000,
};

export interface MailThrottle {
  /** Counts one request; rejects with `too_many_requests` (and its retry time) when over a limit. */
  check(input: { flow: string; address: string; ip: string }): Promise<void>;
}

/**
 * @example
 * const throttle = createMailThrottle({ counters: store, clock });
 * await throttle.check({ flow: 'password_reset', address: 'ada@example.com', ip: request.ip });
 */
export function createMailThrottle(options: {
  counters: CounterStore;
  clock: Clock;
  limits?: Partial<MailLimits>;
}): MailThrottle {
  const { counters, clock } = options;
  const limits = { ...DEFAULT_MAIL_LIMITS, ...options.limits };
  return {
    async check({ flow, address, ip }) {
      const now = clock();
      const client = await counters.increment(`mail:ip:${clientKey(ip)}`, limits.clientWindow, now);
      // Over the client limit, the address is not counted: a flooder does not spend the victim's budget.
      if (client.count > limits.perClient) throw tooManyRequests(client.expiresAt, now);
      const key = `mail:addr:${flow}:${address.slice(0, 320)}`;
      const counted = await counters.increment(key, limits.addressWindow, now);
      if (counted.count > limits.perAddress) throw tooManyRequests(counted.expiresAt, now);
    },
  };
}
