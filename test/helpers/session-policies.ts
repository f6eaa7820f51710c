/**
 * Fixtures of the session manager's unit tests: the policies of the three modes (the defaults'
 * shape, in minutes), a password login's assurance and a client.
 */
import type { SessionMode } from '../../src/records.js';
import type { SessionPolicy } from '../../src/session/sessions.js';
import { assuranceOf } from '../../src/token/assurance.js';

export const MINUTE = 60_000;
export const PWD = assuranceOf(['pwd'], Date.UTC(2026, 0, 1));
export const policies: Record<SessionMode, SessionPolicy> = {
  cookie: { idleTimeout: 30 * MINUTE, absoluteTimeout: 720 * MINUTE, touchInterval: MINUTE },
  token: { idleTimeout: 1440 * MINUTE, absoluteTimeout: 43_200 * MINUTE, touchInterval: 5 * MINUTE },
  hybrid: { idleTimeout: 60 * MINUTE, absoluteTimeout: 1440 * MINUTE, touchInterval: 2 * MINUTE },
};
export const client = { userAgent: 'Mozilla/5.0', ip: '203.0.113.7' };
