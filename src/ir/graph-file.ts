/** Graph files on disk: written atomically (temporary file, then one rename). */
import { writeFilesAtomic } from '../io/files.ts';
import type { Graph } from './graph.ts';
import { graphToJSON } from './serialize.ts';

export async function writeGraphFile(path: string, graph: Graph): Promise<void> {
  await writeFilesAtomic([[path, `${JSON.stringify(graphToJSON(graph))}\n`]]);
}
