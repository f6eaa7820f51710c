import { join } from 'node:path';
import type { LatchkeyConfig } from '../config/config.js';
import type { Store } from './types.js';

/**
 * Opens the store the configuration asks for. Drivers are imported here, lazily, so that a
 * process that never opens a store never loads PGlite, pg or ioredis.
 */
export async function openStore(config: LatchkeyConfig, options: { migrate?: boolean } = {}): Promise<Store> {
  const migrate = options.migrate ?? config.migrateOnStart;
  if (config.store === 'memory') {
    const { createMemoryStore } = await import('./memory/index.js');
    return createMemoryStore();
  }
  const { openPGliteStore } = await import('./pglite/index.js');
  return openPGliteStore({ dataDir: join(config.dataDir, 'pglite'), migrate });
}
