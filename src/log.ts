import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Every path where a credential could appear in a log object. pino replaces the value with
 * `[redacted]`; the list is tested by sending each secret through a real request.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  'current_password',
  'new_password',
  'token',
  'access_token',
  'refresh_token',
  'client_secret',
  'csrf_token',
  'secret',
  '*.password',
  '*.current_password',
  '*.new_password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
  '*.csrf_token',
  '*.secret',
];

export function createLogger(options: { level: string; destination?: NodeJS.WritableStream }): Logger {
  const pinoOptions = {
    level: options.level,
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    base: { service: 'latchkey' },
  };
  return options.destination
    ? pino(pinoOptions, options.destination as unknown as pino.DestinationStream)
    : pino(pinoOptions);
}
