/**
 * shapefold's own package.json, found by walking up from this file: the same code runs from
 * `src/cli` in the repository and from `dist/src/cli` in the installed package.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  /** The directory holding package.json. */
  readonly root: string;
  readonly version: string;
  /** Where to report a bug. */
  readonly bugs: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = readManifest(join(dir, 'package.json'));
    if (manifest?.name === 'shapefold') {
      const bugs = typeof manifest.bugs === 'string' ? manifest.bugs : manifest.bugs?.url;
      cached = { root: dir, version: manifest.version ?? 'unknown', bugs: bugs ?? 'the shapefold issue tracker' };
      return cached;
    }
    const parent = dirname(dir);
    if (parent === dir) return { root: dir, version: 'unknown', bugs: 'the shapefold issue tracker' };
    dir = parent;
  }
}

interface Manifest {
  readonly name?: string;
  readonly version?: string;
  readonly bugs?: string | { readonly url?: string };
}

function readManifest(path: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}
