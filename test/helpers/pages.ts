import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { setCookies } from './app.js';

/** The value of the hidden `csrf_token` field of a rendered page. */
export function formToken(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  if (match?.[1] === undefined) throw new Error('no csrf_token field in the page');
  return match[1];
}

/** A browser's cookie jar, for inject(): `name=value` pairs kept from Set-Cookie headers. */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  keep(response: LightMyRequestResponse): void {
    for (const [name, { value, header }] of setCookies(response)) {
      if (/Max-Age=0/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export const FORM = 'application/x-www-form-urlencoded';

/** GETs a page with the jar's cookies (and keeps what it sets). */
export async function getPage(
  app: FastifyInstance,
  jar: CookieJar,
  url: string,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const response = await app.inject({
    method: 'GET',
    url,
    headers: { accept: 'text/html', cookie: jar.header(), ...headers },
  });
  jar.keep(response);
  return response;
}

/** POSTs a form with the jar's cookies (and keeps what it sets). */
export async function postForm(
  app: FastifyInstance,
  jar: CookieJar,
  url: string,
  fields: Record<string, string> | string,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const payload = typeof fields === 'string' ? fields : new URLSearchParams(fields).toString();
  const response = await app.inject({
    method: 'POST',
    url,
    payload,
    headers: { 'content-type': FORM, cookie: jar.header(), ...headers },
  });
  jar.keep(response);
  return response;
}

/** Signs in through the /login form; returns the jar and the account page's form token. */
export async function signInWithForm(
  app: FastifyInstance,
  email: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<{ jar: CookieJar; token: string }> {
  const jar = new CookieJar();
  const page = await getPage(app, jar, '/login', headers);
  const response = await postForm(
    app,
    jar,
    '/login',
    { email, password, csrf_token: formToken(page.body) },
    headers,
  );
  if (response.statusCode !== 303) throw new Error(`sign-in failed: ${response.statusCode}`);
  const account = await getPage(app, jar, '/account', headers);
  return { jar, token: formToken(account.body) };
}
