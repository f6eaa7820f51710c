/**
 * Second factors in Redis: one hash per user, `P:{u:<uid>}:factors` (in the user's slot).
 *
 * | field     | holds                                                  |
 * | --------- | ------------------------------------------------------ |
 * | `<id>`    | `[kind, label, secret, createdAt]` (JSON, never changes) |
 * | `<id>:c`  | confirmedAt                                            |
 * | `<id>:s`  | `<lastUsedStep>,<lastUsedAt>`                          |
 *
 * Creating is `HSETNX` on the id field (a duplicate id within the user is refused; ids are
 * random, so one across users never happens). Confirming, accepting a step and deleting are
 * scripts on that one key (`./factor-scripts.ts`), atomic against each other. Factors are
 * durable like users: no TTL.
 */

import type { FactorRecord } from '../../records.js';
import type { FactorStore } from '../../store.js';
import { malformed, numberOrNull, parseTuple, replyNumber } from './codec.js';
import { duplicate, type RedisContext } from './context.js';
import { confirmFactor, deleteFactor, useFactorStep } from './factor-scripts.js';

const WHAT = 'factor';

function decodeFactor(userId: string, id: string, hash: Record<string, string>): FactorRecord {
  const raw = hash[id];
  if (raw === undefined) throw malformed(WHAT);
  const [kind, label, secret, createdAt] = parseTuple(raw, 4, WHAT);
  if (
    kind !== 'totp' ||
    typeof label !== 'string' ||
    typeof secret !== 'string' ||
    typeof createdAt !== 'number'
  ) {
    throw malformed(WHAT);
  }
  const [step, at] = (hash[`${id}:s`] ?? ',').split(',');
  return {
    id,
    userId,
    kind,
    label,
    secret,
    createdAt,
    confirmedAt: numberOrNull(hash[`${id}:c`], WHAT),
    lastUsedStep: numberOrNull(step, WHAT),
    lastUsedAt: numberOrNull(at, WHAT),
  };
}

/**
 * The factor operations of one Redis store.
 *
 * @example
 * const factors = createRedisFactors(context);
 * await factors.createFactor(record);
 */
export function createRedisFactors(context: RedisContext): FactorStore {
  const { client, keys, run, runScript } = context;
  const key = (userId: string): string => keys.factors(userId);
  const yes = (reply: unknown): boolean => replyNumber(reply, `${WHAT} reply`) === 1;

  return {
    createFactor: (factor) =>
      run(async () => {
        const fixed = JSON.stringify([factor.kind, factor.label, factor.secret, factor.createdAt]);
        const fields: Record<string, string> = {};
        if (factor.confirmedAt !== null) fields[`${factor.id}:c`] = String(factor.confirmedAt);
        if (factor.lastUsedStep !== null) {
          fields[`${factor.id}:s`] = `${factor.lastUsedStep},${factor.lastUsedAt ?? ''}`;
        }
        if ((await client.hsetnx(key(factor.userId), factor.id, fixed)) === 0) throw duplicate(WHAT);
        if (Object.keys(fields).length > 0) await client.hset(key(factor.userId), fields);
      }),

    listFactors: (userId) =>
      run(async () => {
        const hash = await client.hgetall(key(userId));
        return Object.keys(hash)
          .filter((field) => !field.includes(':'))
          .map((id) => decodeFactor(userId, id, hash))
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      }),

    confirmFactor: (userId, id, at) =>
      run(async () => yes(await runScript(confirmFactor, [key(userId)], [id, at]))),

    useFactorStep: (userId, id, step, at) =>
      run(async () => yes(await runScript(useFactorStep, [key(userId)], [id, step, at]))),

    deleteFactor: (userId, id) => run(async () => yes(await runScript(deleteFactor, [key(userId)], [id]))),
  };
}
