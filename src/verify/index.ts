/**
 * `latchkey/verify`: the resource-service SDK. An orders or payments service checks a caller
 * without asking the auth server: signatures against the published JWKS, revocations pushed
 * to it over a feed and kept in memory.
 *
 * This entry point loads no framework and no driver; the adapters live at their own paths
 * (`src/verify/adapters/{node-http,express,fastify,hono}.ts`).
 *
 * @example
 * import { createSSERevocationFeed, createVerifier } from 'latchkey/verify';
 *
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://auth.example.com',
 *   algorithms: ['EdDSA'],
 *   jwksUri: 'https://auth.example.com/.well-known/jwks.json',
 *   revocation: createSSERevocationFeed({ url: 'https://auth.example.com/v1/revocations' }),
 * });
 * await verifier.ready();
 * const principal = await verifier.verify(accessToken);
 * @see https://www.rfc-editor.org/rfc/rfc9068
 */
export {
  ACCESS_COOKIE,
  createVerifier,
  type AuthenticateRequest,
  type Principal,
  type Verifier,
  type VerifierHealth,
  type VerifierOptions,
} from './verifier.js';
export type { RevocationFeed, RevocationFeedState } from './feed.js';
export {
  createEventStreamParser,
  createSSERevocationFeed,
  type EventStreamEvent,
  type EventStreamParser,
  type SSERevocationFeed,
  type SSERevocationFeedOptions,
} from './sse-feed.js';
export {
  createRemoteJWKS,
  type RemoteJWKS,
  type RemoteJWKSHealth,
  type RemoteJWKSOptions,
} from './remote-jwks.js';
export { requireAuth, type AuthRequirement, type AuthRequirementCheck } from './step-up.js';
export {
  authenticationFailure,
  type AuthenticationFailure,
  type AuthenticationFailureOptions,
} from './failure.js';
export {
  createRevocationList,
  parseWireRevocation,
  toWireRevocation,
  type RevocationCheck,
  type RevocationList,
  type WireRevocation,
} from '../revocation/revocation-list.js';
export { isLatchkeyError, LatchkeyError, type ErrorCode } from '../errors.js';
export type { KeyAlgorithm, RevocationRecord } from '../records.js';
