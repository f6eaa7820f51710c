/**
 * The script of `/lab`, the mode explorer. Signs one user in three ways side by side: token and
 * hybrid through `latchkey/browser`, cookie through the JSON API (`credentials: 'include'` and
 * the CSRF header: a cookie session needs no SDK). A fourth session, the "other device", signed
 * in without cookies, revokes a panel's session the way a phone revokes a lost laptop's, so the
 * panel keeps what it holds and shows what the server then does with it.
 */

import {
  createClient,
  LatchkeyClientError,
  type ClientState,
  type LatchkeyClient,
} from '../browser/index.js';
import {
  authTiming,
  button,
  credentialsSent,
  logRequest,
  MODES,
  pathOf,
  show,
  showStatus,
  type LabMode,
} from './view.js';

type SDKMode = 'token' | 'hybrid';

interface LabCookie {
  kind: 'session' | 'access' | 'refresh' | 'device';
  name: string;
  arrived: boolean;
  attributes: string;
}

const NAMESPACE = 'latchkey-lab';
const sessionIds: Record<LabMode, string | null> = { cookie: null, token: null, hybrid: null };
let cookieCSRF: string | null = null;
/** The "other device": an access token of a session signed in with no cookie at all. */
let otherDevice: string | null = null;

/** What a request of `mode` sends, as it left (plus what the body carries for a token refresh). */
function sends(mode: LabMode, request: Request): string[] {
  const carried = credentialsSent(request);
  if (pathOf(request.url) === '/v1/refresh') {
    carried.push(mode === 'token' ? 'refresh token in the body' : 'refresh cookie');
  }
  return carried;
}

function observe(mode: SDKMode): (request: Request, response: Response) => void {
  return (request, response) => {
    const { method, url } = request;
    logRequest(mode, {
      method,
      path: pathOf(url),
      sends: sends(mode, request),
      status: response.status,
      authMs: authTiming(response),
    });
  };
}

const clients: Record<SDKMode, LatchkeyClient> = {
  token: createClient({ mode: 'token', namespace: NAMESPACE, onRequest: observe('token') }),
  hybrid: createClient({ mode: 'hybrid', namespace: NAMESPACE, onRequest: observe('hybrid') }),
};

/** Sends a request of the lab's own (cookie panel, other device) and logs it in `mode`'s panel. */
async function send(mode: LabMode, request: Request, from?: string): Promise<Response> {
  const entry = { method: request.method, path: pathOf(request.url), sends: sends(mode, request) };
  const extra = from === undefined ? {} : { from };
  try {
    const response = await fetch(request);
    logRequest(mode, { ...entry, ...extra, status: response.status, authMs: authTiming(response) });
    return response;
  } catch (error) {
    logRequest(mode, { ...entry, ...extra, status: null, authMs: null });
    throw error;
  }
}

function json(url: string, method: string, body: unknown, init: RequestInit): Request {
  return new Request(url, {
    ...init,
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The `code` of a problem+json refusal. */
async function codeOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { code?: unknown };
    return typeof body.code === 'string' ? body.code : 'refused';
  } catch {
    return 'refused';
  }
}

function message(text: string): void {
  const element = document.getElementById('lab-message');
  if (element !== null) element.textContent = text;
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString();
}

/** Token and hybrid panels from the SDK's state (what it holds; never a raw token). */
function renderSDK(mode: SDKMode, state: ClientState): void {
  if (state.session !== null) sessionIds[mode] = state.session.id;
  show(mode, 'session', state.session === null ? '–' : `${state.session.id} (${state.session.mode})`);
  const token = state.accessToken;
  if (mode === 'token') {
    show(
      mode,
      'holds',
      token === null
        ? 'Nothing: signed out (no cookie either).'
        : `An access token (expires ${clock(token.expiresAt)}) and a refresh token, in memory. No auth cookie.`,
    );
  }
  if (token === null) return;
  show(
    mode,
    'jwt',
    token.header === null
      ? 'In an HttpOnly cookie: no script on this page can read it, which is the point. The server verifies it as it does a Bearer token.'
      : JSON.stringify({ header: token.header, claims: token.claims }, null, 2),
  );
}

/** The cookie and hybrid panels' cookies, as the server says it sets them (`GET /lab/state`). */
async function renderCookies(): Promise<void> {
  const response = await fetch('/lab/state', { credentials: 'same-origin' });
  const { cookies } = (await response.json()) as { cookies: LabCookie[] };
  const line = (cookie: LabCookie): string => {
    const arrived = cookie.arrived
      ? 'sent with this page’s requests'
      : cookie.kind === 'refresh'
        ? 'not sent here: only to its path'
        : 'not held';
    return `${cookie.name} (${arrived}): ${cookie.attributes}`;
  };
  const byKind = (kind: LabCookie['kind']): LabCookie | undefined => cookies.find((c) => c.kind === kind);
  const session = byKind('session');
  const access = byKind('access');
  const refresh = byKind('refresh');
  const csrf = cookieCSRF === null ? '' : '\nCSRF token: in this page’s memory, sent as X-CSRF-Token.';
  if (session !== undefined) show('cookie', 'holds', `${line(session)}${csrf}`);
  if (access !== undefined && refresh !== undefined) {
    const marker = clients.hybrid.state.csrfToken === null ? '' : '\nCSRF token: in localStorage.';
    show('hybrid', 'holds', `${line(access)}\n${line(refresh)}${marker}`);
  }
}

async function cookieLogin(email: string, password: string): Promise<void> {
  const request = json('/v1/login', 'POST', { email, password, mode: 'cookie' }, { credentials: 'include' });
  const response = await send('cookie', request);
  if (!response.ok) throw new Error(`cookie sign-in refused: ${await codeOf(response)}`);
  const answer = (await response.json()) as { csrf_token: string; session: { id: string; mode: string } };
  cookieCSRF = answer.csrf_token;
  sessionIds.cookie = answer.session.id;
  show('cookie', 'session', `${answer.session.id} (${answer.session.mode})`);
}

/** The other device signs in with no cookie sent or kept (`credentials: 'omit'`). */
async function otherDeviceLogin(email: string, password: string): Promise<void> {
  const request = json('/v1/login', 'POST', { email, password, mode: 'token' }, { credentials: 'omit' });
  const response = await fetch(request);
  if (!response.ok) throw new Error(`sign-in refused: ${await codeOf(response)}`);
  otherDevice = ((await response.json()) as { access_token: string }).access_token;
}

async function signInAll(email: string, password: string): Promise<void> {
  message('Signing in…');
  try {
    await otherDeviceLogin(email, password);
    await clients.token.login({ email, password });
    await clients.hybrid.login({ email, password });
    // Last: a login revokes the session cookie it is sent (no fixation), and the SDK's send cookies.
    await cookieLogin(email, password);
    for (const mode of MODES) {
      showStatus(mode, `Signed in as ${email}`, 'live');
      button(mode, 'me').disabled = false;
      button(mode, 'revoke').disabled = false;
    }
    message('Signed in three ways, and once more as the “other device” that revokes.');
  } catch (error) {
    message(error instanceof Error ? error.message : 'Sign-in failed.');
  }
  await renderCookies();
}

async function callMe(mode: LabMode): Promise<void> {
  showStatus(mode, 'Asking /v1/me…', 'plain');
  if (mode === 'cookie') {
    const headers: Record<string, string> = cookieCSRF === null ? {} : { 'x-csrf-token': cookieCSRF };
    const response = await send('cookie', new Request('/v1/me', { credentials: 'include', headers }));
    if (response.ok) showStatus(mode, 'Accepted by /v1/me', 'live');
    else showStatus(mode, `Refused: ${await codeOf(response)} (${response.status})`, 'refused');
  } else {
    try {
      const me = await clients[mode].me();
      showStatus(mode, `Accepted by /v1/me: ${me.user.email}`, 'live');
    } catch (error) {
      if (!(error instanceof LatchkeyClientError)) throw error;
      showStatus(mode, `Refused: ${error.code} (${error.status})`, 'refused');
    }
  }
  await renderCookies();
}

async function revoke(mode: LabMode): Promise<void> {
  const id = sessionIds[mode];
  if (id === null || otherDevice === null) return;
  button(mode, 'revoke').disabled = true;
  const request = new Request(`/v1/sessions/${encodeURIComponent(id)}`, {
    method: 'DELETE',
    credentials: 'omit',
    headers: { authorization: `Bearer ${otherDevice}` },
  });
  const response = await send(mode, request, 'the other device');
  if (!response.ok) {
    showStatus(mode, `Revoke refused: ${await codeOf(response)}`, 'plain');
    return;
  }
  showStatus(mode, 'Revoked: asking /v1/me again…', 'plain');
  await callMe(mode);
}

function start(): void {
  const form = document.getElementById('lab-signin');
  const fields = document.getElementById('lab-fields');
  if (!(form instanceof HTMLFormElement) || !(fields instanceof HTMLFieldSetElement)) return;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const field = (name: string): string => {
      const value = data.get(name);
      return typeof value === 'string' ? value : '';
    };
    void signInAll(field('email'), field('password'));
  });
  for (const mode of MODES) {
    button(mode, 'me').addEventListener('click', () => void callMe(mode));
    button(mode, 'revoke').addEventListener('click', () => void revoke(mode));
  }
  for (const mode of ['token', 'hybrid'] as const) {
    clients[mode].onChange((state) => renderSDK(mode, state));
  }
  fields.disabled = false;
  void renderCookies();
}

start();
