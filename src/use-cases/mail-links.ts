/**
 * What the mail flows share: the one-time secrets their links carry (256 random bits, stored as
 * SHA-256), the links themselves (always on the configured public URL, never on a request's
 * Host), and the wiring they need (`MailFlowOptions`).
 */

import type { MailConfig } from '../config/mail.js';
import { randomSecret, sha256 } from '../lib/secrets.js';
import type { Outbox } from '../outbox/outbox.js';
import type { MailThrottle } from '../throttle/mail-throttle.js';

/** What the composition root gives the mail flows. */
export interface MailFlowOptions {
  outbox: Outbox;
  throttle: MailThrottle;
  settings: MailConfig;
  /** The public base URL (`LATCHKEY_ISSUER`): every link starts with it. */
  baseURL: string;
  /** Keys the 6-digit sign-in codes (derived from the master secret). */
  codeKey: Uint8Array;
}

/** A new link secret and the id it is stored under. */
export function newLinkSecret(): { secret: string; id: string } {
  const secret = randomSecret(32);
  return { secret, id: sha256(secret) };
}

/** The stored id of a secret from a request, or null when it cannot be one of ours. */
export function linkSecretId(secret: string): string | null {
  return /^[A-Za-z0-9_-]{43}$/.test(secret) ? sha256(secret) : null;
}

/** A link on the public URL: `${baseURL}${path}?token=${secret}`. */
export function linkTo(options: Pick<MailFlowOptions, 'baseURL'>, path: string, secret?: string): string {
  const url = new URL(path, `${options.baseURL}/`);
  if (secret !== undefined) url.searchParams.set('token', secret);
  return url.toString();
}

/** A duration for a mail: "30 minutes", "24 hours". */
export function humanDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} hours` : `${Math.round(hours / 24)} days`;
}

/** Parses the JSON `data` of a token into an object (empty when absent or malformed). */
export function tokenData(data: string | null): Record<string, unknown> {
  if (data === null) return {};
  try {
    const parsed: unknown = JSON.parse(data);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A short fingerprint of a password hash: a reset link dies when the password changes. */
export function passwordFingerprint(passwordHash: string): string {
  return sha256(`password:${passwordHash}`).slice(0, 22);
}
