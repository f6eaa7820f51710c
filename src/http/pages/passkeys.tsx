/**
 * `/account/passkeys`: the user's passkeys. Listing, renaming and removing are server-rendered
 * forms (the session's CSRF token, one use-case call, a 303 after); removing needs the password
 * and renews the session (the other sessions are signed out), so that answer sets new cookies.
 * Adding one needs the browser's WebAuthn API: the page loads its own script
 * (`src/passkey-ui/account.ts`), the one reason it has a CSP with `script-src 'self'`.
 */

import type { FastifyReply } from 'fastify';
import { isLatchkeyError } from '../../errors.js';
import type { Principal } from '../../use-cases/index.js';
import { noticeFor } from './messages.js';
import { CSRF_REFUSAL, type PageKit, type PageModule } from './page.js';
import { PASSKEY_CSP, registerPasskeyScript } from './passkey-scripts.js';
import { PasskeysView } from './passkeys-view.js';
import { beginForm, setRenewedCookies } from './security.js';

const RENAME_FIELDS = {
  csrf_token: { maxLength: 128 },
  passkey_id: { maxLength: 1400, required: true },
  name: { maxLength: 100, required: true },
} as const;
const REMOVE_FIELDS = {
  csrf_token: { maxLength: 128 },
  passkey_id: { maxLength: 1400, required: true },
  // The hidden username field is for password managers; it is ignored.
  username: { maxLength: 320 },
  password: { maxLength: 4096, required: true },
} as const;

/** The words of a refusal of these forms; the rest as every page says them. */
function passkeyRefusal(
  kit: PageKit,
  reply: FastifyReply,
  error: unknown,
): { status: number; message: string } {
  if (isLatchkeyError(error, 'not_found')) {
    return { status: error.status, message: 'This passkey is not on your account (any more).' };
  }
  if (isLatchkeyError(error, 'invalid_credentials')) {
    return { status: error.status, message: 'The password is incorrect.' };
  }
  if (isLatchkeyError(error, 'forbidden')) {
    // The last passkey of an account without a password, or the most passkeys an account has.
    return { status: error.status, message: `${error.message}.` };
  }
  return kit.refusal(reply, error);
}

export const passkeysPage: PageModule = {
  name: 'passkeys',
  register(scope, kit) {
    const { auth } = kit.latchkey;
    const script = registerPasskeyScript(scope, 'account');

    async function render(
      reply: FastifyReply,
      principal: Principal,
      status: number,
      extras: { notice?: string | null; error?: string | null } = {},
    ): Promise<FastifyReply> {
      const passkeys = await auth.listPasskeys(principal);
      return kit.render(
        reply,
        status,
        <PasskeysView
          site={kit.site}
          visitor={kit.visitor(principal)}
          email={principal.user.email}
          passkeys={passkeys}
          script={script}
          {...extras}
        />,
        { csp: PASSKEY_CSP },
      );
    }

    scope.get<{ Querystring: { notice?: string } }>('/account/passkeys', async (request, reply) => {
      const principal = await kit.signedIn(request, reply);
      if (principal === null) return kit.redirect(reply, '/login');
      return render(reply, principal, 200, { notice: noticeFor(request.query.notice) });
    });

    scope.post('/account/passkeys/rename', async (request, reply) => {
      const begun = await beginForm(kit, request, reply, RENAME_FIELDS, (principal, message) =>
        render(reply, principal, CSRF_REFUSAL.status, { error: message }),
      );
      if (begun === null) return reply;
      const { principal, form } = begun;
      try {
        await auth.renamePasskey(principal, { passkeyId: form.passkey_id, name: form.name });
      } catch (error) {
        const refusal = passkeyRefusal(kit, reply, error);
        return render(reply, principal, refusal.status, { error: refusal.message });
      }
      return kit.redirect(reply, '/account/passkeys?notice=passkey_renamed');
    });

    scope.post('/account/passkeys/remove', async (request, reply) => {
      const begun = await beginForm(kit, request, reply, REMOVE_FIELDS, (principal, message) =>
        render(reply, principal, CSRF_REFUSAL.status, { error: message }),
      );
      if (begun === null) return reply;
      const { principal, form } = begun;
      let renewed;
      try {
        renewed = await auth.removePasskey(principal, {
          passkeyId: form.passkey_id,
          password: form.password,
          client: kit.clientInfo(request),
        });
      } catch (error) {
        const refusal = passkeyRefusal(kit, reply, error);
        return render(reply, principal, refusal.status, { error: refusal.message });
      }
      setRenewedCookies(kit, reply, renewed);
      return kit.redirect(reply, '/account/passkeys?notice=passkey_removed');
    });
  },
};
