/**
 * Source generators for the type-check benchmark (`npm run bench:types`): the same networks
 * written twice, once in the typed DSL (the compiler computes every shape) and once in plain
 * TensorFlow.js layers code (no shape types: every `.apply` returns a wide union that is cast to
 * `SymbolicTensor`). The programs are generated rather than checked in so that depth, input
 * shape and writing style can vary without giant fixture files.
 *
 * ResNet-50: stem conv 7x7/2 (pad 3) -> bn -> relu -> maxpool 3x3/2 (pad 1), then bottleneck
 * stages of 3, 4, 6, 3 units with widths 64, 128, 256, 512 and strides 1, 2, 2, 2 (the stride on
 * the 3x3 conv), global average pool and a 2048 -> 1000 classifier.
 * Chain: `layers` applications cycling conv 3x3 pad 1 (16 -> 16) / batchNorm / relu.
 *
 * Every DSL program ends in an annotated declaration (`const out: Tensor<[...]> = ...`) so the
 * compiler has to finish the shape computation and compare it; `expectedDsl*Shape` gives that
 * annotation, and `wrongShape` a deliberately wrong one for the runner's control check.
 */

export type InputKind = 'literal' | 'symbolic';
export type ChainForm = 'statements' | 'expression';

export interface DslSourceOptions {
  /** Module specifier of `dsl/index.ts` as seen from the generated file. */
  readonly dslImport: string;
  readonly input: InputKind;
  /** Replaces the output annotation, e.g. to check that a wrong shape is rejected. */
  readonly annotation?: string;
}

export interface ChainOptions {
  /** Number of layer applications (conv, bn and relu each count as one). */
  readonly layers: number;
  readonly input: InputKind;
}

interface Stage {
  readonly units: number;
  readonly width: number;
  readonly stride: number;
}

const RESNET50_STAGES: readonly Stage[] = [
  { units: 3, width: 64, stride: 1 },
  { units: 4, width: 128, stride: 2 },
  { units: 6, width: 256, stride: 2 },
  { units: 3, width: 512, stride: 2 },
];
const EXPANSION = 4;
const CLASSES = 1000;
const CHAIN_CHANNELS = 16;
const CHAIN_SIZE = 32;

type ChainStep = 'conv' | 'bn' | 'relu';
const CHAIN_CYCLE: readonly ChainStep[] = ['conv', 'bn', 'relu'];

function chainSteps(layers: number): ChainStep[] {
  if (!Number.isInteger(layers) || layers < 1) {
    throw new RangeError(`chain fixture: layers must be a positive integer, got ${layers}`);
  }
  return Array.from({ length: layers }, (_, i) => CHAIN_CYCLE[i % CHAIN_CYCLE.length]);
}

const tsLiteral = (dims: readonly (number | string)[]): string =>
  `[${dims.map((d) => (typeof d === 'number' ? String(d) : `'${d}'`)).join(', ')}]`;

/** The DSL input shape of the ResNet-50 programs. */
export function resnetInputShape(input: InputKind): readonly (number | string)[] {
  return input === 'literal' ? ['N', 3, 224, 224] : ['N', 3, 'H', 'W'];
}

/** The DSL input shape of the chain programs; 3x3 convs with padding 1 keep it. */
export function chainInputShape(input: InputKind): readonly (number | string)[] {
  return input === 'literal' ? ['N', CHAIN_CHANNELS, CHAIN_SIZE, CHAIN_SIZE] : ['N', CHAIN_CHANNELS, 'H', 'W'];
}

export const expectedDslResnetShape = (): string => tsLiteral(['N', CLASSES]);
export const expectedDslChainShape = (input: InputKind): string => tsLiteral(chainInputShape(input));
/** A shape no fixture produces: the output annotation of the negative control. */
export const wrongShape = (): string => tsLiteral(['N', CLASSES + 1]);

/** ResNet-50 in the DSL, one chained expression as in `examples/resnet18.ts`. */
export function resnet50Dsl(options: DslSourceOptions): string {
  const units: string[] = [];
  RESNET50_STAGES.forEach((stage, s) => {
    for (let u = 0; u < stage.units; u++) {
      const stride = u === 0 && stage.stride !== 1 ? `, stride: ${stage.stride}` : '';
      units.push(`    .to(bottleneck({ width: ${stage.width}${stride}, name: 'layer${s + 1}.${u}' }))`);
    }
  });
  const lastWidth = RESNET50_STAGES[RESNET50_STAGES.length - 1].width;
  return [
    `import { batchNorm, bottleneck, conv2d, globalAvgPool, input, linear, maxPool, model, relu, type Tensor } from '${options.dslImport}';`,
    '',
    `export const logits: Tensor<${options.annotation ?? expectedDslResnetShape()}> =`,
    `  input(${tsLiteral(resnetInputShape(options.input))}, { name: 'image' })`,
    "    .to(conv2d({ in: 3, out: 64, kernel: 7, stride: 2, padding: 3, bias: false, name: 'conv1' }))",
    "    .to(batchNorm({ name: 'bn1' }))",
    '    .to(relu())',
    '    .to(maxPool({ kernel: 3, stride: 2, padding: 1 }))',
    ...units,
    '    .to(globalAvgPool())',
    `    .to(linear({ in: ${lastWidth * EXPANSION}, out: ${CLASSES}, name: 'fc' }));`,
    '',
    'export const resnet50 = model(logits);',
    '',
  ].join('\n');
}

/** tfjs-layers input shape (batch left out); `null` is a size known only at run time. */
function tfjsInputShape(dims: readonly (number | string)[]): string {
  return `[${dims.slice(1).map((d) => (typeof d === 'number' ? String(d) : 'null')).join(', ')}]`;
}

/**
 * ResNet-50 with the tfjs functional API, NCHW (`channelsFirst`) like the DSL. Written the way
 * Keras' own ResNet50 is: a bottleneck helper function, explicit zero padding where PyTorch pads
 * a strided conv or pool, 'same' where that gives the same size.
 */
export function resnet50Tfjs(input: InputKind): string {
  const calls: string[] = [];
  let channels = 64;
  RESNET50_STAGES.forEach((stage, s) => {
    for (let u = 0; u < stage.units; u++) {
      const stride = u === 0 ? stage.stride : 1;
      const projection = stride !== 1 || channels !== stage.width * EXPANSION;
      calls.push(`x = bottleneck(x, ${stage.width}, ${stride}, ${projection}, 'layer${s + 1}.${u}');`);
      channels = stage.width * EXPANSION;
    }
  });
  return [
    "import * as tf from '@tensorflow/tfjs';",
    '',
    "const dataFormat = 'channelsFirst';",
    '',
    'function convBn(x: tf.SymbolicTensor, filters: number, kernelSize: number, strides: number, name: string): tf.SymbolicTensor {',
    "  const padding = kernelSize === 1 ? 'valid' : 'same';",
    '  const y = tf.layers.conv2d({ filters, kernelSize, strides, padding, useBias: false, dataFormat, name }).apply(x) as tf.SymbolicTensor;',
    "  return tf.layers.batchNormalization({ axis: 1, name: `${name}_bn` }).apply(y) as tf.SymbolicTensor;",
    '}',
    '',
    'function bottleneck(x: tf.SymbolicTensor, width: number, stride: number, projection: boolean, name: string): tf.SymbolicTensor {',
    '  let y = convBn(x, width, 1, 1, `${name}.conv1`);',
    "  y = tf.layers.activation({ activation: 'relu' }).apply(y) as tf.SymbolicTensor;",
    '  y = convBn(y, width, 3, stride, `${name}.conv2`);',
    "  y = tf.layers.activation({ activation: 'relu' }).apply(y) as tf.SymbolicTensor;",
    `  y = convBn(y, ${EXPANSION} * width, 1, 1, \`\${name}.conv3\`);`,
    `  const shortcut = projection ? convBn(x, ${EXPANSION} * width, 1, stride, \`\${name}.proj\`) : x;`,
    '  const sum = tf.layers.add({ name: `${name}.add` }).apply([y, shortcut]) as tf.SymbolicTensor;',
    "  return tf.layers.activation({ activation: 'relu' }).apply(sum) as tf.SymbolicTensor;",
    '}',
    '',
    `const image = tf.input({ shape: ${tfjsInputShape(resnetInputShape(input))}, name: 'image' });`,
    'let x = tf.layers.zeroPadding2d({ padding: 3, dataFormat }).apply(image) as tf.SymbolicTensor;',
    "x = tf.layers.conv2d({ filters: 64, kernelSize: 7, strides: 2, useBias: false, dataFormat, name: 'conv1' }).apply(x) as tf.SymbolicTensor;",
    "x = tf.layers.batchNormalization({ axis: 1, name: 'bn1' }).apply(x) as tf.SymbolicTensor;",
    "x = tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;",
    'x = tf.layers.zeroPadding2d({ padding: 1, dataFormat }).apply(x) as tf.SymbolicTensor;',
    'x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, dataFormat }).apply(x) as tf.SymbolicTensor;',
    ...calls,
    'x = tf.layers.globalAveragePooling2d({ dataFormat }).apply(x) as tf.SymbolicTensor;',
    `const logits = tf.layers.dense({ units: ${CLASSES}, name: 'fc' }).apply(x) as tf.SymbolicTensor;`,
    '',
    'export const resnet50 = tf.model({ inputs: image, outputs: logits });',
    '',
  ].join('\n');
}

function dslChainLayer(step: ChainStep): string {
  switch (step) {
    case 'conv':
      return `conv2d({ in: ${CHAIN_CHANNELS}, out: ${CHAIN_CHANNELS}, kernel: 3, padding: 1 })`;
    case 'bn':
      return 'batchNorm()';
    case 'relu':
      return 'relu()';
  }
}

/**
 * The plain chain in the DSL. 'statements': one `const hK = hJ.to(conv).to(bn).to(relu);` per
 * conv block, the way a user writes a long chain; 'expression': every layer in one `.to` chain.
 */
export function chainDsl(options: DslSourceOptions & ChainOptions & { readonly form: ChainForm }): string {
  const steps = chainSteps(options.layers);
  const header = [
    `import { batchNorm, conv2d, input, model, relu, type Tensor } from '${options.dslImport}';`,
    '',
    `const h0 = input(${tsLiteral(chainInputShape(options.input))});`,
  ];
  const output = `export const out: Tensor<${options.annotation ?? expectedDslChainShape(options.input)}> =`;
  const body: string[] = [];
  if (options.form === 'expression') {
    body.push(`${output} h0`, ...steps.map((step) => `  .to(${dslChainLayer(step)})`));
    body[body.length - 1] += ';';
  } else {
    let block = 0;
    for (let i = 0; i < steps.length; i += CHAIN_CYCLE.length) {
      const calls = steps.slice(i, i + CHAIN_CYCLE.length).map((step) => `.to(${dslChainLayer(step)})`);
      body.push(`const h${block + 1} = h${block}${calls.join('')};`);
      block++;
    }
    body.push(`${output} h${block};`);
  }
  return [...header, ...body, '', 'export const chain = model(out);', ''].join('\n');
}

function tfjsChainLayer(step: ChainStep): string {
  switch (step) {
    case 'conv':
      return `tf.layers.conv2d({ filters: ${CHAIN_CHANNELS}, kernelSize: 3, padding: 'same', dataFormat })`;
    case 'bn':
      return 'tf.layers.batchNormalization({ axis: 1 })';
    case 'relu':
      return "tf.layers.activation({ activation: 'relu' })";
  }
}

/** The plain chain in tfjs layers: one `const hK = layer.apply(hJ) as tf.SymbolicTensor;` per layer. */
export function chainTfjs(options: ChainOptions): string {
  const steps = chainSteps(options.layers);
  return [
    "import * as tf from '@tensorflow/tfjs';",
    '',
    "const dataFormat = 'channelsFirst';",
    `const h0 = tf.input({ shape: ${tfjsInputShape(chainInputShape(options.input))} });`,
    ...steps.map((step, i) => `const h${i + 1} = ${tfjsChainLayer(step)}.apply(h${i}) as tf.SymbolicTensor;`),
    '',
    `export const chain = tf.model({ inputs: h0, outputs: h${steps.length} });`,
    '',
  ].join('\n');
}

/**
 * The smallest use of each library: what merely importing it costs. Imported as TypeScript
 * source, the DSL's own implementation is checked along with the user's program.
 */
export function importOnlyDsl(dslImport: string): string {
  return [`import { input } from '${dslImport}';`, '', "export const x = input(['N', 3]);", ''].join('\n');
}

export function importOnlyTfjs(): string {
  return ["import * as tf from '@tensorflow/tfjs';", '', 'export const x = tf.input({ shape: [3] });', ''].join('\n');
}

/**
 * How a program gets the DSL: 'source' imports dsl/index.ts from the repository (the compiler
 * checks the DSL's implementation too); 'declarations' imports 'shapefold/dsl' from the package as
 * `npm run build` emits it, the .d.ts files a consumer's compiler reads (their bodies skipped).
 */
export type DslVariant = 'source' | 'declarations';

/** One program of the benchmark. */
export interface TypeBenchProgram {
  readonly name: string;
  readonly style: 'dsl' | 'tfjs';
  readonly variant?: DslVariant;
  /** The tfjs program this DSL program is compared with. */
  readonly baseline?: string;
  /** The import-only program of the same library and variant (absent on those themselves). */
  readonly imports?: string;
  readonly source: string;
  /** DSL programs: the same source with a wrong output annotation, which must fail to compile. */
  readonly wrongSource?: string;
}

export const CHAIN_LAYERS = 200;

/** Module specifiers of the DSL entry as seen from a generated program, per variant. */
export type DslImports = { readonly source: string; readonly declarations?: string };

const VARIANT_SUFFIX: Record<DslVariant, string> = { source: '', declarations: ' [package]' };
const importsName = (style: 'dsl' | 'tfjs', variant?: DslVariant) =>
  `imports only ${style}${variant === undefined ? '' : VARIANT_SUFFIX[variant]}`;

/**
 * All benchmark programs, each DSL program right after the tfjs program it is compared with;
 * DSL programs once per variant given in `dslImports`.
 */
export function typeBenchPrograms(dslImports: DslImports, chainLayers: number = CHAIN_LAYERS): TypeBenchProgram[] {
  const variants = (Object.keys(VARIANT_SUFFIX) as DslVariant[]).flatMap((variant) => {
    const dslImport = dslImports[variant];
    return dslImport === undefined ? [] : [{ variant, dslImport }];
  });
  const tfjsImports = importsName('tfjs');
  const programs: TypeBenchProgram[] = [{ name: tfjsImports, style: 'tfjs', source: importOnlyTfjs() }];
  const addDsl = (name: string, baseline: string, generate: (dslImport: string, annotation?: string) => string) => {
    for (const { variant, dslImport } of variants) {
      programs.push({
        name: `${name}${VARIANT_SUFFIX[variant]}`,
        style: 'dsl',
        variant,
        baseline,
        imports: importsName('dsl', variant),
        source: generate(dslImport),
        wrongSource: generate(dslImport, wrongShape()),
      });
    }
  };
  for (const { variant, dslImport } of variants) {
    programs.push({ name: importsName('dsl', variant), style: 'dsl', variant, baseline: tfjsImports, source: importOnlyDsl(dslImport) });
  }
  for (const input of ['literal', 'symbolic'] as const) {
    const tfjs = `resnet50 tfjs ${input}`;
    programs.push({ name: tfjs, style: 'tfjs', imports: tfjsImports, source: resnet50Tfjs(input) });
    addDsl(`resnet50 dsl ${input}`, tfjs, (dslImport, annotation) => resnet50Dsl({ dslImport, input, annotation }));
  }
  for (const input of ['literal', 'symbolic'] as const) {
    const tfjs = `chain${chainLayers} tfjs ${input}`;
    programs.push({ name: tfjs, style: 'tfjs', imports: tfjsImports, source: chainTfjs({ layers: chainLayers, input }) });
    const forms: readonly ChainForm[] = input === 'literal' ? ['statements', 'expression'] : ['statements'];
    for (const form of forms) {
      addDsl(`chain${chainLayers} dsl ${input}${form === 'expression' ? ' (1 expr)' : ''}`, tfjs, (dslImport, annotation) =>
        chainDsl({ dslImport, input, layers: chainLayers, form, annotation }),
      );
    }
  }
  return programs;
}
