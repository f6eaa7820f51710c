/**
 * The gateway: one origin for the browser. A small reverse proxy on node:http that forwards
 * requests, headers and cookies unchanged (hop-by-hop headers aside), so that the auth server's
 * `__Host-` cookies are sent to every service behind it.
 *
 *   /v1/*, /oauth/*, /.well-known/*  → the auth server
 *   /orders, /orders/*               → the orders service
 *   /payments, /payments/*           → the payments service
 */

import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { closeServer, listen } from './shared.js';

/** Where each prefix goes; set after the services started (the gateway listens first). */
export interface GatewayRoutes {
  auth: string | null;
  orders: string | null;
  payments: string | null;
}

export interface RunningGateway {
  url: string;
  server: Server;
  routes: GatewayRoutes;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
]);

/** The upstream of a path: a URL, null while that service is not up, undefined when unrouted. */
function target(routes: GatewayRoutes, path: string): string | null | undefined {
  const under = (prefix: string): boolean =>
    path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`);
  if (under('/v1') || under('/oauth') || under('/.well-known')) return routes.auth;
  if (under('/orders')) return routes.orders;
  if (under('/payments')) return routes.payments;
  return undefined;
}

function problem(res: ServerResponse, status: number, code: string, title: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ type: `urn:latchkey:error:${code}`, title, status, code }));
}

function forward(routes: GatewayRoutes, req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  const base = target(routes, path);
  if (base === undefined) {
    problem(res, 404, 'not_found', 'Nothing is routed here');
    return;
  }
  if (base === null) {
    problem(res, 503, 'service_unavailable', 'The service is starting');
    return;
  }
  const upstream = new URL(base);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  const outgoing = httpRequest(
    { host: upstream.hostname, port: upstream.port, method: req.method, path, headers },
    (answer) => {
      const back: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) back[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, back);
      answer.pipe(res);
    },
  );
  outgoing.on('error', () => {
    if (!res.headersSent) problem(res, 502, 'bad_gateway', 'The upstream service did not answer');
    else res.destroy();
  });
  req.pipe(outgoing);
}

/** Starts the gateway on `port` (0: any free port); fill `routes` before sending traffic. */
export async function startGateway(options: { port?: number; host?: string } = {}): Promise<RunningGateway> {
  const routes: GatewayRoutes = { auth: null, orders: null, payments: null };
  const server = createServer((req, res) => {
    forward(routes, req, res);
  });
  const url = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    url,
    server,
    routes,
    close: () => closeServer(server),
  };
}
