/**
 * Second factors in `latchkey copy` (`./copy.ts`): a copied user keeps their TOTP factor, so
 * copying never turns a second factor off. A factor keeps its id and its sealed secret (sealed
 * under the master secret both sides share, bound to the user and factor ids, which do not
 * change), its confirmation and its last accepted step, so a code used on the source is refused
 * on the target too.
 *
 * Recovery codes are one-time tokens, which `copy` does not move: after a copy, the user's
 * recovery codes are those of the target (none on a fresh one).
 */

import type { FactorRecord } from '../records.js';
import type { CopyRun } from './copy.js';

function sameFactor(a: FactorRecord, b: FactorRecord): boolean {
  return (
    a.kind === b.kind &&
    a.label === b.label &&
    a.secret === b.secret &&
    a.createdAt === b.createdAt &&
    a.confirmedAt === b.confirmedAt &&
    a.lastUsedStep === b.lastUsedStep
  );
}

async function copyFactor(
  run: CopyRun,
  factor: FactorRecord,
  existing: FactorRecord | undefined,
): Promise<void> {
  const { target } = run;
  if (existing === undefined) {
    await target.createFactor(factor);
    run.count('factors', 'created');
    return;
  }
  if (sameFactor(existing, factor)) {
    run.count('factors', 'present');
    return;
  }
  if (existing.secret !== factor.secret || existing.kind !== factor.kind) {
    run.conflict(
      'factors',
      `${factor.id} of user ${factor.userId}: the target has another factor under this id`,
    );
    return;
  }
  // The same factor, further along on the source: confirm it and move its step forward.
  let moved = false;
  if (factor.confirmedAt !== null && existing.confirmedAt === null) {
    moved = (await target.confirmFactor(factor.userId, factor.id, factor.confirmedAt)) || moved;
  }
  if (
    factor.lastUsedStep !== null &&
    (existing.lastUsedStep === null || existing.lastUsedStep < factor.lastUsedStep)
  ) {
    const at = factor.lastUsedAt ?? factor.createdAt;
    moved = (await target.useFactorStep(factor.userId, factor.id, factor.lastUsedStep, at)) || moved;
  }
  run.count('factors', moved ? 'updated' : 'present');
}

/** Copies the second factors of one user who was copied (or was already on the target). */
export async function copyUserFactors(run: CopyRun, userId: string): Promise<void> {
  const factors = await run.source.listFactors(userId);
  if (factors.length === 0) return;
  const existing = new Map((await run.target.listFactors(userId)).map((factor) => [factor.id, factor]));
  for (const factor of factors) await copyFactor(run, factor, existing.get(factor.id));
}
