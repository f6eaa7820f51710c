/** A test app with a mail transport, and the manual clock of `createTestApp`. */

import type { LatchkeyConfig } from '../../src/config/config.js';
import type { MailTransport } from '../../src/outbox/transport.js';
import type { PasswordHasher } from '../../src/password/hash.js';
import type { Store } from '../../src/store.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

export { ISSUER, PASSWORD, type TestApp } from '../helpers/app.js';

export async function createAppOn(options: {
  transport: MailTransport;
  store?: Store;
  mail?: Partial<LatchkeyConfig['mail']>;
  hasher?: PasswordHasher;
}): Promise<TestApp> {
  const base = (await import('../../src/config/config.js')).defaultConfig();
  return createTestApp({
    mailTransport: options.transport,
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.hasher === undefined ? {} : { hasher: options.hasher }),
    config: { mail: { ...base.mail, ...options.mail } },
  });
}
