/**
 * `latchkey/browser`: the client SDK for browser apps. ESM, no dependencies.
 *
 * @example
 * import { createClient } from 'latchkey/browser';
 * const auth = createClient({ baseUrl: location.origin, mode: 'hybrid' });
 * auth.onChange((state) => render(state.user));
 * await auth.login({ email, password });
 * const response = await auth.fetch('/api/orders');
 */

import { LatchkeyClient, type ClientOptions } from './client.js';

export { LatchkeyClient, type ChangeListener, type ClientOptions } from './client.js';
export { LatchkeyClientError, type LatchkeyErrorCode } from './errors.js';
export { decodeJWT, type DecodedJWT } from './jwt.js';
export type {
  ChangeReason,
  ClientMode,
  ClientState,
  ClientStatus,
  RequestObserver,
  Session,
  SessionSummary,
  User,
} from './types.js';

/**
 * @example
 * import { createClient } from 'latchkey/browser';
 * const auth = createClient({ mode: 'hybrid' });
 * await auth.login({ email, password });
 * const orders = await auth.fetch('/api/orders');
 */
export function createClient(options: ClientOptions): LatchkeyClient {
  return new LatchkeyClient(options);
}
