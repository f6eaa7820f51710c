/**
 * The payments service: Hono on node:http, with the Latchkey middleware.
 *
 *   GET  /payments   the caller's payments   (machine clients need `payments:read`)
 *   POST /payments   makes a payment         (machine clients need `payments:write`; cookies need X-CSRF-Token)
 */

import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { latchkeyHono, type LatchkeyHonoEnv } from '../../src/verify/adapters/hono.js';
import type { Verifier } from '../../src/verify/index.js';
import type { RunningService } from './orders.js';
import { closeServer, listen, principalView, scopeFailure } from './shared.js';

/** Starts the payments service on `port` (0: any free port) with a verifier it then owns. */
export async function startPayments(options: { verifier: Verifier; port?: number }): Promise<RunningService> {
  const { verifier } = options;
  const app = new Hono<LatchkeyHonoEnv>();
  app.use('/payments', latchkeyHono(verifier, { realm: 'payments' }));
  app.use('/payments/*', latchkeyHono(verifier, { realm: 'payments' }));

  const refuse = (c: Context<LatchkeyHonoEnv>, scope: string): Response | null => {
    const failure = scopeFailure(c.get('principal'), scope, 'payments');
    if (failure === null) return null;
    return new Response(JSON.stringify(failure.body), { status: failure.status, headers: failure.headers });
  };

  app.get('/payments', (c) => {
    return (
      refuse(c, 'payments:read') ??
      c.json({ service: 'payments', payments: [], principal: principalView(c.get('principal')) })
    );
  });
  app.post('/payments', async (c) => {
    const refused = refuse(c, 'payments:write');
    if (refused !== null) return refused;
    const body = (await c.req.json().catch(() => ({}))) as { amount?: unknown };
    return c.json(
      {
        service: 'payments',
        payment: { id: `pay_${Date.now().toString(36)}`, amount: body.amount ?? null },
        principal: principalView(c.get('principal')),
      },
      201,
    );
  });

  await verifier.ready({ timeoutMs: 10_000 });
  const listener = getRequestListener(app.fetch);
  const server = createServer((req, res) => {
    // The listener answers errors itself; this only keeps a rejection from going unhandled.
    listener(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const url = await listen(server, options.port ?? 0);
  return {
    url,
    verifier,
    server,
    async close() {
      await closeServer(server);
      await verifier.close();
    },
  };
}
