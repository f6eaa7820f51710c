/**
 * `/lab`, the mode explorer: signs the same user in as cookie, token and hybrid side by side, in
 * the visitor's own browser against this server (the script in `src/lab/` does the signing in,
 * through the JSON API and `latchkey/browser`). `GET /lab/state` tells the script which auth
 * cookies came with its request and the attributes the server sets them with: JavaScript
 * cannot see HttpOnly cookies, and the answer never carries a cookie's value.
 */

import { serializeCookie, type CookieOptions } from '../../cookies/cookies.js';
import { baseCookie, type CookieNames } from '../auth-cookies.js';
import { LabView } from './lab-view.js';
import { registerLabScript } from './lab-script.js';
import { PAGE_CSP, type PageModule } from './page.js';

/** The pages' CSP, plus the lab's own script file and its requests to this origin; nothing inline. */
export const LAB_CSP = PAGE_CSP.replace(
  "default-src 'none';",
  "default-src 'none'; script-src 'self'; connect-src 'self';",
);

export interface LabCookie {
  kind: 'session' | 'access' | 'refresh' | 'device';
  name: string;
  /** Whether the browser sent it with this request (a cookie scoped to another path does not come). */
  arrived: boolean;
  /** The attributes of its `Set-Cookie`, as the server sets them (`Max-Age` only with "remember me"). */
  attributes: string;
}

function attributesOf(name: string, options: CookieOptions): string {
  return serializeCookie(name, '', options).slice(name.length + 3);
}

/** The auth cookies of this server and their attributes, by kind. */
export function labCookies(names: CookieNames, arrived: (name: string) => boolean): LabCookie[] {
  const base = baseCookie(names);
  const kinds: [LabCookie['kind'], string, CookieOptions][] = [
    ['session', names.session, base],
    ['access', names.access, base],
    ['refresh', names.refresh, { ...base, sameSite: 'Strict', path: names.refreshPath }],
    ['device', names.device, { ...base, sameSite: 'Strict', maxAge: 31_536_000 }],
  ];
  return kinds.map(([kind, name, options]) => ({
    kind,
    name,
    arrived: arrived(name),
    attributes: attributesOf(name, options),
  }));
}

export const labPage: PageModule = {
  name: 'lab',
  register(scope, kit) {
    const script = registerLabScript(scope);
    scope.get('/lab', async (request, reply) => {
      const principal = await kit.signedIn(request, reply);
      const visitor = principal === null ? null : kit.visitor(principal);
      return kit.render(reply, 200, <LabView site={kit.site} visitor={visitor} script={script} />, {
        csp: LAB_CSP,
      });
    });
    scope.get('/lab/state', (request, reply) =>
      reply.send({ cookies: labCookies(kit.names, (name) => request.cookies.has(name)) }),
    );
  },
};
