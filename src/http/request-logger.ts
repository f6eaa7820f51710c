import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];
type Parent = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };

/**
 * A request's logger (`request.log`) that becomes pino's child logger (with the request id) only
 * when something is logged at an enabled level. Fastify makes a child per request, and pino's
 * `child` runs the redaction over the bindings each time: about 5% of the CPU of a route that
 * logs nothing, which is nearly every request at the default level (security events are logged
 * where they happen, through this logger or the core's). What is written is the same line the
 * child would write.
 */
class LazyRequestLogger {
  readonly #parent: Parent;
  readonly #bindings: Bindings;
  readonly #options: ChildOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: Parent, bindings: Bindings, options: ChildOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #real(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  #write(level: Level, args: unknown[]): void {
    // A level that is off writes nothing: no child is made for it. The parent's method is
    // still called (it writes nothing either), so that what taps the logger's calls (the
    // metrics and the audit trail count events at every level, src/metrics/log-tap.ts) sees it.
    if (this.#child === undefined && this.#parent.isLevelEnabled?.(level) === false) {
      Reflect.apply(this.#parent[level], this.#parent, args);
      return;
    }
    const child = this.#real();
    Reflect.apply(child[level], child, args);
  }

  get level(): string {
    return this.#child?.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
}

/**
 * Makes every `request.log` of `app` lazy ({@link LazyRequestLogger}).
 *
 * @example
 * useLazyRequestLoggers(app);
 */
export function useLazyRequestLoggers(app: FastifyInstance): void {
  app.setChildLoggerFactory((logger, bindings, options) => new LazyRequestLogger(logger, bindings, options));
}
