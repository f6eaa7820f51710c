/**
 * Sees every log call that carries an `event`, at any level, even when the configured level
 * drops the line. pino's own `hooks.logMethod` cannot: pino replaces the method of a disabled
 * level by a no-op, so a hook never runs for it (events logged at info would go uncounted with
 * LOG_LEVEL=warn). The tap wraps each level method of the logger instead (the disabled no-ops
 * too), and again whenever pino rebuilds them (`level-change`, also emitted for a child logger
 * given its own level). Child loggers (Fastify's `request.log`) inherit the wrapped methods.
 */

import type { Logger } from '../log.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
const TAPPED = Symbol('latchkey.logTap');

type LogMethod = ((this: Logger, ...args: unknown[]) => void) & { [TAPPED]?: true };

/**
 * Calls `onEvent(event, fields)` before each log call whose first argument is an object with a
 * string `event`. One property read per log call; nothing is allocated.
 *
 * @example
 * tapLogEvents(logger, (event, fields) => countSecurityEvent(metrics, event, fields));
 */
export function tapLogEvents(
  logger: Logger,
  onEvent: (event: string, fields: Readonly<Record<string, unknown>>) => void,
): void {
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
          if (typeof event === 'string') onEvent(event, first as Record<string, unknown>);
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
}
