/**
 * Child process of kill-write.test.ts: writes two different Layers models to one target
 * directory, alternately, forever, printing a line after each write. The parent kills it.
 */
import { readFileSync } from 'node:fs';
import { graphFromJSON } from '../../src/ir/serialize.ts';
import { writeLayersModel, type LayersWriteOptions } from '../../src/io/index.ts';

const [target, graphFile] = process.argv.slice(2);
const graph = graphFromJSON(JSON.parse(readFileSync(graphFile, 'utf8')), graphFile);
const versions: LayersWriteOptions[] = [{ shardSize: 1500 }, { quantize: 'float16' }];
for (let k = 0; ; k++) {
  await writeLayersModel(target, graph, versions[k % 2]);
  process.stdout.write(`wrote ${k % 2}\n`);
}
