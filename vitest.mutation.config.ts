import type { RunnerTestCase } from 'vitest';
import { defineConfig } from 'vitest/config';
import type { Reporter, Vitest } from 'vitest/node';

/**
 * Makes a test file that fails to load count as a failed test. Stryker's vitest runner (9.6.1,
 * and 10.x) builds a mutant's result from the tests vitest collected, and a file whose import
 * throws (a mutant that breaks a module at load time, as `new TextDecoder('')` does) collects
 * none: the mutant would be reported Survived although the file fails. So, once the run ends,
 * each failed file that carries errors of its own gets one failed test holding them.
 * @see https://github.com/stryker-mutator/stryker-js/issues/6150
 */
function unloadableFileFails(): Reporter {
  let vitest: Vitest | undefined;
  return {
    onInit(ctx) {
      vitest = ctx;
    },
    onTestRunEnd() {
      for (const file of vitest?.state.getFiles() ?? []) {
        const errors = file.result?.errors ?? [];
        if (file.result?.state !== 'fail' || errors.length === 0) continue;
        const name = 'the test file loads';
        // Only the fields a reporter reads; vitest's own test context cannot be built here.
        const failed = {
          type: 'test',
          id: `${file.id}_load`,
          name,
          fullName: `${file.name} > ${name}`,
          mode: 'run',
          file,
          suite: file,
          result: { state: 'fail', errors },
          meta: {},
          annotations: [],
          artifacts: [],
          timeout: 0,
        } as unknown as RunnerTestCase;
        file.tasks.push(failed);
      }
    },
  };
}

/**
 * The tests `npm run mutation` (StrykerJS, `stryker.config.js`) runs against each mutant of the
 * security core: the unit, token and in-process HTTP tests that exercise it over the memory
 * store. Nothing here starts a database, a server on a socket or a cluster, so a mutant costs
 * milliseconds to seconds. Stryker's vitest runner runs them in one thread per worker, whatever
 * the pool below says.
 */
export default defineConfig({
  test: {
    // Listed one by one: a new test file joins the mutation run when someone decides it should.
    include: [
      'test/unit/client-key.test.ts',
      'test/unit/cookies.test.ts',
      'test/unit/password.test.ts',
      'test/unit/session-cache.test.ts',
      'test/unit/*.mutation.test.ts',
      'test/token/jwt.test.ts',
      'test/token/jwt-fast-paths.test.ts',
      // The HTTP tests over the memory store (not real-server, bodies or security-stores, which
      // start a process, listen on a socket or open every store).
      ...[
        'abuse',
        'bad-input',
        'cookie-lifetime',
        'cookie-session',
        'cross-site',
        'csrf',
        'guessing',
        'introspect',
        'lockout',
        'logging',
        'maintenance',
        'oauth',
        'refusal-cookies',
        'security-events',
        'session-cache',
        'session-renewal',
        'store-calls',
        'token-mode',
      ].map((name) => `test/http/${name}.test.ts`),
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', unloadableFileFails()],
  },
});
