/**
 * The use cases of the auth server, one module each, composed into the one object the HTTP
 * routes and the CLI call: every route makes one call here. No HTTP in this folder: JSON
 * documents and cookies are `src/http/`'s.
 *
 * | use case | module |
 * | --- | --- |
 * | sign-up | `signup.ts` |
 * | login (password, login steps, session) | `login.ts` |
 * | authentication of a request's credential | `authenticate.ts` |
 * | refresh (body or hybrid cookie) | `refresh.ts` |
 * | logout, list and revoke sessions | `sessions.ts` |
 * | change password, enable/disable a user | `account.ts` |
 * | forgot and reset password | `recovery.ts` |
 * | email verification, private sign-up | `verification.ts` |
 * | sign-in links and codes | `signin-link.ts` |
 * | email change | `email-change.ts` |
 * | second factors: set up and remove (TOTP), recovery codes, the mail of a change | `factors.ts`, `recovery-codes.ts`, `factor-mail.ts` |
 * | second step of a login (challenge and code or passkey) | `second-factor.ts` |
 * | step-up: a second factor again raises the session's assurance and renews it | `step-up.ts` |
 * | passkeys: register, sign in, list, rename, remove | `passkeys.ts`, `passkey-assertion.ts` |
 * | the user's own audit trail (security events) | `audit.ts` |
 * | an operator's calls (CLI and admin API): users, their sessions, the audit trail | `admin.ts` |
 * | sign-up with a passkey and no password | `passkey-signup.ts` |
 */

import { createAccountUseCases, type AccountUseCases } from './account.js';
import { createAdminUseCases, type AdminUseCases } from './admin.js';
import { createAuditUseCases, type AuditUseCases } from './audit.js';
import { createAuthenticator, type Principal } from './authenticate.js';
import { createUseCaseContext, type UseCaseOptions } from './context.js';
import { createEmailChangeUseCases, type EmailChangeUseCases } from './email-change.js';
import { createFactorUseCases, type FactorUseCases } from './factors.js';
import { createStepUpUseCases, type StepUpUseCases } from './step-up.js';
import {
  ACTIVE_ACCOUNT_STEP,
  createLogin,
  type LoginInput,
  type LoginResult,
  type LoginStep,
  type SignedIn,
} from './login.js';
import { createPasskeySignupUseCases, type PasskeySignupUseCases } from './passkey-signup.js';
import { createPasskeyUseCases, type PasskeyUseCases } from './passkeys.js';
import { createRecoveryUseCases, type RecoveryUseCases } from './recovery.js';
import { createRefresh, type RefreshInput, type RefreshResult } from './refresh.js';
import {
  createSecondFactorStep,
  createSecondFactorVerification,
  type SecondFactorInput,
} from './second-factor.js';
import { createSessionUseCases, type SessionUseCases } from './sessions.js';
import { createSignInLinkUseCases, type SignInLinkUseCases } from './signin-link.js';
import { createSignUp, type SignUpInput } from './signup.js';
import { createVerificationUseCases, verifiedEmailStep, type VerificationUseCases } from './verification.js';
import type { UserRecord } from '../records.js';

export type { Principal } from './authenticate.js';
export type { LoginInput, LoginResult, LoginStep, SignedIn } from './login.js';
export type { RefreshInput, RefreshResult } from './refresh.js';
export type { UseCaseOptions } from './context.js';
export type { SecondFactorInput } from './second-factor.js';
export type { TotpEnrolment } from './factors.js';
export type { AuditPage, AuditPageInput } from './audit.js';
export { listAuditEvents } from './audit.js';
export type { AdminActor, UserOverview, UserPage, UserPageInput, UserRef } from './admin.js';

export interface AuthService
  extends
    SessionUseCases,
    AccountUseCases,
    RecoveryUseCases,
    SignInLinkUseCases,
    EmailChangeUseCases,
    Omit<VerificationUseCases, 'signUpPrivately'>,
    FactorUseCases,
    PasskeyUseCases,
    StepUpUseCases,
    AuditUseCases,
    AdminUseCases,
    PasskeySignupUseCases {
  /** Sign-up; sends a verification link unless verification is off. */
  signup(input: SignUpInput): Promise<UserRecord>;
  /** Sign-up under `LATCHKEY_EMAIL_VERIFICATION=required`: the same outcome for a taken address. */
  signupPrivately(input: SignUpInput): Promise<void>;
  login(input: LoginInput): Promise<LoginResult>;
  /** `ip`: the client's address; a credential we never issued counts against it (guessing). */
  authenticateSessionToken(token: string, ip: string): Promise<Principal>;
  /** {@link authenticateSessionToken} answered from the near cache, or undefined (see `Authenticator`). */
  authenticateSessionTokenFromCache(token: string, ip: string): Principal | undefined;
  authenticateAccessToken(token: string, via: 'bearer' | 'access-cookie', ip: string): Promise<Principal>;
  /** Rotates a refresh token from the body (token mode) or the hybrid cookie (with CSRF). */
  refresh(input: RefreshInput): Promise<RefreshResult>;
  /** Finishes a login that answered `mfa_required`: its challenge and a code. */
  verifySecondFactor(input: SecondFactorInput): Promise<SignedIn>;
}

export interface AuthServiceOptions extends UseCaseOptions {
  /**
   * Checks between the password and the session (default: the account must be active, its
   * email verified under `LATCHKEY_EMAIL_VERIFICATION=required`, then a second factor when the
   * account has one).
   */
  loginSteps?: readonly LoginStep[];
}

/**
 * Builds every use case over one context.
 *
 * @example
 * const auth = createAuthService({ store, clock, logger, hasher, sessions, throttle, credentialThrottle, refreshTokens, accessTokens, revocations, csrfKey });
 * const user = await auth.signup({ email, password, ip });
 */
export function createAuthService(options: AuthServiceOptions): AuthService {
  const context = createUseCaseContext(options);
  const authenticate = createAuthenticator(context);
  const sessions = createSessionUseCases(context);
  const signUp = createSignUp(context);
  const verification = createVerificationUseCases(context);
  const verificationSetting = options.mail?.settings.emailVerification ?? 'off';
  const steps = options.loginSteps ?? [
    ACTIVE_ACCOUNT_STEP,
    verifiedEmailStep(verificationSetting === 'required'),
    createSecondFactorStep(context),
  ];
  return {
    ...sessions,
    ...createAccountUseCases(context),
    ...createRecoveryUseCases(context),
    ...createSignInLinkUseCases(context),
    ...createEmailChangeUseCases(context),
    ...verification,
    async signup(input) {
      const user = await signUp(input);
      if (verificationSetting !== 'off') await verification.sendVerification(user);
      return user;
    },
    signupPrivately: (input) => verification.signUpPrivately(input, signUp),
    login: createLogin(context, { authenticate, sessions, steps }),
    authenticateSessionToken: (token, ip) => authenticate.sessionToken(token, ip),
    authenticateSessionTokenFromCache: (token, ip) => authenticate.sessionTokenFromCache(token, ip),
    authenticateAccessToken: (token, via, ip) => authenticate.accessToken(token, via, ip),
    refresh: createRefresh(context),
    ...createFactorUseCases(context),
    ...createPasskeyUseCases(context),
    ...createAuditUseCases(context),
    ...createAdminUseCases(context),
    ...createPasskeySignupUseCases(context, {
      signUp,
      sendVerification: (user) => verification.sendVerification(user),
    }),
    verifySecondFactor: createSecondFactorVerification(context),
    ...createStepUpUseCases(context),
  };
}
