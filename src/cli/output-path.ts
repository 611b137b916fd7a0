/**
 * Output paths are checked before any work starts, so a fold of a large model does not run for
 * minutes and then fail to write (or, as Node's recursive mkdir does under /proc, loop forever).
 * The check finds the nearest existing ancestor of the target and creates, then removes, a file
 * there: the one test that answers "can this process write here" for every file system,
 * permission model and read-only mount alike.
 */
import { randomBytes } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { OutputPathError } from '../io/files.ts';
import { describeSystemError } from './failure.ts';

export { OutputPathError };

/** What `path` will hold: one file, or a directory of files (a Layers model). */
export type OutputKind = 'file' | 'directory';

async function kindOf(path: string): Promise<'file' | 'directory' | 'other' | undefined> {
  try {
    const info = await stat(path);
    return info.isDirectory() ? 'directory' : info.isFile() ? 'file' : 'other';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: some ancestor is a file; the walk up in assertWritable finds and names it.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new OutputPathError(describeSystemError(error as NodeJS.ErrnoException & { code: string }));
  }
}

/** Throws an OutputPathError naming `path` unless this process can write `kind` there. */
export async function assertWritable(path: string, kind: OutputKind): Promise<void> {
  const existing = await kindOf(path);
  if (existing === 'directory' && kind === 'file') throw new OutputPathError(`${path}: is a directory; expected a file name`);
  if (existing !== undefined && existing !== 'directory' && kind === 'directory') {
    throw new OutputPathError(`${path}: exists and is not a directory`);
  }
  // Walked as the user typed it ('out/x' up to '.'), so that messages name what they typed.
  let dir = existing === 'directory' ? path : dirname(path);
  for (;;) {
    const found = await kindOf(dir);
    if (found === 'directory') break;
    if (found !== undefined) throw new OutputPathError(`${path}: ${dir} is not a directory`);
    const parent = dirname(dir);
    if (parent === dir) throw new OutputPathError(`${path}: no existing directory on this path`);
    dir = parent;
  }
  const probe = join(dir, `.shapefold-write-check-${randomBytes(6).toString('hex')}`);
  try {
    await (await open(probe, 'wx')).close();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new OutputPathError(`${path}: cannot write in ${dir} (${code})`);
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}
