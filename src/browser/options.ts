/** The client's options, checked and resolved once (the names its tabs share, the origins it may call). */

import type { ClientMode, ClientOptions, RequestObserver } from './types.js';

export interface ResolvedOptions {
  mode: ClientMode;
  baseUrl: string;
  /** Origins whose requests `fetch()` may authenticate. */
  origins: Set<string>;
  /** Prefix of the lock, channel and storage names of this mode and base URL. */
  name: string;
  handshakeMs: number;
  /** The `onRequest` observer (a no-op without one); one that throws is reported apart. */
  observe: RequestObserver;
}

/** @example resolveOptions({ mode: 'hybrid' }).name; // 'latchkey:hybrid:https://app.example' */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  if (options.mode !== 'hybrid' && options.mode !== 'token') {
    throw new TypeError('"mode" must be "hybrid" or "token"');
  }
  if (options.onRequest !== undefined && typeof options.onRequest !== 'function') {
    throw new TypeError('"onRequest" must be a function');
  }
  const baseUrl = new URL(options.baseUrl ?? location.origin, location.href).toString().replace(/\/+$/, '');
  return {
    mode: options.mode,
    baseUrl,
    origins: new Set([new URL(baseUrl).origin, ...(options.apiOrigins ?? [])]),
    name: `${options.namespace ?? 'latchkey'}:${options.mode}:${baseUrl}`,
    handshakeMs: options.handshakeMs ?? 300,
    observe: safely(options.onRequest),
  };
}

function safely(observer: RequestObserver | undefined): RequestObserver {
  if (observer === undefined) return () => undefined;
  return (request, response) => {
    try {
      observer(request, response);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  };
}
