/**
 * Loads a model for the CLI from a graph file (src/ir/graph-file.ts), a tfjs Layers
 * model.json (its weight files beside it; `src/io`), or from a module
 * written with the typed DSL. A module names its model with `file.ts#exportName` or as its
 * default export; the export may be a tensor, a `model(...)` result, a graph, or a function of
 * no arguments returning one of those.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Tensor, model } from '../../dsl/index.ts';
import { ShapefoldError } from '../ir/errors.ts';
import type { Graph } from '../ir/graph.ts';
import { graphFromFileJSON, readJsonFile } from '../ir/graph-file.ts';
import { validateGraph } from '../ir/validate.ts';
import { isLayersModelJSON } from '../io/layers-format.ts';
import { readLayersModel, type LayersModelRead } from '../io/layers-model.ts';
import type { ImportOptions } from '../io/layers-import.ts';

export class LoadError extends ShapefoldError {
  override readonly name = 'LoadError';
}

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

/** How a command's `--help` describes a <model> argument. */
export const MODEL_SPEC_HELP = [
  '<model> is a shapefold graph .json, a tfjs Layers model.json (weights beside it), or a module',
  'written with shapefold/dsl, file.ts[#export] (default export if none is named; .ts modules',
  'load through tsx, which must then be installed).',
].join('\n');

/**
 * Imports a model module. Plain Node cannot import TypeScript: on its "unknown file extension"
 * error, tsx's loader is registered (if the user has tsx installed) and the import retried once.
 */
async function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolve(file)).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
  }
  let tsx: { register(): unknown };
  try {
    tsx = (await import('tsx/esm/api')) as { register(): unknown };
  } catch {
    throw new LoadError(`${file}: a TypeScript module needs tsx to load (npm install --save-dev tsx), or compile it to .js`);
  }
  tsx.register();
  return (await import(url)) as Record<string, unknown>;
}

function isGraph(value: unknown): value is Graph {
  return typeof value === 'object' && value !== null && Array.isArray((value as Graph).nodes) && Array.isArray((value as Graph).outputs);
}

function graphOf(value: unknown, source: string): Graph | undefined {
  if (value instanceof Tensor) return model(value).graph;
  if (isGraph(value)) {
    validateGraph(value);
    return value;
  }
  if (typeof value === 'object' && value !== null && 'graph' in value && isGraph((value as { graph: unknown }).graph)) {
    return graphOf((value as { graph: unknown }).graph, source);
  }
  return undefined;
}

/** Whether `spec` names a tfjs Layers model.json (modelTopology + weightsManifest). */
export async function isLayersModelFile(spec: string): Promise<boolean> {
  if (extname(spec) !== '.json') return false;
  try {
    return isLayersModelJSON(JSON.parse(await readFile(spec, 'utf8')));
  } catch {
    return false;
  }
}

export async function loadGraph(spec: string, onProgress?: ImportOptions['onProgress']): Promise<Graph> {
  return (await loadModel(spec, onProgress)).graph;
}

/** The graph, and for a tfjs Layers model what was read with it (its weight quantization, warnings printed). */
export async function loadModel(spec: string, onProgress?: ImportOptions['onProgress']): Promise<{ readonly graph: Graph; readonly layers?: LayersModelRead }> {
  const hash = spec.lastIndexOf('#');
  const file = hash > 0 ? spec.slice(0, hash) : spec;
  const exportName = hash > 0 ? spec.slice(hash + 1) : undefined;
  const extension = extname(file);
  if (extension === '.json') {
    const json = await readJsonFile(file, (message) => new LoadError(message));
    if (isLayersModelJSON(json)) {
      const onWarning = (message: string) => console.warn(`warning: ${message}`);
      const layers = await readLayersModel(file, onProgress === undefined ? { onWarning } : { onWarning, onProgress });
      return { graph: layers.graph, layers };
    }
    return { graph: await graphFromFileJSON(json, file) };
  }
  if (!MODULE_EXTENSIONS.has(extension)) {
    const isDirectory = await stat(file).then((info) => info.isDirectory(), () => false);
    const holdsModel = isDirectory && (await stat(join(file, 'model.json')).then((info) => info.isFile(), () => false));
    const hint = holdsModel ? `; it is a directory: for the Layers model in it, give ${join(file, 'model.json')}` : isDirectory ? '; it is a directory' : '';
    throw new LoadError(`${file}: expected a graph .json or a model module (.ts, .mts, .js, .mjs)${hint}`);
  }
  // Node's message for a missing module names it by its absolute path, imported from this file.
  await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new LoadError(`${file}: cannot read (${error.code ?? error.message})`);
  });
  let module: Record<string, unknown>;
  try {
    module = await importModule(file);
  } catch (error) {
    if (error instanceof LoadError) throw error;
    if (error instanceof ShapefoldError) throw new LoadError(`${file}: ${error.message}`);
    // '... imported from /abs/dir/model.mjs': the module named as the user typed it.
    const absolute = resolve(file);
    const reason = (error as Error).message.split('\n')[0].replaceAll(pathToFileURL(absolute).href, file).replaceAll(absolute, file);
    throw new LoadError(`${file}: cannot load the module (${reason})`);
  }
  const name = exportName ?? 'default';
  if (!(name in module)) {
    const names = Object.keys(module).filter((k) => k !== 'default');
    throw new LoadError(
      `${file}: no export named '${name}'; name one with ${file}#<export>${names.length > 0 ? ` (exports: ${names.join(', ')})` : ''}`,
    );
  }
  let value = module[name];
  if (typeof value === 'function') {
    try {
      value = (value as () => unknown)();
    } catch (error) {
      if (error instanceof ShapefoldError) throw new LoadError(`${file}#${name}: ${error.message}`);
      throw error;
    }
  }
  const graph = graphOf(value, file);
  if (graph === undefined) throw new LoadError(`${file}#${name}: not a tensor, model or graph`);
  return { graph };
}
