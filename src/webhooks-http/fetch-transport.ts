/**
 * The webhook edge: POSTs a signed delivery with `fetch`, waits at most `timeoutMs` for the
 * answer, follows no redirect (a 3xx is a failure: the endpoint's URL is what the operator
 * registered), and reads none of the body.
 */

import type { WebhookResponse, WebhookTransport } from '../webhooks/transport.js';

/**
 * @example
 * const transport = createFetchWebhookTransport({ timeoutMs: 10_000 });
 */
export function createFetchWebhookTransport(options: { timeoutMs?: number } = {}): WebhookTransport {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async send({ url, headers, body }): Promise<WebhookResponse> {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'Latchkey-Webhooks/1', ...headers },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.body?.cancel();
        return { status: response.status };
      } catch (error) {
        const name = error instanceof Error ? error.name : 'Error';
        return { status: null, error: name === 'TimeoutError' ? 'timeout' : 'connection failed' };
      }
    },
  };
}
