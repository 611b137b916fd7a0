/**
 * Killing a writer mid-write: a child process writes two different Layers models (A: float32
 * in 1500-byte shards; B: float16 in one shard) to one directory, alternately, and is killed
 * at a random moment, by SIGTERM or SIGKILL. After every kill the directory must be exactly A
 * or exactly B, byte for byte, never a mix. After SIGTERM no staging directory may be left;
 * after SIGKILL (which no process can clean up after) the next write must put back a stranded
 * model and remove every staging directory. SHAPEFOLD_KILL_RUNS sets the number of kills.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/ir/init.ts';
import { graphToJSON } from '../../src/ir/serialize.ts';
import { importLayersModel, writeLayersModel, type LayersModelWritten } from '../../src/io/index.ts';
import { resNetLike, randomizeWeights, saveToMemory } from '../unit/io-fixtures.ts';
import type { Graph } from '../../src/ir/graph.ts';

const KILLS = Number(process.env.SHAPEFOLD_KILL_RUNS ?? 6);

let dir: string;
let graph: Graph;
let graphFile: string;
let versions: LayersModelWritten[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shapefold-kill-'));
  const model = resNetLike();
  randomizeWeights(model, 9);
  const saved = await saveToMemory(model);
  model.dispose();
  graph = importLayersModel(saved.modelJson, saved.weightData, 'resnet.json');
  graphFile = join(dir, 'graph.json');
  await writeFile(graphFile, JSON.stringify(graphToJSON(graph)));
  versions = [await writeLayersModel(graph, { shardSize: 1500 }), await writeLayersModel(graph, { quantize: 'float16' })];
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Which version `target` holds, byte for byte, or what is wrong with it. */
async function versionIn(target: string): Promise<number | string> {
  let entries: string[];
  try {
    entries = (await readdir(target)).sort();
  } catch (error) {
    return `unreadable (${(error as NodeJS.ErrnoException).code})`;
  }
  const json = await readFile(join(target, 'model.json'), 'utf8').catch(() => undefined);
  for (const [k, v] of versions.entries()) {
    const names = [...v.shards.map(([name]) => name), 'model.json'].sort();
    if (entries.join() !== names.join() || json !== `${JSON.stringify(v.modelJson)}\n`) continue;
    const same = await Promise.all(v.shards.map(async ([name, bytes]) => Buffer.compare(await readFile(join(target, name)), Buffer.from(bytes)) === 0));
    if (same.every(Boolean)) return k;
  }
  return `a mix: [${entries.join(', ')}]`;
}

const staging = async () => (await readdir(dir)).filter((e) => e.startsWith('.out.'));

function killDuringWrite(target: string, signal: NodeJS.Signals, delayMs: number): Promise<{ writes: number; code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'kill-writer-child.ts'), target, graphFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let writes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const before = writes;
      writes += chunk.toString().split('\n').filter((l) => l.startsWith('wrote')).length;
      if (before === 0 && writes > 0) setTimeout(() => child.kill(signal), delayMs);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      // The child's own SIGTERM handler exits with 128 + 15 (see kill-writer-child.ts).
      if (code === 143) resolve({ writes, code, signal: 'SIGTERM' });
      else if (code !== null && code !== 0) reject(new Error(`writer failed (${code}): ${stderr}`));
      else resolve({ writes, code, signal: sig });
    });
  });
}

describe('a writer killed mid-write', () => {
  it(`leaves the old or the new model, never a mix, and no staging litter (${KILLS} kills)`, async () => {
    const target = join(dir, 'out');
    await writeLayersModel(target, graph, { shardSize: 1500 });
    const rng = createRng(31);
    const seen = { term: 0, kill: 0, strandedRestored: 0, writes: 0 };
    for (let k = 0; k < KILLS; k++) {
      const signal: NodeJS.Signals = k % 2 === 0 ? 'SIGTERM' : 'SIGKILL';
      const { writes, signal: died } = await killDuringWrite(target, signal, Math.floor(rng() * 60));
      seen.writes += writes;
      expect(died, `kill ${k} ended by ${String(died)}`).toBe(signal);
      if (signal === 'SIGTERM') {
        seen.term++;
        expect(await versionIn(target), `after SIGTERM ${k}`).toBeTypeOf('number');
        expect(await staging(), `after SIGTERM ${k}`).toEqual([]);
      } else {
        seen.kill++;
        const state = await versionIn(target);
        // Between its two renames a killed writer leaves no target: the old one waits aside.
        if (typeof state !== 'number') {
          expect(state, `after SIGKILL ${k}`).toBe('unreadable (ENOENT)');
          expect((await staging()).some((e) => e.endsWith('.old'))).toBe(true);
          seen.strandedRestored++;
        }
        // The next write recovers: the stranded model comes back, staging directories go.
        await writeLayersModel(target, graph, { shardSize: 1500 });
        expect(await versionIn(target)).toBe(0);
        expect(await staging(), `after the write following SIGKILL ${k}`).toEqual([]);
      }
    }
    console.log(`kill-during-write: ${seen.term} SIGTERM, ${seen.kill} SIGKILL (${seen.strandedRestored} left the target aside, restored), ${seen.writes} complete writes seen`);
  }, 120_000 + KILLS * 60_000);
});
