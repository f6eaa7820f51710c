/**
 * Sees every log call that carries an `event`, at any level, even when the configured level
 * drops the line. pino's own `hooks.logMethod` cannot: pino replaces the method of a disabled
 * level by a no-op, so a hook never runs for it (events logged at info would go uncounted with
 * LOG_LEVEL=warn). The tap wraps each level method of the logger instead (the disabled no-ops
 * too), and again whenever pino rebuilds them (`level-change`, also emitted for a child logger
 * given its own level). Child loggers (Fastify's `request.log`) inherit the wrapped methods.
 *
 * Several taps share one wrapping (the metrics and the audit trail both listen): the listeners
 * of a logger are a list on it, and each tap returns the function that removes its listener.
 */

import type { Logger } from '../log.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
const TAPPED = Symbol('latchkey.logTap');
const LISTENERS = Symbol('latchkey.logTapListeners');

type LogMethod = ((this: Logger, ...args: unknown[]) => void) & { [TAPPED]?: true };
type Listener = (event: string, fields: Readonly<Record<string, unknown>>) => void;
type Tapped = Logger & { [LISTENERS]?: Listener[] };

/**
 * Calls `onEvent(event, fields)` before each log call whose first argument is an object with a
 * string `event`. One property read per log call; nothing is allocated. Returns the function
 * that stops it.
 *
 * @example
 * const untap = tapLogEvents(logger, (event, fields) => countSecurityEvent(metrics, event, fields));
 */
export function tapLogEvents(logger: Logger, onEvent: Listener): () => void {
  const tappedLogger = logger as Tapped;
  const existing = tappedLogger[LISTENERS];
  if (existing !== undefined) {
    existing.push(onEvent);
    return () => remove(existing, onEvent);
  }
  const listeners: Listener[] = [onEvent];
  tappedLogger[LISTENERS] = listeners;
  const wrap = (instance: Logger): void => {
    const methods = instance as unknown as Record<string, LogMethod>;
    for (const level of LEVELS) {
      const original = methods[level];
      if (original === undefined || original[TAPPED] === true) continue;
      const tapped: LogMethod = function (this: Logger) {
        // eslint-disable-next-line prefer-rest-params
        const first: unknown = arguments[0];
        if (typeof first === 'object' && first !== null) {
          const event = (first as { event?: unknown }).event;
          if (typeof event === 'string') {
            for (const listener of listeners) listener(event, first as Record<string, unknown>);
          }
        }
        // eslint-disable-next-line prefer-rest-params
        Reflect.apply(original, this, arguments);
      };
      tapped[TAPPED] = true;
      methods[level] = tapped;
    }
  };
  wrap(logger);
  logger.on('level-change', (_label, _value, _previousLabel, _previousValue, instance) => {
    wrap(instance ?? logger);
  });
  return () => remove(listeners, onEvent);
}

function remove(listeners: Listener[], listener: Listener): void {
  const index = listeners.indexOf(listener);
  if (index !== -1) listeners.splice(index, 1);
}
