import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Latchkey } from '../../app.js';
import type { LoginResult, RefreshResult } from '../../auth/auth-service.js';
import { serializeCookie } from '../../cookies/cookies.js';
import { createCSRFToken, CSRF_HEADER, verifyCSRFToken } from '../../csrf/csrf.js';
import { LatchkeyError } from '../../errors.js';
import type { SessionMode } from '../../records.js';
import { authenticateRequest } from '../authenticate.js';
import { baseCookie, type CookieNames } from '../cookie-names.js';

const noNul = '^[^\\u0000]*$';
const email = { type: 'string', minLength: 1, maxLength: 320, pattern: noNul } as const;
// Up to 1024 characters after normalization; the byte bound leaves room for 4-byte characters.
const password = { type: 'string', minLength: 1, maxLength: 4096 } as const;

const signupSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['email', 'password'],
    properties: { email, password },
  },
} as const;

const loginSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['email', 'password'],
    properties: { email, password, mode: { type: 'string', enum: ['cookie', 'token', 'hybrid'] } },
  },
} as const;

const refreshSchema = {
  body: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { refresh_token: { type: 'string', minLength: 1, maxLength: 512, pattern: noNul } },
  },
} as const;

const passwordSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['current_password', 'new_password'],
    properties: { current_password: password, new_password: password },
  },
} as const;

function clientInfo(request: FastifyRequest): { userAgent: string | null; ip: string } {
  const agent = request.headers['user-agent'];
  return { userAgent: typeof agent === 'string' ? agent.slice(0, 256) : null, ip: request.ip };
}

export function clearAuthCookies(reply: FastifyReply, names: CookieNames): void {
  const base = baseCookie(names);
  void reply.header('set-cookie', [
    serializeCookie(names.session, '', { ...base, maxAge: 0 }),
    serializeCookie(names.access, '', { ...base, maxAge: 0 }),
    serializeCookie(names.refresh, '', { ...base, sameSite: 'Strict', path: names.refreshPath, maxAge: 0 }),
  ]);
}

function setHybridCookies(
  reply: FastifyReply,
  names: CookieNames,
  result: {
    accessToken: { token: string; expiresIn: number };
    refreshToken: string;
    session: { absoluteExpiresAt: number };
  },
  now: number,
  extra: string[] = [],
): void {
  const base = baseCookie(names);
  void reply.header('set-cookie', [
    serializeCookie(names.access, result.accessToken.token, {
      ...base,
      maxAge: result.accessToken.expiresIn,
    }),
    serializeCookie(names.refresh, result.refreshToken, {
      ...base,
      sameSite: 'Strict',
      path: names.refreshPath,
      maxAge: Math.floor((result.session.absoluteExpiresAt - now) / 1000),
    }),
    ...extra,
  ]);
}

export function registerAuthRoutes(app: FastifyInstance, latchkey: Latchkey, names: CookieNames): void {
  const { auth, clock } = latchkey;
  const sessionSummary = (session: LoginResult['session']): Record<string, unknown> => ({
    id: session.id,
    mode: session.mode,
    expires_at: new Date(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)).toISOString(),
  });

  app.post<{ Body: { email: string; password: string } }>(
    '/v1/signup',
    { schema: signupSchema },
    async (request, reply) => {
      const user = await auth.signup({ ...request.body, ip: request.ip });
      return reply.code(201).send({ user: auth.publicUser(user) });
    },
  );

  app.post<{ Body: { email: string; password: string; mode?: SessionMode } }>(
    '/v1/login',
    { schema: loginSchema },
    async (request, reply) => {
      const mode = request.body.mode ?? 'cookie';
      // A session cookie sent to login is never reused (no fixation); it is revoked if still valid.
      const previous = request.cookies.get(names.session);
      const result = await auth.login({
        email: request.body.email,
        password: request.body.password,
        mode,
        client: clientInfo(request),
        deviceCookie: request.cookies.get(names.device),
      });
      if (previous !== undefined) {
        await auth
          .authenticateSessionToken(previous)
          .then((old) => auth.logout(old))
          .catch(() => undefined);
      }
      const base = baseCookie(names);
      const device = serializeCookie(names.device, result.deviceCookie, {
        ...base,
        sameSite: 'Strict',
        maxAge: 31_536_000,
      });
      const user = auth.publicUser(result.user);
      if (mode === 'cookie') {
        const maxAge = Math.floor((result.session.absoluteExpiresAt - clock()) / 1000);
        void reply.header('set-cookie', [
          serializeCookie(names.session, result.sessionToken, { ...base, maxAge }),
          device,
        ]);
        return reply.send({
          user,
          session: sessionSummary(result.session),
          csrf_token: createCSRFToken(latchkey.csrfKey, result.session.id),
        });
      }
      const accessToken = result.accessToken;
      const refreshToken = result.refreshToken;
      if (accessToken === null || refreshToken === null) throw new LatchkeyError('internal_error');
      if (mode === 'hybrid') {
        setHybridCookies(reply, names, { accessToken, refreshToken, session: result.session }, clock(), [
          device,
        ]);
        return reply.send({
          user,
          session: sessionSummary(result.session),
          csrf_token: createCSRFToken(latchkey.csrfKey, result.session.id),
          expires_in: accessToken.expiresIn,
        });
      }
      void reply.header('set-cookie', device);
      return reply.send({
        access_token: accessToken.token,
        token_type: 'Bearer',
        expires_in: accessToken.expiresIn,
        refresh_token: refreshToken,
        user,
        session: sessionSummary(result.session),
      });
    },
  );

  app.post<{ Body: { refresh_token?: string } | null }>(
    '/v1/refresh',
    { schema: refreshSchema },
    async (request, reply) => {
      const fromBody = request.body?.refresh_token;
      const fromCookie = request.cookies.get(names.refresh);
      let result: RefreshResult;
      if (fromBody !== undefined) {
        result = await auth.refresh(fromBody, 'token');
        return reply.send({
          access_token: result.accessToken.token,
          token_type: 'Bearer',
          expires_in: result.accessToken.expiresIn,
          refresh_token: result.refreshToken,
          user: auth.publicUser(result.user),
        });
      }
      if (fromCookie === undefined) {
        throw new LatchkeyError('invalid_grant', 'No refresh token in the body or the refresh cookie');
      }
      // The refresh cookie rides along automatically, so it needs the CSRF token too. The
      // session is known only after the lookup; the check happens before anything changes.
      const record = await latchkey.refreshTokens.lookup(fromCookie);
      const header = request.headers[CSRF_HEADER];
      if (record === null) throw new LatchkeyError('invalid_grant');
      if (
        !verifyCSRFToken(latchkey.csrfKey, record.sessionId, typeof header === 'string' ? header : undefined)
      ) {
        throw new LatchkeyError('csrf_failed');
      }
      result = await auth.refresh(fromCookie, 'hybrid');
      setHybridCookies(reply, names, result, clock());
      return reply.send({
        user: auth.publicUser(result.user),
        csrf_token: createCSRFToken(latchkey.csrfKey, result.session.id),
        expires_in: result.accessToken.expiresIn,
      });
    },
  );

  app.get('/v1/me', async (request, reply) => {
    const principal = await authenticateRequest(request, latchkey, names);
    return reply.send({ user: auth.publicUser(principal.user), session: sessionSummary(principal.session) });
  });

  app.post('/v1/logout', async (request, reply) => {
    const principal = await authenticateRequest(request, latchkey, names);
    await auth.logout(principal);
    clearAuthCookies(reply, names);
    return reply.code(204).send();
  });

  app.post<{ Body: { current_password: string; new_password: string } }>(
    '/v1/password',
    { schema: passwordSchema },
    async (request, reply) => {
      const principal = await authenticateRequest(request, latchkey, names);
      await auth.changePassword(principal, {
        currentPassword: request.body.current_password,
        newPassword: request.body.new_password,
      });
      return reply.code(204).send();
    },
  );
}
