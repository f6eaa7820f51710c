/**
 * `/account/security`: two-factor authentication from the browser. Set up an authenticator app
 * (a QR code of the `otpauth://` URI drawn on the server, the secret for typing, the first code),
 * see the recovery codes once (and how many are left; new ones with the password and a code),
 * turn it off with the password and a code. Every form carries the
 * session's CSRF token and makes one use-case call.
 *
 * Confirming and turning off renew the session (new id and secret, the other sessions signed
 * out), so those answers set the new cookies. The recovery codes are the answer to the confirm
 * post itself (200, not a 303): they exist nowhere else to be shown by a later GET.
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLatchkeyError, LatchkeyError } from '../../errors.js';
import type { Principal, SignedIn } from '../../use-cases/index.js';
import { sessionCookie, setHybridCookies } from '../auth-cookies.js';
import { readForm, type FormFields } from './form-body.js';
import { noticeFor } from './messages.js';
import { CSRF_REFUSAL, type PageKit, type PageModule } from './page.js';
import { RecoveryCodesView, SecurityView, TotpSetupView, type SecurityViewProps } from './security-view.js';

const ENROL_FIELDS = { csrf_token: { maxLength: 128 }, label: { maxLength: 100 } } as const;
const CONFIRM_FIELDS = {
  csrf_token: { maxLength: 128 },
  factor_id: { maxLength: 64, required: true },
  code: { maxLength: 16, required: true },
} as const;
const CODES_FIELDS = {
  csrf_token: { maxLength: 128 },
  username: { maxLength: 320 },
  password: { maxLength: 4096, required: true },
  code: { maxLength: 40, required: true },
} as const;
const REMOVE_FIELDS = {
  csrf_token: { maxLength: 128 },
  factor_id: { maxLength: 64, required: true },
  // The hidden username field is for password managers; it is ignored.
  username: { maxLength: 320 },
  password: { maxLength: 4096, required: true },
  code: { maxLength: 40, required: true },
} as const;

/** The words of a refusal of these forms; the rest as every page says them. */
function factorRefusal(
  kit: PageKit,
  reply: FastifyReply,
  error: unknown,
): { status: number; message: string } {
  if (isLatchkeyError(error, 'invalid_code')) {
    return {
      status: error.status,
      message: 'The code is incorrect. Check the time on your phone and try again.',
    };
  }
  if (isLatchkeyError(error, 'not_found')) {
    return { status: error.status, message: 'This set-up has ended. Start again.' };
  }
  if (isLatchkeyError(error, 'factor_exists')) {
    return { status: error.status, message: 'Two-factor authentication is already on.' };
  }
  if (isLatchkeyError(error, 'invalid_credentials')) {
    return { status: error.status, message: 'The password is incorrect.' };
  }
  if (isLatchkeyError(error, 'forbidden')) {
    // An account without a password (made with a passkey): a second factor would guard nothing.
    return {
      status: error.status,
      message: 'Your account has no password: set one first (Forgot your password? on the sign-in page).',
    };
  }
  return kit.refusal(reply, error);
}

/** Sets the cookies of a renewed session (after a factor change), in its mode. */
export function setRenewedCookies(kit: PageKit, reply: FastifyReply, renewed: SignedIn): void {
  const now = kit.latchkey.clock();
  if (renewed.session.mode === 'cookie') {
    void reply.header('set-cookie', sessionCookie(kit.names, renewed.sessionToken, renewed.session, now));
  } else if (renewed.accessToken !== null && renewed.refreshToken !== null) {
    const { accessToken, refreshToken } = renewed;
    setHybridCookies(reply, kit.names, { accessToken, refreshToken, session: renewed.session }, now);
  }
}

async function renderSecurity(
  kit: PageKit,
  reply: FastifyReply,
  principal: Principal,
  status: number,
  extras: Pick<SecurityViewProps, 'notice' | 'setupError' | 'removeError' | 'codesError'> = {},
): Promise<FastifyReply> {
  const [factors, codesLeft] = await Promise.all([
    kit.latchkey.auth.listFactors(principal),
    kit.latchkey.auth.recoveryCodesLeft(principal),
  ]);
  return kit.render(
    reply,
    status,
    <SecurityView
      site={kit.site}
      visitor={kit.visitor(principal)}
      email={principal.user.email}
      factors={factors}
      codesLeft={codesLeft}
      {...extras}
    />,
  );
}

async function renderSetup(
  kit: PageKit,
  reply: FastifyReply,
  principal: Principal,
  status: number,
  error: string | null = null,
): Promise<FastifyReply> {
  const enrolment = await kit.latchkey.auth.pendingTotp(principal);
  if (enrolment === null) return kit.redirect(reply, '/account/security');
  return kit.render(
    reply,
    status,
    <TotpSetupView site={kit.site} visitor={kit.visitor(principal)} enrolment={enrolment} error={error} />,
  );
}

/**
 * A live session (else 303 to the sign-in page), the form read and its CSRF token checked (else
 * `refused` answers the 403). Returns null when the reply is already sent.
 */
export async function beginForm<F extends FormFields>(
  kit: PageKit,
  request: FastifyRequest,
  reply: FastifyReply,
  fields: F,
  refused: (principal: Principal, message: string) => Promise<FastifyReply>,
): Promise<{ principal: Principal; form: ReturnType<typeof readForm<F>> } | null> {
  const principal = await kit.signedIn(request, reply);
  if (principal === null) {
    await kit.redirect(reply, '/login?notice=session_ended');
    return null;
  }
  const form = readForm(request.body, fields);
  if (!kit.checkSessionToken(request, principal, (form as { csrf_token?: string }).csrf_token)) {
    await refused(principal, CSRF_REFUSAL.message);
    return null;
  }
  return { principal, form };
}

/** A TOTP code is 6 digits (spaces allowed); anything else typed in the field is a recovery code. */
function isTotpCode(value: string): boolean {
  return /^\d{6}$/.test(value.replace(/\s/g, ''));
}

export const securityPage: PageModule = {
  name: 'security',
  register(scope, kit) {
    const { auth } = kit.latchkey;

    scope.get<{ Querystring: { notice?: string } }>('/account/security', async (request, reply) => {
      const principal = await kit.signedIn(request, reply);
      if (principal === null) return kit.redirect(reply, '/login');
      return renderSecurity(kit, reply, principal, 200, { notice: noticeFor(request.query.notice) });
    });

    scope.post('/account/security/totp', async (request, reply) => {
      const begun = await beginForm(kit, request, reply, ENROL_FIELDS, (principal, message) =>
        renderSecurity(kit, reply, principal, CSRF_REFUSAL.status, { setupError: message }),
      );
      if (begun === null) return reply;
      const { principal, form } = begun;
      try {
        await auth.enrolTotp(principal, { label: form.label });
      } catch (error) {
        const refusal = factorRefusal(kit, reply, error);
        return renderSecurity(kit, reply, principal, refusal.status, { setupError: refusal.message });
      }
      return kit.redirect(reply, '/account/security/totp');
    });

    scope.get('/account/security/totp', async (request, reply) => {
      const principal = await kit.signedIn(request, reply);
      if (principal === null) return kit.redirect(reply, '/login');
      return renderSetup(kit, reply, principal, 200);
    });

    scope.post('/account/security/totp/confirm', async (request, reply) => {
      const begun = await beginForm(kit, request, reply, CONFIRM_FIELDS, (principal, message) =>
        renderSetup(kit, reply, principal, CSRF_REFUSAL.status, message),
      );
      if (begun === null) return reply;
      const { principal, form } = begun;
      let confirmed;
      try {
        confirmed = await auth.confirmTotp(principal, {
          factorId: form.factor_id,
          code: form.code,
          client: kit.clientInfo(request),
        });
      } catch (error) {
        const refusal = factorRefusal(kit, reply, error);
        return renderSetup(kit, reply, principal, refusal.status, refusal.message);
      }
      const { signedIn, recoveryCodes } = confirmed;
      setRenewedCookies(kit, reply, signedIn);
      return kit.render(
        reply,
        200,
        <RecoveryCodesView
          site={kit.site}
          visitor={kit.visitor({ ...signedIn, via: principal.via })}
          codes={recoveryCodes}
        />,
      );
    });

    // The new codes are the answer itself (200, not a 303), like the confirm post's.
    scope.post('/account/security/recovery-codes', async (request, reply) => {
      const begun = await beginForm(kit, request, reply, CODES_FIELDS, (principal, message) =>
        renderSecurity(kit, reply, principal, CSRF_REFUSAL.status, { codesError: message }),
      );
      if (begun === null) return reply;
      const { principal, form } = begun;
      const totp = isTotpCode(form.code);
      let codes;
      try {
        if (form.code.trim() === '') throw new LatchkeyError('invalid_code');
        codes = await auth.regenerateRecoveryCodes(principal, {
          password: form.password,
          code: totp ? form.code : undefined,
          recoveryCode: totp ? undefined : form.code,
          client: kit.clientInfo(request),
        });
      } catch (error) {
        const refusal = isLatchkeyError(error, 'not_found')
          ? {
              status: error.status,
              message: 'Two-factor authentication is off: there are no codes to replace.',
            }
          : factorRefusal(kit, reply, error);
        return renderSecurity(kit, reply, principal, refusal.status, { codesError: refusal.message });
      }
      return kit.render(
        reply,
        200,
        <RecoveryCodesView site={kit.site} visitor={kit.visitor(principal)} codes={codes} replaced />,
      );
    });

    scope.post('/account/security/totp/remove', async (request, reply) => {
      const begun = await beginForm(kit, request, reply, REMOVE_FIELDS, (principal, message) =>
        renderSecurity(kit, reply, principal, CSRF_REFUSAL.status, { removeError: message }),
      );
      if (begun === null) return reply;
      const { principal, form } = begun;
      const totp = isTotpCode(form.code);
      let renewed;
      try {
        if (form.code.trim() === '') throw new LatchkeyError('invalid_code');
        renewed = await auth.removeFactor(principal, {
          factorId: form.factor_id,
          password: form.password,
          code: totp ? form.code : undefined,
          recoveryCode: totp ? undefined : form.code,
          client: kit.clientInfo(request),
        });
      } catch (error) {
        const refusal = isLatchkeyError(error, 'not_found')
          ? { status: error.status, message: 'Two-factor authentication is already off.' }
          : factorRefusal(kit, reply, error);
        return renderSecurity(kit, reply, principal, refusal.status, { removeError: refusal.message });
      }
      setRenewedCookies(kit, reply, renewed);
      return kit.redirect(reply, '/account/security?notice=mfa_disabled');
    });
  },
};
