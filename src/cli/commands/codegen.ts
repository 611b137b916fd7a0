/** `shapefold codegen <model.json> -o <model.ts>`: write an imported Layers model as a typed DSL module. */
import { dirname, relative, resolve } from 'node:path';
import { dslModuleSource } from '../../codegen/dsl-module.ts';
import { writeFilesAtomic } from '../../io/files.ts';
import { readLayersModel } from '../../io/layers-model.ts';
import { defineCommand, helpHint, UsageError } from '../args.ts';
import { assertWritable } from '../output-path.ts';
import { createProgress, stepTicker } from '../progress.ts';

export const codegenCommand = defineCommand({
  name: 'codegen',
  synopsis: '<model.json> -o <model.ts>',
  summary: 'write a tfjs Layers model as a typed shapefold/dsl module',
  details: [
    'The module exports network(input) with its input and output shapes in the signature, one',
    "builder call per layer under the layer's own name; model() (the graph, fresh parameters); and",
    'load(path?) (the graph with the weights of <model.json>, matched by layer name).',
  ].join('\n'),
  options: {
    out: { type: 'string', short: 'o', value: '<model.ts>', help: 'where to write the module (required)' },
  },
  positionals: { min: 1, max: 1 },
  async run({ values, positionals: [spec] }) {
    const out = values.out;
    if (out === undefined) throw new UsageError(`missing -o <model.ts> ${helpHint('codegen')}`);
    await assertWritable(out, 'file');
    const progress = createProgress(process.stderr, values);
    const graph = await progress.stage(`import ${spec}`, async (tick) => (await readLayersModel(spec!, { onProgress: stepTicker(tick) })).graph);
    let weightsPath = relative(dirname(resolve(out)), resolve(spec!)).replaceAll('\\', '/');
    if (!weightsPath.startsWith('.')) weightsPath = `./${weightsPath}`;
    const source = dslModuleSource(graph, { source: spec!, weightsPath });
    await writeFilesAtomic([[out, source]]);
    console.log(`wrote ${out}: ${graph.nodes.length} layers`);
    return 0;
  },
});
