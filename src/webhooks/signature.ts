/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/): a secret `whsec_<base64>`,
 * and for each message the headers `webhook-id`, `webhook-timestamp` (seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. Pure: no clock,
 * no I/O.
 */

import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes, `whsec_` and base64. */
export function newWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

/**
 * The three headers of one delivery attempt.
 *
 * @example
 * const headers = signWebhook({ id: 'msg_1', timestamp: 1767225600, body, secret: 'whsec_...' });
 */
export function signWebhook(message: {
  id: string;
  /** Seconds since the epoch. */
  timestamp: number;
  body: string;
  secret: string;
}): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const key = Buffer.from(
    message.secret.startsWith(PREFIX) ? message.secret.slice(PREFIX.length) : message.secret,
    'base64',
  );
  const signature = createHmac('sha256', key)
    .update(`${message.id}.${message.timestamp}.${message.body}`)
    .digest('base64');
  return {
    'webhook-id': message.id,
    'webhook-timestamp': String(message.timestamp),
    'webhook-signature': `v1,${signature}`,
  };
}
