/** Settings of the audit trail: how long its records are kept. */

import { duration, type Env } from './env.js';
import type { ConfigVariable } from './variables.js';

export interface AuditConfig {
  /** `LATCHKEY_AUDIT_RETENTION`: how long an audit record is kept (ms). */
  retention: number;
}

export const AUDIT_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'LATCHKEY_AUDIT_RETENTION',
    default: '90d',
    description:
      'How long the audit trail keeps a security event (`GET /v1/me/events`); the maintenance sweep removes older ones.',
  },
];

/** Reads the audit settings. */
export function loadAuditConfig(env: Env): AuditConfig {
  return { retention: duration(env, 'LATCHKEY_AUDIT_RETENTION', '90d') };
}
