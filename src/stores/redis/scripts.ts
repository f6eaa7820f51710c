/**
 * Every Lua script of the Redis store, from the modules of their record kinds: every operation
 * that reads and then writes runs as one script, so that it is atomic against every other
 * client. The rules that every script follows are in `./lua.ts`; the key layout in `./index.ts`.
 *
 * This module exports scripts only (and their type), so that a test can list them all with
 * `Object.values`.
 */

export type { RedisScript } from './lua.js';
export { addAuditRecord, sweepAuditRecord } from './audit-scripts.js';
export { increment } from './counter-scripts.js';
export { confirmFactor, deleteFactor, useFactorStep } from './factor-scripts.js';
export { claimMail, queueMail, settleMail, sweepMail } from './mail-scripts.js';
export {
  consumeOneTimeToken,
  deleteOneTimeToken,
  indexOneTimeToken,
  sweepOneTimeToken,
} from './one-time-token-scripts.js';
export { deletePasskey, renamePasskey, usePasskey } from './passkey-scripts.js';
export {
  createRefreshToken,
  pruneRefreshTokens,
  readRefreshTokens,
  retireRefreshToken,
  rotateRefreshToken,
} from './refresh-token-scripts.js';
export { addRevocation, deleteExpiredRevocations, listRevocations } from './revocation-scripts.js';
export { revokeSession, sweepSession, touchSession } from './session-scripts.js';
export { deleteKey, insertKey, updateKey } from './signing-key-scripts.js';
export {
  claimWebhookDelivery,
  queueWebhookDelivery,
  settleWebhookDelivery,
  sweepWebhookDelivery,
} from './webhook-scripts.js';
export { createHashIfMissing, deleteIfEquals, updateHashIfExists } from './user-scripts.js';
