/** The panels of `/lab` as the page's DOM: text only (`textContent`), never HTML. */

export type LabMode = 'cookie' | 'token' | 'hybrid';

export const MODES: readonly LabMode[] = ['cookie', 'token', 'hybrid'];

export type Slot = 'status' | 'session' | 'holds' | 'timing' | 'jwt' | 'requests';

/** One line of a panel's request log. */
export interface LoggedRequest {
  method: string;
  path: string;
  /** What carried the credential: `cookies`, `Bearer`, `X-CSRF-Token`, ... */
  sends: string[];
  status: number | null;
  /** The server's `Server-Timing` auth step, when the response had one. */
  authMs: number | null;
  /** Who sent it, when not the panel itself. */
  from?: string;
}

export function panelOf(mode: LabMode): HTMLElement {
  const panel = document.getElementById(`lab-${mode}`);
  if (panel === null) throw new Error(`no panel for ${mode}`);
  return panel;
}

export function slot(mode: LabMode, name: Slot): HTMLElement {
  const element = panelOf(mode).querySelector<HTMLElement>(`[data-slot="${name}"]`);
  if (element === null) throw new Error(`no ${name} slot in the ${mode} panel`);
  return element;
}

export function button(mode: LabMode, action: 'me' | 'revoke'): HTMLButtonElement {
  const element = panelOf(mode).querySelector<HTMLButtonElement>(`[data-action="${action}"]`);
  if (element === null) throw new Error(`no ${action} button in the ${mode} panel`);
  return element;
}

export function show(mode: LabMode, name: Slot, text: string): void {
  slot(mode, name).textContent = text;
}

/** The status line: live (green) or refused (red, with the server's code). */
export function showStatus(mode: LabMode, text: string, tone: 'live' | 'refused' | 'plain'): void {
  const element = slot(mode, 'status');
  element.textContent = text;
  element.className = tone === 'plain' ? '' : `lk-lab-${tone}`;
}

/** The `auth;dur=` of a `Server-Timing` header, in ms. */
export function authTiming(response: Response): number | null {
  const header = response.headers.get('server-timing') ?? '';
  const match = /(?:^|,)\s*auth;dur=([\d.]+)/.exec(header);
  return match?.[1] === undefined ? null : Number(match[1]);
}

export function logRequest(mode: LabMode, entry: LoggedRequest): void {
  const item = document.createElement('li');
  const outcome = entry.status === null ? 'network error' : String(entry.status);
  const timing = entry.authMs === null ? '' : ` · auth ${entry.authMs.toFixed(2)} ms`;
  const from = entry.from === undefined ? '' : ` · from ${entry.from}`;
  const sends = entry.sends.length === 0 ? 'no credential' : entry.sends.join(' + ');
  item.textContent = `${entry.method} ${entry.path} → ${outcome} · ${sends}${timing}${from}`;
  slot(mode, 'requests').append(item);
  if (entry.authMs !== null) show(mode, 'timing', `${entry.authMs.toFixed(2)} ms (Server-Timing: auth)`);
}

/** What a request carries, read from the request itself as it left. */
export function credentialsSent(request: Request): string[] {
  const sends: string[] = [];
  const authorization = request.headers.get('authorization') ?? '';
  if (authorization.toLowerCase().startsWith('bearer ')) sends.push('Authorization: Bearer');
  if (request.credentials !== 'omit') sends.push('cookies');
  if (request.headers.has('x-csrf-token')) sends.push('X-CSRF-Token');
  return sends;
}

export function pathOf(url: string): string {
  const parsed = new URL(url, location.href);
  return `${parsed.pathname}${parsed.search}`;
}
