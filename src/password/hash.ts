import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { normalizePassword } from './policy.js';

/** argon2id parameters; the default is OWASP's first recommendation (19 MiB, t=2, p=1). */
export interface PasswordHashParameters {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** @see https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id */
export const OWASP_ARGON2ID: PasswordHashParameters = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Verifies in constant work; false for a malformed hash (an account without a password among
   * them), after the work of a real verification, so that such an account answers a password
   * login in the time of a wrong password.
   */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** True when the hash was made with other parameters (or another algorithm) and should be redone. */
  needsRehash(passwordHash: string): boolean;
  /**
   * Spends the same work as a real verification against a valid hash, for an unknown account,
   * so that "no such user" and "wrong password" take the same time.
   */
  verifyDummy(password: string): Promise<void>;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

export function createPasswordHasher(parameters: PasswordHashParameters = OWASP_ARGON2ID): PasswordHasher {
  // `Algorithm` is an ambient const enum (not importable as a value); 2 is Argon2id.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
  const options = { algorithm: 2 as Algorithm, ...parameters };
  let dummy: Promise<string> | undefined;
  const hasher: PasswordHasher = {
    hash: (password) => hash(normalizePassword(password), options),
    async verify(passwordHash, password) {
      if (!PHC.test(passwordHash)) {
        await hasher.verifyDummy(password);
        return false;
      }
      try {
        return await verify(passwordHash, normalizePassword(password));
      } catch {
        return false;
      }
    },
    needsRehash(passwordHash) {
      const match = PHC.exec(passwordHash);
      if (!match) return true;
      return (
        Number(match[1]) !== parameters.memoryCost ||
        Number(match[2]) !== parameters.timeCost ||
        Number(match[3]) !== parameters.parallelism
      );
    },
    async verifyDummy(password) {
      dummy ??= hash(randomBytes(32).toString('base64url'), options);
      await hasher.verify(await dummy, password);
    },
  };
  return hasher;
}
