/**
 * The orders service: Express, with the Latchkey middleware. It verifies every caller locally
 * (JWKS + revocation feed); it never calls the auth server per request.
 *
 *   GET  /orders   the caller's orders      (machine clients need `orders:read`)
 *   POST /orders   places an order          (machine clients need `orders:write`; cookies need X-CSRF-Token)
 */

import { createServer, type Server } from 'node:http';
import express, { type Request, type Response } from 'express';
import { latchkeyExpress } from '../../src/verify/adapters/express.js';
import type { Verifier } from '../../src/verify/index.js';
import { closeServer, listen, principalView, scopeFailure } from './shared.js';

export interface RunningService {
  url: string;
  verifier: Verifier;
  server: Server;
  close(): Promise<void>;
}

/** Starts the orders service on `port` (0: any free port) with a verifier it then owns. */
export async function startOrders(options: { verifier: Verifier; port?: number }): Promise<RunningService> {
  const { verifier } = options;
  const app = express();
  app.disable('x-powered-by');
  app.use('/orders', latchkeyExpress(verifier, { realm: 'orders' }));

  const allowed = (req: Request, res: Response, scope: string): boolean => {
    const principal = req.principal;
    if (principal === undefined) {
      res.status(401).end();
      return false;
    }
    const failure = scopeFailure(principal, scope, 'orders');
    if (failure === null) return true;
    res.status(failure.status).set(failure.headers).send(JSON.stringify(failure.body));
    return false;
  };

  app.get('/orders', (req, res) => {
    if (!allowed(req, res, 'orders:read') || req.principal === undefined) return;
    res.json({ service: 'orders', orders: [], principal: principalView(req.principal) });
  });
  app.post('/orders', express.json({ limit: '16kb' }), (req, res) => {
    if (!allowed(req, res, 'orders:write') || req.principal === undefined) return;
    res.status(201).json({
      service: 'orders',
      order: {
        id: `ord_${Date.now().toString(36)}`,
        item: (req.body as { item?: unknown } | undefined)?.item ?? null,
      },
      principal: principalView(req.principal),
    });
  });

  await verifier.ready({ timeoutMs: 10_000 });
  const server = createServer(app);
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
