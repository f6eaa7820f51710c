/**
 * `/account` and its forms: revoke one session, sign out the others or everywhere, change the
 * password. Every form carries the session's CSRF token; every success answers 303.
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../use-cases/index.js';
import { clearAuthCookies, sessionCookie, setHybridCookies } from '../auth-cookies.js';
import { AccountView, type AccountViewProps } from './account-view.js';
import { readForm } from './form-body.js';
import { noticeFor } from './messages.js';
import { CSRF_REFUSAL, type PageKit, type PageModule } from './page.js';

const TOKEN_ONLY = { csrf_token: { maxLength: 128 } } as const;
const PASSWORD_FIELDS = {
  csrf_token: { maxLength: 128 },
  // The hidden username field is for password managers; it is ignored.
  username: { maxLength: 320 },
  current_password: { maxLength: 4096, required: true },
  new_password: { maxLength: 4096, required: true },
} as const;

const sessionIdParams = {
  params: {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
  },
} as const;

type Extras = Pick<AccountViewProps, 'notice' | 'sessionsError' | 'passwordError'>;

async function renderAccount(
  kit: PageKit,
  reply: FastifyReply,
  principal: Principal,
  status: number,
  extras: Extras = {},
): Promise<FastifyReply> {
  const [sessions, factors] = await Promise.all([
    kit.latchkey.auth.listSessions(principal),
    kit.latchkey.auth.listFactors(principal),
  ]);
  return kit.render(
    reply,
    status,
    <AccountView
      site={kit.site}
      visitor={kit.visitor(principal)}
      user={principal.user}
      sessions={sessions}
      currentSessionId={principal.session.id}
      twoFactor={factors.some((factor) => factor.confirmedAt !== null)}
      {...extras}
    />,
  );
}

/**
 * The common start of every account form: a live session (else 303 to the sign-in page), the
 * form read, and its CSRF token checked (else the page again with a 403). Returns null when the
 * reply is already sent.
 */
async function beginForm<F extends Record<string, { maxLength: number; required?: boolean }>>(
  kit: PageKit,
  request: FastifyRequest,
  reply: FastifyReply,
  fields: F,
  errorSlot: keyof Extras,
): Promise<{ principal: Principal; form: ReturnType<typeof readForm<F>> } | null> {
  const principal = await kit.signedIn(request, reply);
  if (principal === null) {
    await kit.redirect(reply, '/login?notice=session_ended');
    return null;
  }
  const form = readForm(request.body, fields);
  const token = (form as { csrf_token?: string }).csrf_token;
  if (!kit.checkSessionToken(request, principal, token)) {
    await renderAccount(kit, reply, principal, CSRF_REFUSAL.status, { [errorSlot]: CSRF_REFUSAL.message });
    return null;
  }
  return { principal, form };
}

export const accountPage: PageModule = {
  name: 'account',
  register(scope, kit) {
    const { latchkey, names } = kit;
    const { auth, clock } = latchkey;

    scope.get<{ Querystring: { notice?: string } }>('/account', async (request, reply) => {
      const principal = await kit.signedIn(request, reply);
      if (principal === null) return kit.redirect(reply, '/login');
      return renderAccount(kit, reply, principal, 200, { notice: noticeFor(request.query.notice) });
    });

    scope.post<{ Params: { id: string } }>(
      '/account/sessions/:id/revoke',
      { schema: sessionIdParams },
      async (request, reply) => {
        const begun = await beginForm(kit, request, reply, TOKEN_ONLY, 'sessionsError');
        if (begun === null) return reply;
        const { principal } = begun;
        try {
          await auth.revokeSession(principal, request.params.id);
        } catch (error) {
          const refusal = kit.refusal(reply, error);
          return renderAccount(kit, reply, principal, refusal.status, { sessionsError: refusal.message });
        }
        if (request.params.id !== principal.session.id) {
          return kit.redirect(reply, '/account?notice=session_revoked');
        }
        clearAuthCookies(reply, names);
        return kit.redirect(reply, '/login?notice=signed_out');
      },
    );

    scope.post('/account/sign-out-others', async (request, reply) => {
      const begun = await beginForm(kit, request, reply, TOKEN_ONLY, 'sessionsError');
      if (begun === null) return reply;
      await auth.revokeAllSessions(begun.principal, { keepCurrent: true });
      return kit.redirect(reply, '/account?notice=others_revoked');
    });

    scope.post('/account/sign-out-everywhere', async (request, reply) => {
      const begun = await beginForm(kit, request, reply, TOKEN_ONLY, 'sessionsError');
      if (begun === null) return reply;
      await auth.revokeAllSessions(begun.principal, { keepCurrent: false });
      clearAuthCookies(reply, names);
      return kit.redirect(reply, '/login?notice=signed_out_everywhere');
    });

    scope.post('/account/password', async (request, reply) => {
      const begun = await beginForm(kit, request, reply, PASSWORD_FIELDS, 'passwordError');
      if (begun === null) return reply;
      const { principal, form } = begun;
      let renewed;
      try {
        renewed = await auth.changePassword(principal, {
          currentPassword: form.current_password,
          newPassword: form.new_password,
          client: kit.clientInfo(request),
        });
      } catch (error) {
        const refusal = kit.refusal(reply, error);
        return renderAccount(kit, reply, principal, refusal.status, { passwordError: refusal.message });
      }
      // The renewed session replaces this one (new id and secret), in the same mode.
      if (renewed.session.mode === 'cookie') {
        void reply.header('set-cookie', sessionCookie(names, renewed.sessionToken, renewed.session, clock()));
      } else if (renewed.accessToken !== null && renewed.refreshToken !== null) {
        const { accessToken, refreshToken } = renewed;
        setHybridCookies(reply, names, { accessToken, refreshToken, session: renewed.session }, clock());
      }
      return kit.redirect(reply, '/account?notice=password_changed');
    });
  },
};
