import { chmod, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCI } from '../helpers/ci.js';
import { findPostgresBin } from '../helpers/own-servers.js';

describe('isCI', () => {
  it.each(['true', 'TRUE', 'True', '1', 'yes', 'Yes', 'on', 'ON', ' true ', 'woodpecker'])(
    'CI=%j is CI',
    (value) => {
      expect(isCI({ CI: value })).toBe(true);
    },
  );

  it.each(['', ' ', 'false', 'FALSE', 'False', '0', 'no', 'NO', 'off', 'Off'])('CI=%j is not CI', (value) => {
    expect(isCI({ CI: value })).toBe(false);
  });

  it('an unset CI is not CI', () => {
    expect(isCI({})).toBe(false);
  });
});

describe('findPostgresBin', () => {
  let root = '';
  const none = (): null => null;

  /** A directory `dir` holding executable stand-ins for `binaries`. */
  async function fakeBin(dir: string, binaries: readonly string[]): Promise<string> {
    await mkdir(dir, { recursive: true });
    for (const binary of binaries) {
      await writeFile(join(dir, binary), '#!/bin/sh\n');
      await chmod(join(dir, binary), 0o755);
    }
    return dir;
  }
  const ALL = ['initdb', 'pg_ctl', 'postgres'];

  beforeAll(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'lk-pgbin-')));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('takes LATCHKEY_TEST_PG_BIN as given', () => {
    expect(findPostgresBin({ env: { LATCHKEY_TEST_PG_BIN: '/opt/pg/bin' }, pgConfigBindir: none })).toBe(
      '/opt/pg/bin',
    );
  });

  it('takes pg_config --bindir when it holds the server binaries, and skips it when not', async () => {
    const versions = join(root, 'a', 'postgresql');
    const fromVersions = await fakeBin(join(versions, '13', 'bin'), ALL);
    const full = await fakeBin(join(root, 'a', 'pgconfig-full'), ALL);
    const clientOnly = await fakeBin(join(root, 'a', 'pgconfig-client'), ['pg_ctl']);
    expect(findPostgresBin({ env: {}, pgConfigBindir: () => full, versionsRoot: versions })).toBe(full);
    expect(findPostgresBin({ env: {}, pgConfigBindir: () => clientOnly, versionsRoot: versions })).toBe(
      fromVersions,
    );
  });

  it('takes the newest /usr/lib/postgresql/<version>/bin with initdb, pg_ctl and postgres', async () => {
    const versions = join(root, 'b', 'postgresql');
    await fakeBin(join(versions, '9.6', 'bin'), ALL);
    const ten = await fakeBin(join(versions, '10', 'bin'), ALL);
    await fakeBin(join(versions, '17', 'bin'), ['pg_ctl']); // client tools only
    await mkdir(join(versions, 'common'), { recursive: true });
    expect(findPostgresBin({ env: {}, pgConfigBindir: none, versionsRoot: versions })).toBe(ten);
  });

  it('falls back to the initdb on PATH, following its link to the directory of postgres', async () => {
    const real = await fakeBin(join(root, 'c', 'real-bin'), ALL);
    const linked = join(root, 'c', 'local-bin');
    await mkdir(linked, { recursive: true });
    await symlink(join(real, 'initdb'), join(linked, 'initdb'));
    await symlink(join(real, 'pg_ctl'), join(linked, 'pg_ctl'));
    const empty = await fakeBin(join(root, 'c', 'empty'), []);
    expect(
      findPostgresBin({
        env: { PATH: `${empty}:${linked}` },
        pgConfigBindir: none,
        versionsRoot: join(root, 'c', 'absent'),
      }),
    ).toBe(real);
  });

  it('is null when there is none anywhere', async () => {
    const empty = await fakeBin(join(root, 'd', 'empty'), []);
    expect(
      findPostgresBin({
        env: { PATH: empty },
        pgConfigBindir: none,
        versionsRoot: join(root, 'd', 'absent'),
      }),
    ).toBeNull();
  });
});
