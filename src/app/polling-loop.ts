/**
 * The loop of a durable-queue worker (the mail outbox, webhook deliveries): one round at a time,
 * every `pollIntervalMs`, at once again when kicked during a round; a failed round is reported
 * and retried at the next tick. The round itself (claim, send, settle) is the worker's.
 */

/** What a worker built on {@link createPollingLoop} offers. */
export interface PollingLoop {
  /** Runs one round now (tests, a one-shot command); answers what the round answers. */
  runOnce(): Promise<number>;
  start(): void;
  /** Asks for a round soon: at once, or right after the running one. */
  kick(): void;
  /** Stops the loop and waits for the running round. */
  stop(): Promise<void>;
}

/**
 * @example
 * const loop = createPollingLoop({ round, pollIntervalMs: 5_000, onError: (error) => log(error) });
 * loop.start();
 */
export function createPollingLoop(options: {
  round: () => Promise<number>;
  pollIntervalMs: number;
  onError: (error: unknown) => void;
}): PollingLoop {
  const { round, pollIntervalMs, onError } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let started = false;
  let again = false;

  function schedule(delay: number): void {
    if (!started) return;
    clearTimeout(timer);
    timer = setTimeout(tick, delay);
    timer.unref();
  }

  function tick(): void {
    if (running !== undefined) {
      again = true;
      return;
    }
    running = round()
      .catch(onError)
      .finally(() => {
        running = undefined;
        const next = again ? 0 : pollIntervalMs;
        again = false;
        schedule(next);
      });
  }

  return {
    runOnce: round,
    start() {
      if (started) return;
      started = true;
      schedule(0);
    },
    kick() {
      if (running !== undefined) again = true;
      else schedule(0);
    },
    async stop() {
      started = false;
      clearTimeout(timer);
      await running;
    },
  };
}
