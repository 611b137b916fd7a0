/**
 * Child process of kill-write.test.ts: writes two different Layers models to one target
 * directory, alternately, forever, printing a line after each write. The parent kills it.
 */
import { readFileSync } from 'node:fs';
import { graphFromJSON } from '../../src/ir/serialize.ts';
import { writeLayersModel, type LayersWriteOptions } from '../../src/io/index.ts';

// A process with its own SIGTERM handler, as tsx (this child's loader) and many apps install:
// the writer's handler then undoes the write but leaves exiting to that handler, which runs
// in the same emit; exiting on the next turn lets the writer's undo finish first.
process.on('SIGTERM', () => setImmediate(() => process.exit(143)));

const [target, graphFile] = process.argv.slice(2);
const graph = graphFromJSON(JSON.parse(readFileSync(graphFile, 'utf8')), graphFile);
const versions: LayersWriteOptions[] = [{ shardSize: 1500 }, { quantize: 'float16' }];
for (let k = 0; ; k++) {
  await writeLayersModel(target, graph, versions[k % 2]);
  process.stdout.write(`wrote ${k % 2}\n`);
}
