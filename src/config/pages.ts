/**
 * Settings of the pages `latchkey serve` renders (`/login`, `/signup`, `/account`): on or off,
 * the brand name, and the operator's stylesheet.
 */

import { boolean, ConfigError, read, type Env } from './env.js';
import type { ConfigVariable } from './variables.js';

/**
 * The operator's stylesheet, linked after the built-in one (so it can override its custom
 * properties): a path on this server's own origin, or a file the server reads once and serves.
 */
export type PagesStylesheet = { kind: 'url'; path: string } | { kind: 'file'; path: string };

export interface PagesConfig {
  /** `LATCHKEY_PAGES`: false serves the API only. */
  enabled: boolean;
  /** `LATCHKEY_BRAND`: the name in the header and in every page title. */
  brand: string;
  stylesheet: PagesStylesheet | null;
}

export const PAGES_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'LATCHKEY_PAGES',
    default: 'on',
    description:
      'The sign-in and account pages (`/login`, `/signup`, `/account`); `off` serves the API only.',
  },
  {
    name: 'LATCHKEY_BRAND',
    default: 'Latchkey',
    description: 'Name shown in the header and title of every page (at most 60 characters).',
  },
  {
    name: 'LATCHKEY_STYLESHEET',
    default: '(none)',
    description:
      'An extra stylesheet linked after the built-in one: a path on this server (`/theme.css`, served by your proxy) or a CSS file the server serves (`./theme.css`, `file:///etc/latchkey/theme.css`). Never another origin (the pages’ CSP refuses it).',
  },
];

function stylesheet(env: Env): PagesStylesheet | null {
  const text = read(env, 'LATCHKEY_STYLESHEET');
  if (text === undefined) return null;
  if (text.startsWith('file:')) {
    try {
      return { kind: 'file', path: decodeURIComponent(new URL(text).pathname) };
    } catch {
      throw new ConfigError('LATCHKEY_STYLESHEET', `"${text}" is not a file: URL`);
    }
  }
  if (text.startsWith('./') || text.startsWith('../')) return { kind: 'file', path: text };
  // A path on this origin: no scheme, no `//host`, nothing that would break out of an attribute.
  if (/^\/(?!\/)[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(text) && !text.includes('\\')) {
    return { kind: 'url', path: text };
  }
  throw new ConfigError(
    'LATCHKEY_STYLESHEET',
    'must be a path on this server (/theme.css) or a file (./theme.css, file:///path/theme.css); another origin is refused',
  );
}

/** Reads the pages' settings. */
export function loadPagesConfig(env: Env): PagesConfig {
  const brand = read(env, 'LATCHKEY_BRAND') ?? 'Latchkey';
  if (brand.length > 60) throw new ConfigError('LATCHKEY_BRAND', 'must be at most 60 characters');
  return { enabled: boolean(env, 'LATCHKEY_PAGES', true), brand, stylesheet: stylesheet(env) };
}
