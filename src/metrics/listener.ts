/**
 * The metrics listener: `GET /metrics` on its own port (`LATCHKEY_METRICS_PORT`), bound to
 * `LATCHKEY_METRICS_HOST` (127.0.0.1 by default). A plain `node:http` server: nothing of the
 * public server's hooks, routes or logs, and any other path or method is a 404 or 405.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LatchkeyMetrics } from './metrics.js';

export interface MetricsListener {
  /** Where it listens (the port is the real one when 0 was asked for). */
  address: { host: string; port: number };
  close(): Promise<void>;
}

/**
 * Starts the metrics listener.
 *
 * @example
 * const listener = await listenForScrapes(metrics, { host: '127.0.0.1', port: 9464 });
 */
export async function listenForScrapes(
  metrics: LatchkeyMetrics,
  options: { host: string; port: number },
): Promise<MetricsListener> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end();
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => {
        response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      () => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('scrape failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: { host: options.host, port },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
