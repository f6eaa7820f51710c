/**
 * Whether the tests run in CI, where a prerequisite that is missing (a server, a binary, a tool
 * `.ci/run` installs) must fail the run instead of skipping a suite in silence.
 */

/** The values of `CI` that mean no, compared trimmed and without case. */
const NOT_CI = new Set(['', 'false', '0', 'no', 'off']);

/**
 * True when `CI` says yes: `true`, `1`, `yes`, `on` in any case, and any other value that is not
 * a no (some CI systems set it to their name, as `CI=woodpecker`). Unset, empty, `false`, `0`,
 * `no` and `off` mean a developer machine.
 *
 * @example
 * if (isCI()) throw new Error('python3-jwt is missing; .ci/run installs it');
 */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI;
  if (value === undefined) return false;
  return !NOT_CI.has(value.trim().toLowerCase());
}
