/** The JSON documents of the admin API (`./openapi/admin-components.ts` describes them). */

import type {
  AuditRecord,
  ClientRecord,
  SessionRecord,
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
} from '../records.js';
import type { UserOverview } from '../use-cases/index.js';
import { publicAuditEvent, publicUser, type PublicAuditEvent, type PublicUser } from './documents.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function adminUserOverview(overview: UserOverview): {
  user: PublicUser;
  sessions: number;
  factors: { totp: number; passkeys: number };
} {
  return { user: publicUser(overview.user), sessions: overview.sessions, factors: overview.factors };
}

export function adminSession(session: SessionRecord): Record<string, unknown> {
  return {
    id: session.id,
    mode: session.mode,
    user_agent: session.userAgent,
    ip: session.ip,
    created_at: iso(session.createdAt),
    last_seen_at: iso(session.lastSeenAt),
    expires_at: iso(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)),
    acr: session.acr,
  };
}

export function adminAuditEvent(record: AuditRecord): PublicAuditEvent & { user_id: string | null } {
  return { ...publicAuditEvent(record), user_id: record.userId };
}

export function machineClient(client: ClientRecord): Record<string, unknown> {
  return {
    id: client.id,
    name: client.name,
    status: client.disabledAt === null ? 'active' : 'disabled',
    scopes: client.scopes,
    audiences: client.audiences,
    created_at: iso(client.createdAt),
    disabled_at: isoOrNull(client.disabledAt),
  };
}

export function webhookEndpoint(endpoint: WebhookEndpointRecord): Record<string, unknown> {
  return { id: endpoint.id, url: endpoint.url, events: endpoint.events, created_at: iso(endpoint.createdAt) };
}

export function webhookDelivery(delivery: WebhookDeliveryRecord): Record<string, unknown> {
  return {
    id: delivery.id,
    event: delivery.event,
    status: delivery.status,
    attempts: delivery.attempts,
    response_status: delivery.responseStatus,
    last_error: delivery.lastError,
    created_at: iso(delivery.createdAt),
    next_attempt_at: delivery.status === 'queued' ? iso(delivery.nextAttemptAt) : null,
    settled_at: isoOrNull(delivery.settledAt),
  };
}
