/**
 * The admin calls' event names, listed once: the use case logs `admin.<action>`, the audit trail
 * keeps them and the metrics count them (`AUDITED_EVENTS`, `SECURITY_EVENTS`).
 */

/** What an admin call can do. */
export const ADMIN_ACTIONS = [
  'user_list',
  'user_show',
  'user_disable',
  'user_enable',
  'user_roles',
  'session_list',
  'session_revoke_all',
  'session_revoke',
  'event_list',
  'client_list',
  'client_create',
  'client_disable',
  'webhook_list',
  'webhook_add',
  'webhook_remove',
  'webhook_deliveries',
] as const;

/** What an admin call did: its audit event is `admin.<action>`. */
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/** Every admin event: each action's, and `admin.forbidden` (a refusal). */
export const ADMIN_EVENTS: readonly string[] = [
  'admin.forbidden',
  ...ADMIN_ACTIONS.map((action) => `admin.${action}`),
];
