/**
 * Several files written as one: each goes to a temporary file beside its target first, and only
 * when all are written are they renamed into place, in order (weights before the model.json that
 * names them), so a failed write leaves no new file, half-written or otherwise.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFilesAtomic(files: readonly (readonly [path: string, contents: string | Uint8Array])[]): Promise<void> {
  const staged: [temporary: string, path: string][] = [];
  try {
    for (const [path, contents] of files) {
      const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
      staged.push([temporary, path]);
      await writeFile(temporary, contents);
    }
    for (const [temporary, path] of staged) await rename(temporary, path);
  } catch (error) {
    await Promise.all(staged.map(([temporary]) => rm(temporary, { force: true })));
    throw error;
  }
}
