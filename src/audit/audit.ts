/**
 * The audit trail: every security event (docs/security.md) is also kept as an {@link AuditRecord}
 * in the store, for `LATCHKEY_AUDIT_RETENTION`, so that a user can see their own history
 * (`GET /v1/me/events`) and an operator everyone's.
 *
 * The events are emitted once, as the log calls the use cases already make (`logger.info({
 * event, userId, ... })`); the composition root taps the logger (`metrics/log-tap.ts`) and
 * hands each call to {@link AuditLog.record}, which keeps the audited ones. So no use case
 * writes an event twice, and a new event needs only its log call and a line in
 * {@link AUDITED_EVENTS}. What a record keeps of the log object is fixed here: who (user,
 * client, session), from where (address, user agent) and a few bounded details from
 * {@link DETAIL_FIELDS}; never a token, a secret or a password, whatever the log object holds.
 *
 * The write is not awaited by the request: an audit write that fails is logged
 * (`audit.write_failed`) and never fails the sign-in it records. `flush()` waits for the writes
 * under way (tests, shutdown).
 */

import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { AuditRecord } from '../records.js';
import type { AuditStore } from '../store.js';
import { ADMIN_EVENTS } from './admin-events.js';

/** The events kept in the audit trail: the security events of docs/security.md. */
export const AUDITED_EVENTS: ReadonlySet<string> = new Set([
  'login.success',
  'login.failure',
  'login.mfa_required',
  'user.signup',
  'user.signup_existing',
  'user.disable',
  'user.enable',
  'logout',
  'session.renew',
  'session.revoke',
  'session.revoke_all',
  'password.change',
  'password.forgot',
  'password.reset',
  'password.reset_failure',
  'password.reset_link',
  'email.verified',
  'email.change_requested',
  'email.changed',
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
  'passkey.failure',
  'passkey.counter_regression',
  'passkey.register_failed',
  'passkey.added',
  'passkey.removed',
  'client.created',
  'client.disabled',
  'key.rotated',
  'user.roles',
  ...ADMIN_EVENTS,
]);

/**
 * The log fields an audit record keeps as details: names of outcomes, counts and flags, each a
 * short string, a number or a boolean. Anything else of the log object is dropped.
 */
export const DETAIL_FIELDS: readonly string[] = [
  'reason',
  'step',
  'mode',
  'method',
  'factor',
  'by',
  'scope',
  'count',
  'keepCurrent',
  'revoked',
  'revokedSessions',
  'previousSessionId',
  'factorId',
  'passkeyId',
  'known',
  'missing',
  'counter',
  'storedCounter',
  'kid',
  'name',
  'actor',
  'target',
];

const MAX_DETAIL_LENGTH = 100;
let sequence = 0;

/**
 * A record id: a per-process sequence (fixed width, so that two events of one request in the
 * same millisecond list in the order they happened), then random bytes (unique across nodes).
 */
function recordId(): string {
  sequence = (sequence + 1) % 36 ** 8;
  return `${sequence.toString(36).padStart(8, '0')}${randomBytes(9).toString('base64url')}`;
}
const MAX_ID_LENGTH = 255;
const MAX_IP_LENGTH = 64;
const MAX_USER_AGENT_LENGTH = 256;

function text(value: unknown, max: number): string | null {
  return typeof value === 'string' && value !== '' ? value.slice(0, max) : null;
}

function detailsOf(fields: Readonly<Record<string, unknown>>): AuditRecord['details'] {
  const details: AuditRecord['details'] = {};
  for (const name of DETAIL_FIELDS) {
    const value = fields[name];
    if (typeof value === 'string') details[name] = value.slice(0, MAX_DETAIL_LENGTH);
    else if (typeof value === 'boolean') details[name] = value;
    else if (typeof value === 'number' && Number.isFinite(value)) details[name] = value;
  }
  return details;
}

/**
 * The audit record of one event's log object: who, from where, bounded details.
 *
 * @example
 * auditRecordOf('logout', { userId, sessionId, ip }, { at: now, retentionMs: 90 * DAY });
 */
export function auditRecordOf(
  event: string,
  fields: Readonly<Record<string, unknown>>,
  options: { at: number; retentionMs: number; id?: string },
): AuditRecord {
  return {
    id: options.id ?? recordId(),
    at: options.at,
    event,
    userId: text(fields.userId, MAX_ID_LENGTH),
    clientId: text(fields.clientId, MAX_ID_LENGTH),
    sessionId: text(fields.sessionId, MAX_ID_LENGTH),
    ip: text(fields.ip, MAX_IP_LENGTH),
    userAgent: text(fields.userAgent, MAX_USER_AGENT_LENGTH),
    details: detailsOf(fields),
    expiresAt: options.at + options.retentionMs,
  };
}

export interface AuditLog {
  /** Keeps the event when it is audited (not waited for); any other event is ignored. */
  record(event: string, fields: Readonly<Record<string, unknown>>): void;
  /** Resolves when every write started so far has ended. */
  flush(): Promise<void>;
}

export interface AuditLogOptions {
  store: AuditStore;
  clock: Clock;
  logger: Logger;
  /** How long a record is kept (`LATCHKEY_AUDIT_RETENTION`). */
  retentionMs: number;
  /** Called with each record once it is stored (the webhooks queue their deliveries here). */
  onRecorded?: ((record: AuditRecord) => Promise<void>) | undefined;
}

/**
 * @example
 * const audit = createAuditLog({ store, clock, logger, retentionMs: config.auditRetention });
 * tapLogEvents(logger, (event, fields) => audit.record(event, fields));
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { store, clock, logger, retentionMs, onRecorded } = options;
  const pending = new Set<Promise<void>>();

  async function write(record: AuditRecord): Promise<void> {
    try {
      await store.addAuditRecord(record);
    } catch (error) {
      logger.warn(
        { err: error, event: 'audit.write_failed', auditEvent: record.event },
        'audit record not stored',
      );
      return;
    }
    await onRecorded?.(record);
  }

  return {
    record(event, fields) {
      if (!AUDITED_EVENTS.has(event)) return;
      const written = write(auditRecordOf(event, fields, { at: clock(), retentionMs })).finally(() => {
        pending.delete(written);
      });
      pending.add(written);
    },
    async flush() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
