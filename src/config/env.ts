import { parseDuration } from './duration.js';

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export type Env = Record<string, string | undefined>;

export function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function duration(env: Env, name: string, fallback: string): number {
  const text = read(env, name) ?? fallback;
  const ms = parseDuration(text);
  if (ms === null) throw new ConfigError(name, `"${text}" is not a duration (examples: 30s, 15m, 12h, 7d)`);
  return ms;
}

export function count(env: Env, name: string, fallback: number): number {
  const text = read(env, name);
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text)) throw new ConfigError(name, `"${text}" is not a whole number (0 = no limit)`);
  return Number(text);
}

export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const text = read(env, name);
  if (text === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(text)) return true;
  if (/^(0|false|no|off)$/i.test(text)) return false;
  throw new ConfigError(name, `"${text}" is not a boolean (true or false)`);
}

export function origin(name: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(name, `"${text}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError(name, `"${text}" is not http(s)`);
  return url.origin;
}

/** A comma-separated list variable, items trimmed, empty items dropped. */
export function list(env: Env, name: string): string[] {
  return (read(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
