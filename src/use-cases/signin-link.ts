/**
 * Sign-in links (passwordless): a mail with a single-use link and a 6-digit code, valid
 * `LATCHKEY_SIGNIN_LINK_TTL`. The per-account password backoff never applies: this is the way
 * in for an owner whose password login an attacker keeps throttled.
 *
 * The other-device rule: the browser that asked for the link holds a binding cookie whose hash
 * the link's token keeps. Redeemed with that cookie, the link signs in at once. Anywhere else (a
 * phone reading the mail, a mail scanner), it asks for an explicit confirmation first
 * (`confirm: true`, a button on the page) and, without it, leaves the link unused: a link
 * someone else forwarded cannot sign a victim into the sender's account in one click, and a
 * scanner that follows links burns nothing. The code is typed where the request was made, so
 * typing it is the confirmation.
 */

import { LatchkeyError } from '../errors.js';
import { hmacSha256, sha256 } from '../lib/secrets.js';
import { normalizeEmail } from '../password/policy.js';
import type { SessionMode, UserRecord } from '../records.js';
import type { ClientInfo } from '../session/sessions.js';
import { tooManyRequests } from '../throttle/retry.js';
import { assuranceOf } from '../token/assurance.js';
import type { UseCaseContext } from './context.js';
import { establishSession, type SignedIn } from './login.js';
import { humanDuration, linkSecretId, linkTo, newLinkSecret, tokenData } from './mail-links.js';
import { mailFlows } from './recovery.js';
import { randomInt } from 'node:crypto';

export const SIGNIN_LINK = 'signin_link';
export const SIGNIN_CODE = 'signin_code';
/** Wrong codes per address within one link's lifetime before every code of it is dropped. */
const CODE_ATTEMPTS = 5;

export interface SignInLinkUseCases {
  /** Always resolves alike; `binding` is the hash of the asking browser's binding cookie. */
  requestSignInLink(input: { email: string; ip: string; binding: string }): Promise<void>;
  redeemSignInLink(input: {
    token: string;
    mode: SessionMode;
    client: ClientInfo & { ip: string };
    /** The raw binding cookie, when the browser sent one. */
    binding: string | undefined;
    confirm: boolean;
  }): Promise<SignedIn>;
  redeemSignInCode(input: {
    email: string;
    code: string;
    mode: SessionMode;
    client: ClientInfo & { ip: string };
  }): Promise<SignedIn>;
}

/** Signs in a user who proved the mailbox, in the mode asked for; drops the other links and codes. */
async function signIn(
  context: UseCaseContext,
  user: UserRecord,
  mode: SessionMode,
  client: ClientInfo & { ip: string },
  via: string,
): Promise<SignedIn> {
  const { store, clock, logger } = context;
  if (user.status !== 'active') throw new LatchkeyError('invalid_link');
  const now = clock();
  // Reading the mail proved the mailbox.
  if (user.emailVerifiedAt === null)
    await context.updateUser(user.id, { emailVerifiedAt: now, updatedAt: now });
  await Promise.all([
    store.deleteOneTimeTokens(user.id, SIGNIN_LINK),
    store.deleteOneTimeTokens(user.id, SIGNIN_CODE),
  ]);
  const result = await establishSession(context, {
    user: { ...user, emailVerifiedAt: user.emailVerifiedAt ?? now },
    mode,
    client,
    assurance: assuranceOf(['email'], now),
  });
  logger.info(
    {
      event: 'login.success',
      method: via,
      userId: user.id,
      sessionId: result.session.id,
      mode,
      ip: client.ip,
      userAgent: client.userAgent,
    },
    'signed in by mail',
  );
  return result;
}

/**
 * @example
 * const links = createSignInLinkUseCases(context);
 * await links.requestSignInLink({ email, ip, binding: sha256(cookie) });
 */
export function createSignInLinkUseCases(context: UseCaseContext): SignInLinkUseCases {
  const { store, clock } = context;

  function flows(): ReturnType<typeof mailFlows> {
    const mail = mailFlows(context);
    if (!mail.settings.signInLinks) throw new LatchkeyError('not_found', 'Sign-in links are off');
    return mail;
  }

  function codeId(userId: string, code: string): string {
    return hmacSha256(flows().codeKey, `${userId}:${code}`);
  }

  return {
    async requestSignInLink({ email, ip, binding }) {
      const mail = flows();
      const address = normalizeEmail(email) ?? email.trim().toLowerCase();
      await mail.throttle.check({ flow: SIGNIN_LINK, address, ip });
      const user = await store.getUserByEmail(address);
      if (user?.status !== 'active') return;
      const now = clock();
      const expiresAt = now + mail.settings.signInLinkTTL;
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      await store.deleteOneTimeTokens(user.id, SIGNIN_CODE);
      await store.deleteCounter(`signin-code:${user.id}`);
      await store.putOneTimeToken({
        id: codeId(user.id, code),
        purpose: SIGNIN_CODE,
        subject: user.id,
        data: null,
        createdAt: now,
        expiresAt,
      });
      const { secret, id } = newLinkSecret();
      await mail.outbox.queue({
        kind: 'signin_link',
        to: user.email,
        values: {
          link: linkTo(mail, '/login/link', secret),
          code,
          expiresIn: humanDuration(mail.settings.signInLinkTTL),
        },
        token: {
          id,
          purpose: SIGNIN_LINK,
          subject: user.id,
          data: JSON.stringify({ binding }),
          createdAt: now,
          expiresAt,
        },
        supersede: true,
      });
    },

    async redeemSignInLink({ token: secret, mode, client, binding, confirm }) {
      flows();
      if (binding === undefined && !confirm) throw new LatchkeyError('confirmation_required');
      const id = linkSecretId(secret);
      const token = id === null ? null : await store.consumeOneTimeToken(id, SIGNIN_LINK, clock());
      if (token === null) throw new LatchkeyError('invalid_link');
      const sameBrowser = binding !== undefined && tokenData(token.data).binding === sha256(binding);
      if (!sameBrowser && !confirm) {
        await store.putOneTimeToken(token);
        throw new LatchkeyError('confirmation_required');
      }
      const user = await store.getUserById(token.subject);
      if (user === null) throw new LatchkeyError('invalid_link');
      return signIn(context, user, mode, client, 'signin_link');
    },

    async redeemSignInCode({ email, code, mode, client }) {
      flows();
      const address = normalizeEmail(email) ?? email.trim().toLowerCase();
      const user = await store.getUserByEmail(address);
      if (user === null || !/^\d{6}$/.test(code)) throw new LatchkeyError('invalid_link');
      const now = clock();
      const failures = await store.getCounter(`signin-code:${user.id}`, now);
      if (failures !== null && failures.count >= CODE_ATTEMPTS)
        throw tooManyRequests(failures.expiresAt, now);
      const token = await store.consumeOneTimeToken(codeId(user.id, code), SIGNIN_CODE, now);
      if (token === null) {
        const counted = await store.increment(`signin-code:${user.id}`, flows().settings.signInLinkTTL, now);
        // Out of guesses: the codes die, the link in the mail still works.
        if (counted.count >= CODE_ATTEMPTS) await store.deleteOneTimeTokens(user.id, SIGNIN_CODE);
        throw new LatchkeyError('invalid_link');
      }
      return signIn(context, user, mode, client, 'signin_code');
    },
  };
}
