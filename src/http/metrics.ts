/**
 * The HTTP side of the metrics (`src/metrics/`): one onResponse hook that records each request
 * by its route pattern, the revocation feed's open connections, and, with
 * `LATCHKEY_METRICS_ON_MAIN_PORT`, `GET /metrics` on the main port for a machine client with the
 * `metrics` scope. Registered by `createHTTPServer` only when metrics are on.
 */

import type { FastifyInstance } from 'fastify';
import type { ClientService } from '../clients/clients.js';
import { LatchkeyError } from '../errors.js';
import type { HTTPRecorder } from '../metrics/http.js';
import { authenticateClientBasic } from './routes/oauth.js';
import { CLIENT_BASIC, json, problems } from './openapi/route-schema.js';

/** The scope a machine client needs to read `/metrics` on the main port. */
export const METRICS_SCOPE = 'metrics';

const FEED_ROUTE = '/v1/revocations';

const METRICS_SCHEMA = {
  tags: ['Discovery'],
  summary: 'Prometheus metrics',
  description: `With \`LATCHKEY_METRICS_ON_MAIN_PORT\`: for a machine client with the \`${METRICS_SCOPE}\` scope.`,
  security: CLIENT_BASIC,
  response: {
    200: json({ type: 'string' }, 'The Prometheus text exposition format.', 'text/plain'),
    ...problems(401, 403, 429),
  },
};

/**
 * @example
 * registerHTTPMetrics(app, recorder, { clients, onMainPort: false });
 */
export function registerHTTPMetrics(
  app: FastifyInstance,
  recorder: HTTPRecorder,
  options: { clients: ClientService; onMainPort: boolean },
): void {
  app.addHook('onResponse', (request, reply, done) => {
    recorder.record(request.routeOptions.url, request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  // The feed's stream takes the reply over (no onResponse): counted from open to close, by a
  // hook of that route alone, so no other request pays for it.
  app.addHook('onRoute', (route) => {
    if (route.url !== FEED_ROUTE || route.method !== 'GET') return;
    const hooks = route.onRequest === undefined ? [] : [route.onRequest].flat();
    route.onRequest = [
      ...hooks,
      (_request, reply, done) => {
        recorder.feedConnections(1);
        reply.raw.once('close', () => recorder.feedConnections(-1));
        done();
      },
    ];
  });
  if (!options.onMainPort) return;
  app.get('/metrics', { schema: METRICS_SCHEMA }, async (request, reply) => {
    const client = await authenticateClientBasic(request, options.clients);
    if (!client.scopes.includes(METRICS_SCOPE)) {
      throw new LatchkeyError('forbidden', `The client needs the "${METRICS_SCOPE}" scope`);
    }
    const { contentType, body } = await recorder.scrape();
    return reply.type(contentType).send(body);
  });
}
