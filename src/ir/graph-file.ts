/**
 * Graph files on disk, like tfjs's model.json + weights.bin: `model.json` holds the topology
 * (`graphToSplitJSON`), and a binary file beside it every parameter as little-endian float32, in
 * node and parameter order. The JSON names the weights file with its byte length and SHA-256,
 * and is renamed into place after the weights: a run interrupted between the two renames, or a
 * JSON paired with another run's weights, is refused on reading, never read as garbage.
 * Version-1 files, with every parameter inline as decimal numbers, still load.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { writeFilesAtomic } from '../io/files.ts';
import { GraphError } from './errors.ts';
import type { Graph } from './graph.ts';
import { graphFromJSON, graphToSplitJSON, SPLIT_GRAPH_VERSION, type WeightsRef } from './serialize.ts';

/** `r50.json` -> `r50.weights.bin`, the weights file written beside a graph file. */
export function weightsFileFor(path: string): string {
  const name = basename(path);
  return `${extname(name) === '.json' ? name.slice(0, -5) : name}.weights.bin`;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function writeGraphFile(path: string, graph: Graph): Promise<void> {
  const weightsName = weightsFileFor(path);
  const { topology, weights } = graphToSplitJSON(graph);
  const bytes = new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength);
  const ref: WeightsRef = { path: weightsName, byteLength: bytes.byteLength, sha256: sha256(bytes) };
  await writeFilesAtomic([
    [join(dirname(path), weightsName), bytes],
    [path, `${JSON.stringify({ ...topology, weights: ref })}\n`],
  ]);
}

function weightsRefOf(json: unknown): unknown {
  return typeof json === 'object' && json !== null ? (json as { weights?: unknown }).weights : undefined;
}

/**
 * The graph of a parsed graph file at `path`: inline (version 1) as it is, split (version 2)
 * with its weights file read and checked against the reference the JSON holds.
 */
export async function graphFromFileJSON(json: unknown, path: string): Promise<Graph> {
  if ((json as { version?: unknown } | null)?.version !== SPLIT_GRAPH_VERSION) return graphFromJSON(json, path);
  const ref = weightsRefOf(json) as Partial<WeightsRef> | undefined;
  const fail = (problem: string) => {
    throw new GraphError(`${path}: ${problem}`);
  };
  if (typeof ref?.path !== 'string' || !/^[^/\\]+$/.test(ref.path) || ref.path === '.' || ref.path === '..') {
    return fail(`weights.path must be the name of a file beside the graph, got ${JSON.stringify(ref?.path)}`);
  }
  if (!Number.isSafeInteger(ref.byteLength) || (ref.byteLength as number) < 0) {
    return fail(`weights.byteLength must be a non-negative integer, got ${JSON.stringify(ref.byteLength)}`);
  }
  if (typeof ref.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(ref.sha256)) return fail(`weights.sha256 must be 64 hex digits, got ${JSON.stringify(ref.sha256)}`);
  const weightsPath = join(dirname(path), ref.path);
  let bytes: Buffer;
  try {
    bytes = await readFile(weightsPath);
  } catch (error) {
    return fail(`cannot read its weights file ${weightsPath} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (bytes.byteLength !== ref.byteLength) {
    return fail(`weights file ${weightsPath} has ${bytes.byteLength} bytes, the graph expects ${ref.byteLength as number}`);
  }
  if (sha256(bytes) !== ref.sha256) {
    return fail(`weights file ${weightsPath} is not the one written with this graph (SHA-256 differs): an interrupted write, or files from two runs`);
  }
  if (bytes.byteLength % 4 !== 0) return fail(`weights file ${weightsPath} is not a whole number of float32 values`);
  const aligned = new Uint8Array(bytes.byteLength);
  aligned.set(bytes);
  return graphFromJSON(json, path, new Float32Array(aligned.buffer));
}

/** A JSON file's parsed contents; an unreadable file or bad JSON is `fail`'s one-line error naming the path. */
export async function readJsonFile(path: string, fail: (message: string) => Error): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fail(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw fail(`${path}: is not valid JSON (${(error as Error).message})`);
  }
}

/** Reads a graph file (either version) and its weights. */
export async function readGraphFile(path: string): Promise<Graph> {
  return graphFromFileJSON(await readJsonFile(path, (message) => new GraphError(message)), path);
}
