/**
 * Small HTTP helpers for the suites that drive `latchkey serve` processes over loopback.
 */

export const TEST_PASSWORD = 'correct horse battery staple';

/** What a test needs from one response: the status, the content type, the JSON body, cookies. */
export interface Answer {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
  setCookies: string[];
}

/** Sends one request with a deadline (a request that hangs fails the test instead of stalling it). */
export async function request(
  url: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  if (text !== '') {
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body,
    setCookies: response.headers.getSetCookie(),
  };
}

/** The `name=value` of a Set-Cookie whose name starts with `prefix`, or ''. */
export function cookieOf(answer: Answer, prefix: string): string {
  return (answer.setCookies.find((cookie) => cookie.startsWith(prefix)) ?? '').split(';')[0] ?? '';
}

/** A session cookie, its CSRF token, and a token-mode pair, for one user on one node. */
export interface Credentials {
  cookie: string;
  csrf: string;
  accessToken: string;
  refreshToken: string;
}

/** Logs in with `mode: 'cookie'` and returns the cookie header value and the CSRF token. */
export async function loginCookie(base: string, email: string): Promise<{ cookie: string; csrf: string }> {
  const login = await request(`${base}/v1/login`, {
    body: { email, password: TEST_PASSWORD, mode: 'cookie' },
  });
  if (login.status !== 200)
    throw new Error(`cookie login answered ${login.status}: ${JSON.stringify(login.body)}`);
  return { cookie: cookieOf(login, '__Host-latchkey_session='), csrf: String(login.body.csrf_token) };
}

/** Logs in with `mode: 'token'` and returns the access and refresh tokens. */
export async function loginToken(
  base: string,
  email: string,
): Promise<{ accessToken: string; refreshToken: string }> {
  const login = await request(`${base}/v1/login`, {
    body: { email, password: TEST_PASSWORD, mode: 'token' },
  });
  if (login.status !== 200)
    throw new Error(`token login answered ${login.status}: ${JSON.stringify(login.body)}`);
  return { accessToken: String(login.body.access_token), refreshToken: String(login.body.refresh_token) };
}

/** Signs up `email` (201 expected). */
export async function signup(base: string, email: string): Promise<void> {
  const answer = await request(`${base}/v1/signup`, { body: { email, password: TEST_PASSWORD } });
  if (answer.status !== 201)
    throw new Error(`signup answered ${answer.status}: ${JSON.stringify(answer.body)}`);
}

/** Polls `check` every 100 ms until it returns true; returns the time it took, or throws. */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch {
      ok = false;
    }
    if (ok) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
