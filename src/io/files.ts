/**
 * Files written so that an interruption never leaves a mix of old and new.
 *
 * Single files (writeFilesAtomic): each goes to a temporary file beside its target first (missing
 * folders on its path created), and only when all are written are they renamed into place, so a
 * failed write leaves no new file, half-written or otherwise.
 *
 * A directory of files (writeDirectoryAtomic, a Layers model): everything goes into a fresh temporary directory beside
 * the target, which one rename then puts in place. An existing target is first renamed aside and
 * removed only once the new one is in place, so at every instant the target is the old complete
 * directory, the new complete directory, or (between the two renames) absent; never a mix.
 *
 * Staging names are `.<target>.shapefold-<pid>-<random>.tmp` (new) and `.old` (the replaced
 * target). On failure, SIGINT or SIGTERM the write undoes itself (the old target comes back, the
 * staging directory goes). A process killed outright cannot clean up: the next write to the same
 * target finds staging directories of dead processes, puts a stranded old target back, and
 * removes the rest.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ShapefoldError } from '../ir/errors.ts';

export class OutputPathError extends ShapefoldError {
  override readonly name = 'OutputPathError';
}

export async function writeFilesAtomic(files: readonly (readonly [path: string, contents: string | Uint8Array])[]): Promise<void> {
  const staged: [temporary: string, path: string][] = [];
  try {
    for (const [path, contents] of files) {
      // Missing folders are created, as for a directory output (writeDirectoryAtomic).
      await ensureDirectory(dirname(path));
      const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
      staged.push([temporary, path]);
      await writeFile(temporary, contents).catch((error: unknown) => {
        throw new OutputPathError(`${path}: cannot write (${codeOf(error)})`);
      });
    }
    for (const [temporary, path] of staged) {
      await rename(temporary, path).catch((error: unknown) => {
        throw new OutputPathError(`${path}: cannot replace it (${codeOf(error)})`);
      });
    }
  } catch (error) {
    await Promise.all(staged.map(([temporary]) => rm(temporary, { force: true })));
    throw error;
  }
}

const STAGING = /^\.(.+)\.shapefold-(\d+)-[0-9a-f]+\.(tmp|old)$/;

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

async function kindOf(path: string): Promise<'missing' | 'directory' | 'other'> {
  try {
    return (await stat(path)).isDirectory() ? 'directory' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw new OutputPathError(`${path}: a parent of it is not a directory`);
    throw new OutputPathError(`${path}: cannot be used as an output (${codeOf(error)})`);
  }
}

/**
 * Creates `dir` and its missing parents one level at a time (Node's recursive mkdir never
 * returns for some paths, such as under /proc).
 */
export async function ensureDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  // Walked as given ('out/a' up to '.'), so that messages name the path the way the caller did.
  let at = dir;
  for (;;) {
    const kind = await kindOf(at);
    if (kind === 'directory') break;
    if (kind === 'other') throw new OutputPathError(`${at}: is not a directory`);
    missing.push(at);
    const up = dirname(at);
    if (up === at) throw new OutputPathError(`${dir}: no existing parent directory`);
    at = up;
  }
  for (const path of missing.reverse()) {
    try {
      await mkdir(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new OutputPathError(`${path}: cannot create the directory (${codeOf(error)})`);
    }
  }
}

/** The nearest existing ancestor of `target` must be a directory (missing levels are created at write time). */
export async function checkWritableParent(target: string): Promise<void> {
  for (let at = dirname(target); ; at = dirname(at)) {
    const kind = await kindOf(at);
    if (kind === 'other') throw new OutputPathError(`${target}: ${at} is not a directory`);
    if (kind === 'directory' || dirname(at) === at) return;
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Puts back a target stranded by a killed writer and removes dead writers' staging directories. */
async function recoverStaging(target: string): Promise<void> {
  const parent = dirname(target);
  const name = basename(target);
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return;
  }
  const stale = entries.map((e) => [e, STAGING.exec(e)] as const).filter(([, m]) => m !== null && m[1] === name && !alive(Number(m[2])));
  // A stranded old target is only restored when no new one took its place.
  for (const [entry, m] of stale) {
    const path = join(parent, entry);
    if (m?.[3] === 'old' && (await kindOf(target)) === 'missing') await rename(path, target);
    else await rm(path, { recursive: true, force: true });
  }
}

/** Whether `dir` may be replaced: missing, empty, or holding only files `replaceable` accepts. */
export async function checkOutputDirectory(dir: string, replaceable: (entries: readonly string[]) => Promise<string | undefined>): Promise<void> {
  const kind = await kindOf(dir);
  if (kind === 'missing') return;
  if (kind === 'other') throw new OutputPathError(`${dir}: exists and is not a directory`);
  const entries = (await readdir(dir)).filter((e) => !STAGING.test(e));
  if (entries.length === 0) return;
  const problem = await replaceable(entries);
  if (problem !== undefined) throw new OutputPathError(`${dir}: ${problem}; refusing to replace it`);
}

/** Where a write is: what an interruption must undo. */
interface Staging {
  readonly temporary: string;
  readonly old: string;
  phase: 'writing' | 'moved-aside' | 'placed' | 'finished';
}

/** Undoes (or, once the new target is in place, completes) a write, synchronously: it runs inside signal handlers too. */
function settle(target: string, s: Staging): void {
  const phase = s.phase;
  s.phase = 'finished';
  if (phase === 'finished') return;
  if (phase === 'placed') {
    rmSync(s.old, { recursive: true, force: true });
    return;
  }
  rmSync(s.temporary, { recursive: true, force: true });
  if (phase !== 'moved-aside') return;
  let targetExists = true;
  try {
    statSync(target);
  } catch {
    targetExists = false;
  }
  if (targetExists) rmSync(s.old, { recursive: true, force: true });
  else renameSync(s.old, target);
}

async function writeDurably(path: string, contents: string | Uint8Array): Promise<void> {
  const file = await open(path, 'wx');
  try {
    await file.writeFile(contents);
    await file.sync();
  } finally {
    await file.close();
  }
}

/**
 * Writes `files` (name -> contents) as the whole content of directory `dir`, atomically as the
 * file comment says. `replaceable` says why an existing, non-empty `dir` must not be replaced
 * (undefined: it may).
 */
export async function writeDirectoryAtomic(
  dir: string,
  files: readonly (readonly [name: string, contents: string | Uint8Array])[],
  replaceable: (entries: readonly string[]) => Promise<string | undefined>,
  onFileWritten?: (done: number, total: number) => void,
): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  // Checked and created under the path as given, so that messages name it as the caller did.
  await ensureDirectory(dirname(dir));
  await recoverStaging(target);
  await checkOutputDirectory(dir, replaceable);
  const tag = `.${basename(target)}.shapefold-${process.pid}-${randomBytes(6).toString('hex')}`;
  const s: Staging = { temporary: join(parent, `${tag}.tmp`), old: join(parent, `${tag}.old`), phase: 'writing' };
  const interrupted = () => new OutputPathError(`${dir}: the write was interrupted`);
  const onSignal = (signal: NodeJS.Signals) => {
    settle(target, s);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // With no other handler the signal's default action (exit) is what the user asked for.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    try {
      await mkdir(s.temporary);
    } catch (error) {
      throw new OutputPathError(`${dirname(dir)}: cannot write the output there (${codeOf(error)})`);
    }
    for (const [k, [name, contents]] of files.entries()) {
      if (s.phase !== 'writing') throw interrupted();
      await writeDurably(join(s.temporary, name), contents);
      onFileWritten?.(k + 1, files.length);
    }
    if (s.phase !== 'writing') throw interrupted();
    // Synchronous renames: a signal handler never runs while one is half-done.
    if ((await kindOf(target)) === 'directory') {
      renameSync(target, s.old);
      s.phase = 'moved-aside';
    }
    renameSync(s.temporary, target);
    s.phase = s.phase === 'moved-aside' ? 'placed' : 'finished';
    settle(target, s);
  } catch (error) {
    settle(target, s);
    if (error instanceof ShapefoldError) throw error;
    throw new OutputPathError(`${dir}: cannot write the output (${codeOf(error)})`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
