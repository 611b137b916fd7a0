/**
 * What a user sees in the editor: one diagnostic per mistake (a failed layer poisons its output,
 * which later calls accept silently and which hovers as the failure), layers shown under short
 * names, and the compiler agreeing with the run time where a size is
 * symbolic: a layer on a symbolic channel count either type-checks and builds, or fails in both
 * places with the same words.
 */
import { describe, expect, it } from 'vitest';
import * as d from '../../dsl/index.ts';
import { PRELUDE } from './cases.ts';
import { checkSnippet, expectCompiles, typeLevelWords, typeTexts } from './harness.ts';

const MARK = '// <-';
const lineOf = (code: string) => code.split('\n').findIndex((l) => l.includes(MARK)) + 1;

/** Each has exactly one mistake, on the marked line, followed by calls that use its result. */
const cascades: { name: string; code: string; message: string }[] = [
  {
    name: 'LeNet with a wrong fc1 width',
    code: [
      "const y = d.input(['N', 1, 32, 32])",
      "  .to(d.conv2d({ out: 6, kernel: 5, name: 'conv1' }))",
      '  .to(d.relu())',
      '  .to(d.maxPool({ kernel: 2 }))',
      "  .to(d.conv2d({ out: 16, kernel: 5, name: 'conv2' }))",
      '  .to(d.relu())',
      '  .to(d.maxPool({ kernel: 2 }))',
      '  .to(d.flatten())',
      `  .to(d.linear({ in: 256, out: 120, name: 'fc1' })) ${MARK}`,
      '  .to(d.relu())',
      "  .to(d.linear({ in: 120, out: 84, name: 'fc2' }))",
      '  .to(d.relu())',
      "  .to(d.linear({ in: 84, out: 10, name: 'fc3' }));",
      'const { graph } = d.model(y);',
    ].join('\n'),
    message: "linear 'fc1': input has 400 features, layer expects 256",
  },
  {
    name: 'a failed conv feeding a residual merge, a concat and a unit',
    code: [
      "const x = d.input(['N', 32, 16, 16]);",
      `const a = x.to(d.conv2d({ in: 64, out: 32, kernel: 3, padding: 1 })); ${MARK}`,
      'const b = d.add(x, a, x);',
      'const c = d.concat(b, x.to(d.relu()), a);',
      'const e = c.to(d.resA({ out: 16 })).to(d.sequential(d.batchNorm(), d.relu())).to(d.globalAvgPool());',
      'const out = d.model([e, a]);',
    ].join('\n'),
    message: 'conv2d: input has 32 channels, layer expects 64',
  },
  {
    name: 'a failed add used by later layers',
    code: [
      "const x = d.input(['N', 8, 'H', 'W']);",
      'const down = x.to(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 }));',
      `const sum = d.add(x, down); ${MARK}`,
      'const y = sum.to(d.conv2d({ out: 4, kernel: 1 })).to(d.batchNorm({ channels: 4 }));',
      'const z = d.add(y, y);',
    ].join('\n'),
    message: 'add: branch 2 of 2 differs at dim 2 (H): floor((H+1)/2) vs H',
  },
  {
    name: 'a failed concat used by later layers',
    code: [
      "const x = d.input(['N', 8, 'H']);",
      `const y = d.concat(x, x); ${MARK}`,
      'const z = y.to(d.flatten()).to(d.linear({ in: 3, out: 2 }));',
    ].join('\n'),
    message: 'concat: expects a rank-2 input [N, C] or a rank-4 input [N, C, H, W], got rank 3',
  },
];

describe('one diagnostic per mistake', () => {
  it.each(cascades.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const code = `${PRELUDE}\n${c.code}\n`;
    const { errors } = checkSnippet(code);
    expect(errors.map((e) => e.line)).toEqual([lineOf(code)]);
    expect(errors[0].message).toContain(`'"${c.message}"'`);
  });

  it('a failed layer, add or concat hovers as the failure, and so does everything after it', () => {
    const code = [
      PRELUDE,
      "const x = d.input(['N', 32, 8, 8]);",
      'const bad = x.to(d.conv2d({ in: 64, out: 16, kernel: 3 }));',
      'const later = bad.to(d.relu()).to(d.flatten());',
      'const sum = d.add(x, x.to(d.maxPool({ kernel: 2 })));',
      'const cat = d.concat(x, x, x.to(d.conv2d({ out: 4, kernel: 3 })));',
      'const poisonedSum = d.add(later, x);',
      'type Bad = typeof bad; type Later = typeof later; type Sum = typeof sum; type Cat = typeof cat; type PoisonedSum = typeof poisonedSum;',
    ].join('\n');
    // The snippet has errors by design; typeTexts needs a clean one, so the failing lines are suppressed.
    const quiet = code.replace(/\nconst (bad|sum|cat) =/g, '\n// @ts-expect-error\nconst $1 =');
    // Qualified by the snippet's namespace import; with named imports the hover reads Tensor<ShapeError<...>>.
    const conv = 'd.Tensor<d.ShapeError<"conv2d: input has 32 channels, layer expects 64">>';
    expect(typeTexts(quiet, ['Bad', 'Later', 'Sum', 'Cat', 'PoisonedSum'])).toEqual([
      conv,
      conv,
      'd.Tensor<d.ShapeError<"add: branch 2 of 2 differs at dim 2 (H): 4 vs 8">>',
      'd.Tensor<d.ShapeError<"concat: input 3 of 3 differs at dim 2 (H): 6 vs 8">>',
      conv,
    ]);
  });
});

describe('a declared output (Returns<S>, as codegen writes it)', () => {
  it('of another shape is one error at the return, comparing the shapes', () => {
    const { errors } = checkSnippet(`${PRELUDE}
function head(x: d.Tensor<['N', 16]>): d.Returns<['N', 11]> {
  return x.to(d.linear({ in: 16, out: 10 }));
}
`);
    expect(errors.map((e) => e.line)).toEqual([4]);
    expect(errors[0].message).toContain("Type '10' is not assignable to type '11'");
    expect(errors[0].message).not.toContain('shapeError');
  });

  it('poisoned upstream is accepted, its failure reported once where it happened', () => {
    const { errors } = checkSnippet(`${PRELUDE}
function head(x: d.Tensor<['N', 16]>): d.Returns<['N', 10]> {
  return x.to(d.linear({ in: 15, out: 10 }));
}
const out: d.Model<['N', 10] | d.ShapeError<string>> = d.model(head(d.input(['N', 16])));
`);
    expect(errors.map((e) => [e.line, typeLevelWords(e.message)])).toEqual([[4, 'linear: input has 16 features, layer expects 15']]);
  });
});

describe('short diagnostics, message first', () => {
  // The length of every error case's diagnostic is checked in dsl.test.ts.
  it('a layer written in its .to() call is reported at the config property at fault, one built apart at the argument', () => {
    const cases: [code: string, underlined: string, words: string][] = [
      ["d.input(['N', 32, 8, 8]).to(d.conv2d({ in: 64, out: 16, kernel: 3 }))", 'in', 'conv2d: input has 32 channels, layer expects 64'],
      ["d.input(['N', 32, 8, 8]).to(d.depthwiseConv2d({ in: 96, kernel: 3 }))", 'in', 'depthwiseConv2d: input has 32 channels, layer expects 96'],
      ["d.input(['N', 3, 3, 3]).to(d.conv2d({ out: 8, kernel: 5 }))", 'kernel', 'conv2d: input height 3 is too small for kernel 5'],
      ["d.input(['N', 6, 8, 8]).to(d.conv2d({ out: 8, kernel: 3, groups: 4 }))", 'groups', 'conv2d: 4 groups do not divide 6 input channels'],
      ["d.input(['N', 32]).to(d.batchNorm({ channels: 16, name: 'bn' }))", 'channels', "batchNorm 'bn': input has 32 channels, layer expects 16"],
      ["d.input(['N', 16, 8, 8]).to(d.resA({ out: 32, projection: false }))", 'projection', 'resA: add: branch shapes differ at dim 1 (C): 32 vs 16'],
      // A failing step of a sequential is underlined, not the whole sequential.
      ["d.input(['N', 3, 8, 8]).to(d.sequential(d.relu(), d.conv2d({ in: 4, out: 8, kernel: 1 }), d.relu()))", 'd.conv2d({ in: 4, out: 8, kernel: 1 })', 'sequential[1] conv2d: input has 3 channels, layer expects 4'],
      // A residual's failing sum is shown on its shortcut.
      ["d.input(['N', 8, 8, 8]).to(d.residual(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 }), { shortcut: d.conv2d({ out: 8, kernel: 1 }) }))", 'shortcut', 'residual: add: branch shapes differ at dim 2 (H): 4 vs 8'],
      // Without a config property to take it, the layer argument does.
      ["d.input(['N', 8]).to(d.instanceNorm())", 'd.instanceNorm()', 'instanceNorm: expects a rank-4 input [N, C, H, W], got rank 2'],
    ];
    for (const [call, underlined, words] of cases) {
      const { errors } = checkSnippet(`${PRELUDE}
const y = ${call};
`);
      expect(errors.map((e) => [e.text, typeLevelWords(e.message)]), call).toEqual([[underlined, words]]);
    }
    const apart = checkSnippet(`${PRELUDE}
const conv = d.conv2d({ in: 64, out: 16, kernel: 3 });
const y = d.input(['N', 32, 8, 8]).to(conv);
`);
    expect(apart.errors.map((e) => [e.line, e.text, e.message])).toEqual([
      [4, 'conv', `Argument of type 'Conv2d<{ in: 64; out: 16; kernel: 3; }>' is not assignable to parameter of type '"conv2d: input has 32 channels, layer expects 64"'.`],
    ]);
    // A config spread over lines: the line of the property at fault.
    const lines = checkSnippet(`${PRELUDE}
const y = d.input(['N', 32, 8, 8]).to(d.conv2d({
  out: 16,
  in: 64,
  kernel: 3,
}));
`);
    expect(lines.errors.map((e) => [e.line, e.message])).toEqual([[5, `Type 'number' is not assignable to type '"conv2d: input has 32 channels, layer expects 64"'.`]]);
  });

  it('layers display under their builder names', () => {
    const code = [
      PRELUDE,
      "const c = d.conv2d({ out: 64, kernel: 3, padding: 1, name: 'conv1' });",
      'const s = d.sequential(d.batchNorm(), d.relu(), d.flatten());',
      'const r = d.resA({ out: 16, stride: 2 });',
      'type C = typeof c; type S = typeof s; type R = typeof r; type Net = ReturnType<typeof d.resnet50>;',
    ].join('\n');
    expect(typeTexts(code, ['C', 'S', 'R', 'Net'])).toEqual([
      'd.Conv2d<{ out: 64; kernel: 3; padding: 1; name: "conv1"; }>',
      'd.Sequential<[d.BatchNorm<{}>, d.Relu, d.Flatten]>',
      'd.ResA<{ out: 16; stride: 2; }>',
      'd.ResNet50',
    ]);
  });
});

/** Sources evaluated both at run time (with `d` bound) and by the compiler. */
const symbolicChannels: string[] = [
  ...['batchNorm', 'batchRenorm', 'layerNorm', 'instanceNorm', 'ibn', 'switchableNorm', 'scaleShift'].flatMap((op) => [
    `d.input(['N', 'C', 8, 8]).to(d.${op}({ name: 'n' }))`,
    `d.input(['N', 'C', 8, 8]).to(d.${op}({ channels: 8, name: 'n' }))`,
  ]),
  "d.input(['N', 'C', 8, 8]).to(d.groupNorm({ groups: 2, name: 'n' }))",
  "d.input(['N', 'C', 8, 8]).to(d.normalize({ mean: [0, 0, 0], std: [1, 1, 1], name: 'n' }))",
  "d.input(['N', 'C']).to(d.batchNorm({ name: 'n' }))",
  "d.input(['N', 'C', 5]).to(d.batchNorm({ name: 'n' }))",
  "d.input(['N', 'C', 8, 8]).to(d.conv2d({ out: 4, kernel: 3, name: 'c' }))",
  "d.input(['N', 'C', 8, 8]).to(d.conv2d({ in: 4, out: 4, kernel: 3, name: 'c' }))",
  "d.input(['N', 'C', 8, 8]).to(d.depthwiseConv2d({ kernel: 3, name: 'c' }))",
  "d.input(['N', 'C', 8, 8]).to(d.convTranspose2d({ out: 4, kernel: 2, name: 'c' }))",
  "d.input(['N', 'F']).to(d.linear({ out: 4, name: 'fc' }))",
  "d.input(['N', 'C', 8, 8]).to(d.resA({ out: 8, name: 'u' }))",
  "d.input(['N', 'C', 8, 8]).to(d.bottleneck({ width: 8, name: 'u' }))",
  "d.input(['N', 'C', 8, 8]).to(d.maxPool({ kernel: 2 })).to(d.relu()).to(d.flatten())",
  "((x) => d.concat(x, x.to(d.relu()), x).to(d.globalAvgPool()))(d.input(['N', 'C', 8, 8]))",
];

describe('symbolic channel counts: the compiler and the run time agree', () => {
  it.each(symbolicChannels)('%s', (src) => {
    let runtime: { shape: readonly unknown[] } | { error: string };
    try {
      runtime = { shape: (new Function('d', `return ${src};`)(d) as d.Tensor<d.Shape>).shape };
    } catch (e) {
      runtime = { error: (e as Error).message };
    }
    if ('shape' in runtime) {
      const tuple = JSON.stringify(runtime.shape).replace(/"/g, "'");
      expectCompiles(`${PRELUDE}\nconst y = ${src};\nconst exact: Exact<(typeof y)['shape'], ${tuple}> = true;\n`);
    } else {
      const { errors } = checkSnippet(`${PRELUDE}\nconst y = ${src};\n`);
      expect(errors).toHaveLength(1);
      expect(typeLevelWords(errors[0].message)).toBe(runtime.error);
    }
  });
});

describe('sizes typed number', () => {
  it('by default are accepted and displayed as CheckedAtRunTime, in the layer and in the output', () => {
    const code = [
      PRELUDE,
      'const width = 120 as number;',
      'const fc = d.linear({ in: 16 * 5 * 5, out: width });',
      "const y = d.input(['N', 400]).to(fc);",
      'type Fc = typeof fc; type Y = typeof y;',
    ].join('\n');
    expect(typeTexts(code, ['Fc', 'Y'])).toEqual(['d.Linear<{ in: d.CheckedAtRunTime; out: d.CheckedAtRunTime; }>', 'd.Tensor<["N", d.CheckedAtRunTime]>']);
  });

  it('with strictSizes on are an error at the builder that says why and what to write', () => {
    // Users write `declare module 'shapefold/dsl'` (the package's declarations); the snippets import the DSL's source.
    const strict = "declare module '../../dsl/index.ts' {\n  interface Settings { strictSizes: true }\n}";
    const cases = [
      ['d.linear({ in: 16 * 5 * 5, out: 120 })', 'linear: in is typed number, so the compiler cannot check it; write it as a number literal'],
      ['d.conv2d({ out: 8, kernel: k })', 'conv2d: kernel is typed number, so the compiler cannot check it; write it as a number literal'],
      ['d.maxPool({ kernel: [2, k] })', 'maxPool2d: kernel is typed number, so the compiler cannot check it; write it as a number literal'],
      ['d.normalize({ mean, std: [1, 1, 1] })', 'normalize: mean is a number[] of unknown length, so the compiler cannot check it; write it inline or as const'],
      ['d.resA({ out: config.out })', 'resA: out is typed number, so the compiler cannot check it; write it as a number literal'],
    ] as const;
    for (const [call, message] of cases) {
      const code = `${PRELUDE}\n${strict}\nconst k = 3 as number;\nconst mean = [0.5, 0.5, 0.5];\nconst config = { out: 16 };\nconst layer = ${call};\n`;
      const { errors } = checkSnippet(code);
      expect(errors.map((e) => e.line), call).toEqual([code.split('\n').length - 1]);
      expect(errors[0].message).toContain(`'"${message}"'`);
    }
    expectCompiles(`${PRELUDE}\n${strict}\nconst y = d.input(['N', 400]).to(d.linear({ in: 400, out: 120 })).to(d.batchNorm({ channels: 120 }));\n`);
  });
});

describe('option lists', () => {
  it('are checked against their config interface: a missing option and a name that is none are compile errors', () => {
    const header = `import { optionNames } from '../../dsl/runtime.ts';\ninterface Config { readonly out: number; readonly kernel?: number; readonly name?: string }`;
    expectCompiles(`${header}\nconst ok = optionNames<Config>()(['out', 'kernel', 'name']);\n`);
    const missing = checkSnippet(`${header}\nconst missing = optionNames<Config>()(['out', 'name']);\n`);
    expect(missing.errors.map((e) => e.line)).toEqual([3]);
    expect(missing.errors[0].message).toContain('missing');
    const extra = checkSnippet(`${header}\nconst extra = optionNames<Config>()(['out', 'kernel', 'name', 'stride']);\n`);
    expect(extra.errors.map((e) => e.line)).toEqual([3]);
    expect(extra.errors[0].message).toContain('"stride"');
  });
});
