/**
 * The microservices example in one command:
 *
 *   npx tsx examples/microservices/start.ts
 *
 * starts the gateway (one origin for the browser), the auth server (memory store, with the
 * example's machine clients seeded), the orders service (Express) and the payments service
 * (Hono), prints the URLs and the partner's credentials, and stops everything on Ctrl-C.
 *
 * Environment: GATEWAY_PORT (8000), AUTH_PORT (8001), ORDERS_PORT (8002), PAYMENTS_PORT (8003),
 * PUBLIC_HOST (localhost), LATCHKEY_SECRET (a fixed demo secret), LOG_LEVEL (warn).
 *
 * `startMicroservices()` is what the end-to-end test imports.
 */

import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { PasswordHasher } from '../../src/password/hash.js';
import { startAuthServer, type RunningAuthServer } from './auth.js';
import { startGateway, type RunningGateway } from './gateway.js';
import { startOrders, type RunningService } from './orders.js';
import { startPayments } from './payments.js';
import { createServiceVerifier, type ClientCredentials } from './shared.js';

/** The demo master secret. Shared by the auth server and the services (for the CSRF key). */
export const DEMO_SECRET = 'microservices-example-secret-change-me-0123456789';

export interface MicroservicesOptions {
  /** Ports; 0 (the default) picks free ones. */
  gatewayPort?: number;
  authPort?: number;
  ordersPort?: number;
  paymentsPort?: number;
  /** The host name in the public URL (the issuer): `localhost` for a browser, `127.0.0.1` in tests. */
  publicHost?: string;
  secret?: string;
  logLevel?: string;
  hasher?: PasswordHasher;
  /** Told about revocation feed disconnections of the services. */
  onFeedError?: (service: string, error: Error) => void;
}

export interface RunningMicroservices {
  /** The one origin the browser, the apps and the partner talk to. */
  gatewayURL: string;
  authURL: string;
  ordersURL: string;
  paymentsURL: string;
  /** `iss` of every token, and the audience of user tokens. */
  issuer: string;
  /** The audiences of the machine-client tokens of each service. */
  ordersAudience: string;
  paymentsAudience: string;
  /** The partner: client credentials with `orders:read`, audience orders. */
  partner: ClientCredentials;
  auth: RunningAuthServer;
  orders: RunningService;
  payments: RunningService;
  gateway: RunningGateway;
  /** Stops every server (services first, then the auth server, then the gateway). */
  stop(): Promise<void>;
}

/** Starts the gateway, the auth server and both services; on failure, stops what started. */
export async function startMicroservices(options: MicroservicesOptions = {}): Promise<RunningMicroservices> {
  const secret = options.secret ?? DEMO_SECRET;
  const logLevel = options.logLevel ?? 'warn';
  const publicHost = options.publicHost ?? 'localhost';
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    const errors: unknown[] = [];
    while (stops.length > 0) {
      const stop = stops.pop();
      try {
        await stop?.();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'some servers did not stop cleanly');
  };

  try {
    // The gateway listens first: its URL is the issuer the auth server puts in every token.
    const gateway = await startGateway({ port: options.gatewayPort ?? 0 });
    stops.push(() => gateway.close());
    const issuer = `http://${publicHost}:${new URL(gateway.url).port}`;
    const ordersAudience = `${issuer}/orders`;
    const paymentsAudience = `${issuer}/payments`;

    const auth = await startAuthServer({
      issuer,
      audience: issuer,
      secret,
      logLevel,
      port: options.authPort ?? 0,
      ...(options.hasher === undefined ? {} : { hasher: options.hasher }),
      clients: {
        // Each service reads the revocation feed with its own credentials (no scope needed).
        orders: { name: 'orders-service', scopes: [], audiences: [issuer] },
        payments: { name: 'payments-service', scopes: [], audiences: [issuer] },
        // A partner may read orders, and nothing else.
        partner: { name: 'partner', scopes: ['orders:read'], audiences: [ordersAudience] },
      },
    });
    stops.push(() => auth.close());
    gateway.routes.auth = auth.url;

    const credential = (key: string): ClientCredentials => {
      const found = auth.credentials[key];
      if (found === undefined) throw new Error(`client ${key} was not created`);
      return found;
    };
    const feedError = (service: string) => (error: Error) => options.onFeedError?.(service, error);

    const [orders, payments] = await Promise.all([
      startOrders({
        port: options.ordersPort ?? 0,
        verifier: createServiceVerifier({
          issuer,
          audience: [issuer, ordersAudience],
          authURL: auth.url,
          secret,
          credentials: credential('orders'),
          onFeedError: feedError('orders'),
        }),
      }),
      startPayments({
        port: options.paymentsPort ?? 0,
        verifier: createServiceVerifier({
          issuer,
          audience: [issuer, paymentsAudience],
          authURL: auth.url,
          secret,
          credentials: credential('payments'),
          onFeedError: feedError('payments'),
        }),
      }),
    ]);
    stops.push(
      () => orders.close(),
      () => payments.close(),
    );
    gateway.routes.orders = orders.url;
    gateway.routes.payments = payments.url;

    return {
      gatewayURL: issuer,
      authURL: auth.url,
      ordersURL: orders.url,
      paymentsURL: payments.url,
      issuer,
      ordersAudience,
      paymentsAudience,
      partner: credential('partner'),
      auth,
      orders,
      payments,
      gateway,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

function port(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) throw new Error(`${name}: not a port`);
  return parsed;
}

async function main(): Promise<void> {
  const running = await startMicroservices({
    gatewayPort: port('GATEWAY_PORT', 8000),
    authPort: port('AUTH_PORT', 8001),
    ordersPort: port('ORDERS_PORT', 8002),
    paymentsPort: port('PAYMENTS_PORT', 8003),
    publicHost: process.env.PUBLIC_HOST ?? 'localhost',
    secret: process.env.LATCHKEY_SECRET ?? DEMO_SECRET,
    logLevel: process.env.LOG_LEVEL ?? 'warn',
    onFeedError: (service, error) => {
      console.error(`[${service}] revocation feed: ${error.message}`);
    },
  });
  console.log(
    `gateway   ${running.gatewayURL}   (the one origin: /v1, /oauth, /.well-known, /orders, /payments)`,
  );
  console.log(`auth      ${running.authURL}`);
  console.log(`orders    ${running.ordersURL}   (Express)`);
  console.log(`payments  ${running.paymentsURL}   (Hono)`);
  console.log('');
  console.log('partner client (scope orders:read, audience orders):');
  console.log(`  CLIENT_ID=${running.partner.clientId}`);
  console.log(`  CLIENT_SECRET=${running.partner.clientSecret}`);
  console.log(`  audience: ${running.ordersAudience}`);
  console.log('');
  console.log('Ctrl-C stops everything.');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
