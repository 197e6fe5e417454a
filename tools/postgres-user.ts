import { execFileSync, spawnSync } from 'node:child_process';
import { lstat } from 'node:fs/promises';

/** The OS user a PostgreSQL server runs as. */
export interface ServerUser {
  readonly uid: number;
  readonly gid: number;
}

const POSTGRES = 'postgres';

let postgresUser: ServerUser | undefined;

/**
 * The OS user the PostgreSQL server must run as: `undefined` (the current
 * user) unless this process runs as root, which PostgreSQL refuses; then the
 * `postgres` user, created if missing.
 */
export function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return (postgresUser ??= findOrCreatePostgresUser());
}

/** Whether `user` can enter the directory `dir`: search permission on it and on every directory above it. */
export function canEnter(user: ServerUser, dir: string): boolean {
  return spawnSync('test', ['-x', dir], { uid: user.uid, gid: user.gid, stdio: 'ignore' }).status === 0;
}

/**
 * Whether `dir` is a directory (not a link) of the current user that no one
 * else can change: what a directory with a known name in a shared folder such
 * as /tmp must be before root stores anything in it or runs anything from it.
 */
export async function isOwnUnsharedDir(dir: string): Promise<boolean> {
  const stats = await lstat(dir).catch(() => undefined);
  return stats !== undefined && stats.isDirectory() && stats.uid === process.getuid?.() && (stats.mode & 0o022) === 0;
}

function findOrCreatePostgresUser(): ServerUser {
  try {
    return lookUp();
  } catch {
    // missing: create it below
  }
  try {
    execFileSync('useradd', ['--system', '--user-group', POSTGRES], { stdio: 'pipe' });
    return lookUp();
  } catch (error) {
    throw new Error(
      `PostgreSQL refuses to run as root, and the "${POSTGRES}" OS user to run it as is missing and could not be ` +
        `created: create it (useradd --system --user-group ${POSTGRES}), or run as another user than root`,
      { cause: error },
    );
  }
}

function lookUp(): ServerUser {
  const id = (flag: string): number =>
    Number(execFileSync('id', [flag, POSTGRES], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  return { uid: id('-u'), gid: id('-g') };
}
