/** A source of the current time in milliseconds since the epoch. Injected so tests can freeze it. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** A clock for tests: starts at `start` and moves only when told. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

export function createManualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let now = start;
  const clock = (() => now) as ManualClock;
  clock.advance = (ms: number): void => {
    now += ms;
  };
  clock.set = (ms: number): void => {
    now = ms;
  };
  return clock;
}
