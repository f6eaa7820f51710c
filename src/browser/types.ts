/** The documents of the Latchkey API as the browser sees them, and the client's state. */

export type ClientMode = 'hybrid' | 'token';

/** `GET /v1/me`'s `user`. */
export interface User {
  id: string;
  email: string;
  status: string;
  roles: string[];
  created_at: string;
}

/** The short form of a session in login and `/v1/me` answers. */
export interface SessionSummary {
  id: string;
  mode: 'cookie' | 'token' | 'hybrid';
  expires_at: string;
}

/** A row of `GET /v1/sessions`. */
export interface Session extends SessionSummary {
  user_agent: string | null;
  ip: string | null;
  created_at: string;
  last_seen_at: string;
  /** True for the session of this client. */
  current: boolean;
}

export type ClientStatus = 'loading' | 'signed-in' | 'signed-out';

/** Why the state changed: in this tab, or in another tab of the origin. */
export type ChangeReason =
  | 'ready'
  | 'login'
  | 'refresh'
  | 'logout'
  | 'revoked'
  | 'me'
  | 'other-tab-login'
  | 'other-tab-refresh'
  | 'other-tab-logout';

/** What the client holds, for a UI (and for `/lab`): never a raw token. */
export interface ClientState {
  mode: ClientMode;
  status: ClientStatus;
  user: User | null;
  session: SessionSummary | null;
  accessToken: {
    /** Where it lives: in this page's memory (token mode), or an HttpOnly cookie (hybrid). */
    storage: 'memory' | 'httponly-cookie';
    issuedAt: number;
    /** Milliseconds since the epoch, by this browser's clock. */
    expiresAt: number;
    /** The decoded JWT (token mode only: JavaScript cannot read an HttpOnly cookie). */
    header: Record<string, unknown> | null;
    claims: Record<string, unknown> | null;
  } | null;
  refreshToken: { storage: 'memory' | 'httponly-cookie' } | null;
  /** Hybrid: the CSRF token sent in `X-CSRF-Token`, and where it is kept between reloads. */
  csrfToken: { storage: 'localStorage' } | null;
  /** Grows with every login, refresh and logout seen in any tab. */
  version: number;
  tab: {
    id: string;
    /** The tab that refreshes ahead of expiry for every tab (Web Locks); all tabs without them. */
    leader: boolean;
  };
  sync: {
    locks: boolean;
    channel: 'broadcast-channel' | 'storage-event' | 'none';
  };
  refreshes: {
    /** Refreshes this tab sent to the server. */
    performed: number;
    /** Refreshes another tab made, whose result this tab took. */
    adopted: number;
    lastAt: number | null;
  };
}

/** What a tab holds of a signed-in session (shared with the other tabs of the origin). */
export interface Credentials {
  version: number;
  issuedAt: number;
  expiresAt: number;
  /** Hybrid only. */
  csrf: string | null;
  /** Token mode only, in memory. */
  accessToken: string | null;
  refreshToken: string | null;
  user: User | null;
  session: SessionSummary | null;
}

export interface ClientOptions {
  mode: ClientMode;
  /** Where Latchkey answers; the page's own origin by default. */
  baseUrl?: string;
  /** Other origins whose requests `fetch()` may authenticate (the base URL's is always allowed). */
  apiOrigins?: string[];
  /** Prefix of the lock, channel and storage names; two clients with one namespace share a session. */
  namespace?: string;
  /** Token mode: how long a new tab waits for another tab to hand it the session (ms). */
  handshakeMs?: number;
  /**
   * Called after each request the client sends, with the request as sent (its credential
   * headers included) and the response, to show or log them (`/lab` does). Read-only: a
   * consumed body or a thrown error is the observer's problem, never the request's.
   */
  onRequest?: RequestObserver;
}

/** See {@link ClientOptions.onRequest}. */
export type RequestObserver = (request: Request, response: Response) => void;
