import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface MasterSecret {
  value: string;
  /** Where it came from, for the start-up log line (never the value). */
  source: 'env' | 'generated' | 'file';
}

/**
 * Returns the master secret: LATCHKEY_SECRET when set; otherwise the one stored in
 * `<dataDir>/secret`, created once (mode 0600) on first start.
 */
export async function loadMasterSecret(options: {
  configured: string | null;
  dataDir: string;
}): Promise<MasterSecret> {
  if (options.configured !== null) return { value: options.configured, source: 'env' };
  const file = join(options.dataDir, 'secret');
  try {
    const value = (await readFile(file, 'utf8')).trim();
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0) await chmod(file, 0o600);
    if (value.length >= 32) return { value, source: 'file' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString('base64url');
  await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' }).catch((error: unknown) => {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  const stored = (await readFile(file, 'utf8')).trim();
  return { value: stored, source: stored === value ? 'generated' : 'file' };
}
