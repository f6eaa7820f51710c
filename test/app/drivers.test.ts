import { describe, expect, it } from 'vitest';
import { DRIVER_PACKAGES, importDriver } from '../../src/app/drivers.js';
import { LatchkeyError } from '../../src/errors.js';

/** What Node throws when an ES module imports a package that is not installed. */
function notFound(name: string): Error {
  return Object.assign(
    new Error(`Cannot find package '${name}' imported from /app/dist/stores/x/client.js`),
    {
      code: 'ERR_MODULE_NOT_FOUND',
    },
  );
}

describe('importDriver', () => {
  it.each(Object.entries(DRIVER_PACKAGES))(
    'a missing %s driver names the package to install: %s',
    async (driver, name) => {
      const refusal = await importDriver(driver as keyof typeof DRIVER_PACKAGES, () =>
        Promise.reject(notFound(name)),
      ).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(LatchkeyError);
      expect((refusal as LatchkeyError).code).toBe('config_invalid');
      expect((refusal as LatchkeyError).message).toContain(`npm install ${name}`);
    },
  );

  it('rethrows unchanged a missing package that is not the driver, and any other failure', async () => {
    const other = notFound('pg-protocol');
    await expect(importDriver('postgres', () => Promise.reject(other))).rejects.toBe(other);
    const broken = new SyntaxError('Unexpected token');
    await expect(importDriver('redis', () => Promise.reject(broken))).rejects.toBe(broken);
  });

  it('takes any failure of better-sqlite3 (a native addon that did not build) as the driver missing', async () => {
    const refusal = importDriver('sqlite', () =>
      Promise.reject(new Error('Could not locate the bindings file')),
    );
    await expect(refusal).rejects.toThrow(
      /better-sqlite3.*Could not locate the bindings file.*npm install better-sqlite3/,
    );
  });

  it('returns the module when it loads', async () => {
    await expect(importDriver('pglite', () => Promise.resolve({ ok: true }))).resolves.toEqual({ ok: true });
  });
});
