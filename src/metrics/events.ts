/**
 * From security events to counters. Every security event is a log call with an `event` field
 * (docs/security.md); `countSecurityEvent` turns one into `latchkey_security_events_total` and
 * the counters derived from it. Only the values of fixed lists become labels: an event or a
 * field value outside them counts as `other`.
 */

import { ADMIN_EVENTS } from '../audit/admin-events.js';
import type { LatchkeyMetrics } from './metrics.js';

/**
 * The events counted under their own name (docs/security.md's catalogue, then the operational
 * ones); any other `event` is `other`.
 */
export const SECURITY_EVENTS: readonly string[] = [
  'login.success',
  'login.failure',
  'login.mfa_required',
  'user.signup',
  'user.disable',
  'user.enable',
  'user.roles',
  'logout',
  'session.renew',
  'session.revoke',
  'session.revoke_all',
  'password.change',
  'password.rehash',
  'security.refresh_token_reuse',
  'throttle.login_failures',
  'throttle.auth_failures',
  'throttle.refresh_flood',
  'csrf.cross_site',
  'csrf.token_refused',
  'csrf.login_refused',
  'mfa.enrol_started',
  'mfa.failure',
  'mfa.recovery_code_used',
  'mfa.factor_added',
  'mfa.factor_removed',
  'mfa.step_up',
  'mfa.recovery_codes_replaced',
  'passkey.failure',
  'passkey.counter_regression',
  'passkey.register_failed',
  'passkey.added',
  'passkey.removed',
  'password.forgot',
  'password.reset',
  'password.reset_failure',
  'password.reset_link',
  'email.verified',
  'email.change_requested',
  'email.changed',
  'user.signup_existing',
  'mail.queued',
  'mail.sent',
  'mail.retry',
  'mail.failed',
  'mail.worker_failed',
  'client.token',
  'client.created',
  'client.disabled',
  'key.rotated',
  ...ADMIN_EVENTS,
  'audit.write_failed',
  'webhook.delivered',
  'webhook.retry',
  'webhook.failed',
  'webhook.queue_failed',
  'webhook.worker_failed',
  'revocations.publish_failed',
  'revocations.poll_failed',
  'revocations.snapshot_failed',
  'revocations.publisher_unavailable',
  'session_cache.channel_down',
  'maintenance.failed',
  'unhandled_rejection',
  // Operational events: not security events, but counted under their names all the same.
  'listening',
  'metrics.listening',
  'shutdown',
  'sweep',
  'config.secret',
  'config.insecure_cookies',
  'config.session_cache',
  'session_cache.channel_up',
  'session_cache.record',
  'revocations.publisher',
  'store.pglite_kept',
  'store.redis_volatile',
  'store.revocations_adopted',
  'sdk.missing',
  'lab.missing',
  'passkey_ui.missing',
  // The access log (LOG_LEVEL=debug): one per request.
  'request',
];

const KNOWN = new Set(SECURITY_EVENTS);
const MODES = new Set(['cookie', 'token', 'hybrid']);
const LOGIN_FAILURE_REASONS = new Set([
  'invalid_credentials',
  'account_disabled',
  'email_not_verified',
  'too_many_requests',
  'mfa_required',
]);
const THROTTLE_SCOPES = new Set(['source', 'account', 'ip', 'device', 'family', 'client']);
const MFA_METHODS = new Set(['totp', 'recovery_code']);
const REVOCATION_CAUSES: Record<string, string> = {
  logout: 'logout',
  'session.revoke': 'user_revoked',
  'session.revoke_all': 'sign_out_everywhere',
  'session.renew': 'renewed',
  'password.change': 'password_change',
  'security.refresh_token_reuse': 'refresh_reuse',
  'user.disable': 'user_disabled',
  'mfa.factor_added': 'factor_change',
  'mfa.factor_removed': 'factor_change',
};
const CSRF_CHECKS: Record<string, string> = {
  'csrf.cross_site': 'origin',
  'csrf.token_refused': 'token',
  'csrf.login_refused': 'login_token',
};
const THROTTLE_LIMITS: Record<string, string> = {
  'throttle.login_failures': 'login',
  'throttle.auth_failures': 'unknown_credentials',
  'throttle.refresh_flood': 'refresh',
};

/** `value` when it is in `allowed`, else `other`. */
function bounded(allowed: ReadonlySet<string>, value: unknown): string {
  return typeof value === 'string' && allowed.has(value) ? value : 'other';
}

/**
 * Counts one security event. `fields` is the log object; only fixed-list values of it are read.
 *
 * @example
 * countSecurityEvent(metrics, 'login.success', { mode: 'cookie', userId });
 */
export function countSecurityEvent(
  metrics: LatchkeyMetrics,
  event: string,
  fields: Readonly<Record<string, unknown>>,
): void {
  if (!KNOWN.has(event)) {
    metrics.securityEvents.inc({ event: 'other' });
    return;
  }
  metrics.securityEvents.inc({ event });
  const cause = REVOCATION_CAUSES[event];
  if (cause !== undefined) metrics.revocations.inc({ cause });
  const check = CSRF_CHECKS[event];
  if (check !== undefined) metrics.csrfRefusals.inc({ check });
  const limit = THROTTLE_LIMITS[event];
  if (limit !== undefined) {
    metrics.throttleLockouts.inc({
      limit,
      scope: limit === 'unknown_credentials' ? 'ip' : bounded(THROTTLE_SCOPES, fields.scope),
    });
  }
  switch (event) {
    case 'login.success':
      metrics.logins.inc({ mode: bounded(MODES, fields.mode), outcome: 'success' });
      if (fields.factor !== undefined)
        metrics.mfa.inc({ method: bounded(MFA_METHODS, fields.factor), outcome: 'success' });
      break;
    case 'login.failure':
      metrics.logins.inc({ mode: bounded(MODES, fields.mode), outcome: 'failure' });
      metrics.loginFailures.inc({ reason: bounded(LOGIN_FAILURE_REASONS, fields.reason) });
      break;
    case 'login.mfa_required':
      metrics.logins.inc({ mode: bounded(MODES, fields.mode), outcome: 'mfa_required' });
      break;
    case 'mfa.failure':
      metrics.mfa.inc({ method: bounded(MFA_METHODS, fields.method), outcome: 'failure' });
      break;
    case 'mfa.step_up':
      metrics.mfa.inc({ method: bounded(MFA_METHODS, fields.method), outcome: 'success' });
      break;
    case 'user.signup':
      metrics.signups.inc();
      break;
    case 'security.refresh_token_reuse':
      metrics.refreshReuse.inc();
      break;
    case 'session_cache.record':
      // Clocks of two nodes may differ a little: a negative lag counts as none.
      if (typeof fields.lagMs === 'number') metrics.feedLag.observe(Math.max(0, fields.lagMs) / 1000);
      break;
    case 'session_cache.channel_up':
      metrics.cacheChannelLive.set(1);
      break;
    case 'session_cache.channel_down':
      metrics.cacheChannelLive.set(0);
      break;
    default:
  }
}
