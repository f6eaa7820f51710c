/**
 * The browser client: signs in, keeps the session fresh across every tab of the origin, and
 * authenticates the app's own requests. One tab (the Web Locks leader) refreshes ahead of
 * expiry; every refresh runs under one origin-wide lock and is skipped when another tab already
 * did it; its result reaches the other tabs by BroadcastChannel.
 */

import { authorize, credentialsOf, endpoint, jsonRequest, refreshRequest, sendJSON } from './api.js';
import { LatchkeyClientError, readProblem } from './errors.js';
import { resolveOptions } from './options.js';
import { describeState, marginOf, notify, until, type ChangeListener } from './state.js';
import {
  hasLocks,
  latestRefreshVersion,
  markRefreshVersion,
  openMessenger,
  readMarker,
  requestLeadership,
  withLock,
  writeMarker,
  type Messenger,
  type TabMessage,
} from './tabs.js';
import type {
  ChangeReason,
  ClientOptions,
  ClientMode,
  ClientState,
  ClientStatus,
  Credentials,
  RequestObserver,
  Session,
  SessionSummary,
  User,
} from './types.js';

const SIGNED_OUT_CODES = new Set(['session_revoked', 'session_expired', 'account_disabled']);

export type { ChangeListener, ClientOptions };

export class LatchkeyClient {
  readonly mode: ClientMode;
  readonly baseUrl: string;
  /** Settles once the client knows whether the tab is signed in. */
  readonly ready: Promise<ClientState>;
  readonly #name: string;
  readonly #origins: Set<string>;
  readonly #observe: RequestObserver;
  readonly #tabId: string =
    typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : String(Math.random());
  readonly #listeners = new Set<ChangeListener>();
  readonly #messenger: Messenger;
  readonly #releaseLeadership: () => void;
  readonly #stats: ClientState['refreshes'] = { performed: 0, adopted: 0, lastAt: null };
  #credentials: Credentials | null = null;
  #status: ClientStatus = 'loading';
  #version = 0;
  #leader = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inflight: Promise<boolean> | null = null;
  #releaseMark = (): void => undefined;
  #onVisible = (): void => {
    if (document.visibilityState === 'visible') void this.#refreshIfDue(true).catch(() => undefined);
  };

  constructor(options: ClientOptions) {
    const resolved = resolveOptions(options);
    this.mode = resolved.mode;
    this.baseUrl = resolved.baseUrl;
    this.#origins = resolved.origins;
    this.#name = resolved.name;
    this.#observe = resolved.observe;
    this.#messenger = openMessenger(this.#name, (message) => this.#receive(message));
    this.#releaseLeadership = requestLeadership(`${this.#name}:leader`, () => {
      this.#leader = true;
      this.#schedule();
    });
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.#onVisible);
    this.ready = this.#start(resolved.handshakeMs);
  }

  /** What the client holds now (a copy; never a raw token). */
  get state(): ClientState {
    return describeState({
      mode: this.mode,
      status: this.#status,
      credentials: this.#credentials,
      version: this.#version,
      tab: { id: this.#tabId, leader: this.#leader },
      channel: this.#messenger.kind,
      refreshes: this.#stats,
    });
  }

  /** Calls `listener` on every change, in this tab or from another; returns the unsubscribe. */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Creates an account (it does not sign in). */
  async signup(input: { email: string; password: string }): Promise<User> {
    const request = jsonRequest(this.#url('/v1/signup'), 'POST', input, { credentials: 'include' });
    const answer = (await sendJSON(request, (r) => this.#fetch(r))) as { user: User };
    return answer.user;
  }

  /** Signs in, in this client's mode; every tab of the origin follows. */
  async login(input: { email: string; password: string; remember?: boolean }): Promise<ClientState> {
    await this.ready;
    const body = {
      email: input.email,
      password: input.password,
      mode: this.mode,
      remember: input.remember === true,
    };
    const request = jsonRequest(this.#url('/v1/login'), 'POST', body, { credentials: 'include' });
    const answer = await sendJSON(request, (r) => this.#fetch(r));
    this.#commit(credentialsOf(this.mode, answer, { version: this.#version + 1, now: Date.now() }), 'login');
    return this.state;
  }

  /** Signs out on the server and in every tab (signed out locally even when the server cannot be reached). */
  async logout(): Promise<void> {
    await this.ready;
    if (this.#credentials === null) return;
    try {
      await this.#call('POST', '/v1/logout');
    } catch (error) {
      if (!(error instanceof LatchkeyClientError && error.status === 401)) {
        this.#signOut('logout');
        throw error;
      }
    }
    this.#signOut('logout');
  }

  /** Revokes every session of the user (this one included); answers how many. */
  async logoutEverywhere(): Promise<number> {
    await this.ready;
    const { revoked } = await this.#call<{ revoked: number }>('DELETE', '/v1/sessions');
    this.#signOut('logout');
    return revoked;
  }

  /** Who is signed in, from the server. */
  async me(): Promise<{ user: User; session: SessionSummary }> {
    await this.ready;
    return this.#me();
  }

  /** The user's sessions (`current` marks this one). */
  async sessions(): Promise<Session[]> {
    await this.ready;
    return (await this.#call<{ sessions: Session[] }>('GET', '/v1/sessions')).sessions;
  }

  /**
   * `fetch` for the app's own API: the Bearer token (token mode) or the cookies and the CSRF
   * header (hybrid); on a 401 it refreshes once and retries once.
   */
  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    await this.ready;
    return this.#send(new Request(input, init));
  }

  /** Refreshes now unless another tab just did (for a UI button, or `/lab`). */
  async refresh(): Promise<boolean> {
    await this.ready;
    return this.#refresh(this.#credentials?.version ?? -1);
  }

  /** Leaves the tab group: timers, channel, leadership. */
  close(): void {
    clearTimeout(this.#timer);
    this.#messenger.close();
    this.#releaseLeadership();
    this.#releaseMark();
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.#onVisible);
  }

  /** Every request of the client goes out here (and is shown to `onRequest`). */
  async #fetch(request: Request): Promise<Response> {
    const response = await fetch(request);
    this.#observe(request, response);
    return response;
  }

  #url(path: string): string {
    return endpoint(this.baseUrl, path);
  }

  /** A Latchkey endpoint called with this tab's credentials. */
  async #call<T>(method: string, path: string): Promise<T> {
    return (await sendJSON(jsonRequest(this.#url(path), method), (r) => this.#send(r))) as T;
  }

  async #start(handshakeMs: number): Promise<ClientState> {
    await Promise.resolve(); // so that listeners added right after createClient() see 'ready'
    if (this.mode === 'hybrid') {
      const marker = readMarker(`${this.#name}:marker`);
      if (marker !== null) {
        this.#version = Math.max(this.#version, marker.version);
        this.#credentials ??= { ...marker, accessToken: null, refreshToken: null, user: null, session: null };
        this.#status = 'signed-in';
        // The marker says there was a session: the server says whether it is still alive.
        await this.#me().catch(() => undefined);
      }
    } else if (this.#credentials === null) {
      // Another tab may hold the session in its memory: it answers with it.
      this.#messenger.post({ type: 'hello', from: this.#tabId });
      await until(() => this.#credentials !== null, handshakeMs);
    }
    if (this.#status === 'loading') this.#status = this.#credentials === null ? 'signed-out' : 'signed-in';
    this.#schedule();
    this.#emit('ready');
    return this.state;
  }

  async #me(): Promise<{ user: User; session: SessionSummary }> {
    const answer = await this.#call<{ user: User; session: SessionSummary }>('GET', '/v1/me');
    const held = this.#credentials;
    if (
      held !== null &&
      JSON.stringify([held.user, held.session]) !== JSON.stringify([answer.user, answer.session])
    ) {
      this.#credentials = { ...held, user: answer.user, session: answer.session };
      if (this.#status !== 'loading') this.#emit('me');
    }
    return answer;
  }

  /** Sends `request` with this tab's credentials; refreshes and retries once on a 401. */
  async #send(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (!this.#origins.has(url.origin)) {
      throw new TypeError(`fetch() authenticates requests to ${[...this.#origins].join(', ')} only`);
    }
    await this.#refreshIfDue(false).catch(() => undefined);
    const seen = this.#credentials?.version ?? -1;
    const retry = request.clone();
    const response = await this.#fetch(authorize(request, this.mode, this.#credentials));
    if (response.status !== 401 || this.#credentials === null) return response;
    const problem = await readProblem(response);
    if (typeof problem?.code === 'string' && SIGNED_OUT_CODES.has(problem.code)) {
      this.#signOut('revoked');
      return response;
    }
    const refreshed = await this.#refresh(seen).catch(() => false);
    return refreshed ? this.#fetch(authorize(retry, this.mode, this.#credentials)) : response;
  }

  /**
   * Refreshes when the access token is near its end. The leader does it on its timer; another
   * tab only once the leader is late (half the margin), so that they rarely meet at the lock.
   */
  async #refreshIfDue(anyTab: boolean): Promise<boolean> {
    const held = this.#credentials;
    if (held === null) return false;
    const margin = this.#leader || anyTab ? marginOf(held) : marginOf(held) / 2;
    if (held.expiresAt - Date.now() > margin) return false;
    return this.#refresh(held.version);
  }

  /** One refresh at a time in the tab, and under the origin-wide lock across tabs. */
  #refresh(seen: number): Promise<boolean> {
    this.#inflight ??= withLock(`${this.#name}:refresh`, () => this.#refreshLocked(seen)).finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #refreshLocked(seen: number): Promise<boolean> {
    this.#adoptMarker();
    const held = this.#credentials;
    if (held === null) return false;
    // Another tab refreshed (or signed in) since this tab decided to: take its result.
    if (held.version > seen) return true;
    // The lock manager knows of a refresh whose message is still on its way: wait for it, and in
    // token mode never send the refresh token it rotated.
    const marked = await latestRefreshVersion(this.#name);
    if (marked > held.version) {
      if (await until(() => (this.#credentials?.version ?? marked) >= marked, 2_000)) return true;
      if (this.mode === 'token') return false;
    }
    try {
      const answer = await sendJSON(refreshRequest(this.baseUrl, this.mode, held), (r) => this.#fetch(r));
      const next = credentialsOf(this.mode, answer, {
        version: Math.max(this.#version, marked) + 1,
        now: Date.now(),
        previous: held,
      });
      this.#stats.performed += 1;
      this.#stats.lastAt = Date.now();
      this.#commit(next, 'refresh');
      const release = this.#releaseMark;
      this.#releaseMark = await markRefreshVersion(this.#name, next.version);
      release();
      return true;
    } catch (error) {
      this.#adoptMarker();
      if ((this.#credentials?.version ?? -1) > held.version) return true;
      if (error instanceof LatchkeyClientError && (error.status === 400 || error.status === 401)) {
        this.#signOut('revoked');
        return false;
      }
      this.#schedule(2_000);
      throw error;
    }
  }

  /** Hybrid: a refresh another tab stored whose message has not arrived yet. */
  #adoptMarker(): void {
    if (this.mode !== 'hybrid') return;
    const marker = readMarker(`${this.#name}:marker`);
    const held = this.#credentials;
    if (marker === null || held === null || marker.version <= held.version) return;
    this.#credentials = { ...held, ...marker };
    this.#version = Math.max(this.#version, marker.version);
    this.#stats.adopted += 1;
    this.#schedule();
  }

  /** Takes new credentials made in this tab, and hands them to the others. */
  #commit(credentials: Credentials, reason: 'login' | 'refresh'): void {
    this.#credentials = credentials;
    this.#version = Math.max(this.#version, credentials.version);
    this.#status = 'signed-in';
    if (this.mode === 'hybrid' && credentials.csrf !== null) {
      const { version, issuedAt, expiresAt, csrf } = credentials;
      writeMarker(`${this.#name}:marker`, { version, issuedAt, expiresAt, csrf });
    }
    this.#messenger.post({ type: 'state', from: this.#tabId, reason, credentials });
    this.#schedule();
    this.#emit(reason);
  }

  #signOut(reason: 'logout' | 'revoked', fromOtherTab?: number): void {
    const wasSignedIn = this.#credentials !== null;
    this.#version = fromOtherTab ?? this.#version + 1;
    this.#credentials = null;
    this.#status = 'signed-out';
    clearTimeout(this.#timer);
    if (fromOtherTab !== undefined) {
      if (wasSignedIn) this.#emit('other-tab-logout');
      return;
    }
    if (this.mode === 'hybrid') writeMarker(`${this.#name}:marker`, null);
    this.#messenger.post({ type: 'signed-out', from: this.#tabId, version: this.#version, reason });
    this.#emit(reason);
  }

  #receive(message: TabMessage): void {
    if (message.from === this.#tabId) return;
    if (message.type === 'hello') {
      const held = this.#credentials;
      if (held !== null && this.#status === 'signed-in') {
        this.#messenger.post({ type: 'state', from: this.#tabId, reason: 'sync', credentials: held });
      }
    } else if (message.type === 'signed-out') {
      if (message.version > (this.#credentials?.version ?? -1))
        this.#signOut(message.reason, message.version);
    } else {
      const { credentials, reason } = message;
      // Token mode without BroadcastChannel: the message had its tokens stripped, so it is of no use.
      if (this.mode === 'token' && credentials.accessToken === null) return;
      if (credentials.version <= (this.#credentials?.version ?? -1) || credentials.version < this.#version)
        return;
      this.#credentials = credentials;
      this.#version = credentials.version;
      if (reason === 'refresh') this.#stats.adopted += 1;
      if (this.#status === 'loading') return;
      this.#status = 'signed-in';
      this.#schedule();
      this.#emit(reason === 'refresh' ? 'other-tab-refresh' : 'other-tab-login');
    }
  }

  /** The leader's timer (every tab's where Web Locks are missing, with some jitter). */
  #schedule(retryInMs?: number): void {
    clearTimeout(this.#timer);
    const held = this.#credentials;
    if (held === null || !this.#leader || this.#status === 'loading') return;
    const jitter = hasLocks() ? 0 : Math.random() * marginOf(held) * 0.5;
    const due = held.expiresAt - marginOf(held) + jitter - Date.now();
    const delay = retryInMs ?? due;
    this.#timer = setTimeout(
      () => {
        void this.#refresh(held.version).catch(() => undefined);
      },
      Math.max(0, delay),
    );
  }

  #emit(reason: ChangeReason): void {
    notify(this.#listeners, this.state, reason);
  }
}
