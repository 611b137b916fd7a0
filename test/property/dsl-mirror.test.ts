/**
 * Type-level shapes and run-time shapes are the same function. fast-check generates random DSL
 * programs (conv, transposed conv, pools, crops, norms, softmax, prelu, resampling, reshape,
 * permute, broadcasting merges, flatten + linear, the named units resA/resB/resC/basicBlock/
 * bottleneck/squeezeExcite/mbConv, with sizes literal up to 10^4 or symbolic); each
 * program runs at run time first. Its outcome is then written into a snippet
 * that the compiler must agree with: the exact output shape as a type equality, or, when the run
 * time raised a shape error, a type error on the same line with the same message, word for word:
 * the `op 'name': ` prefix of named layers, the bare `op: ` of unnamed ones (whose graph names
 * carry a counter the compiler cannot know), the unit's words around a child's failure in named
 * and unnamed units, and `sequential[i] ` before a failure inside a `sequential` or `residual`
 * of generated layers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as d from '../../dsl/index.ts';
import type { Layer } from '../../dsl/index.ts';
import type { Shape } from '../../src/ir/graph.ts';
import { checkSnippet, typeLevelWords } from '../types/harness.ts';

type Pad = number | [number, number] | [number, number, number, number] | 'same' | 'valid';

type Step =
  | { op: 'conv2d'; out: number; kernel: number; stride: number; dilation: number; padding: Pad; groups: number; statedIn?: number }
  | { op: 'convTranspose2d'; out: number; kernel: number; stride: number; dilation: number; padding: number; outputPadding: number }
  | { op: 'maxPool' | 'avgPool'; kernel: number; stride: number; padding: number }
  | { op: 'batchNorm'; channels?: number }
  | { op: 'groupNorm'; groups: number }
  | { op: 'relu' }
  | { op: 'crop2d'; crop: number | [number, number] | [number, number, number, number] }
  | { op: 'softmax' | 'logSoftmax'; axis: number }
  | { op: 'prelu'; sharedAxes: number[] }
  | { op: 'upsample2d'; scale: number | [number, number] }
  | { op: 'resize2d'; size: [number, number] }
  | { op: 'reshape'; shape: [number, number, number] }
  | { op: 'permute'; dims: number[] }
  | { op: 'layerNorm'; over: 'chw' | 'c'; normalizedShape?: number[] }
  | { op: 'join'; axis: number; out?: number }
  | { op: 'gate'; fn: 'multiply' | 'subtract' | 'maximum' | 'minimum' | 'average' | 'broadcastAdd'; out?: number; keepDims: boolean }
  | { op: 'flattenLinear'; in: number; out: number }
  | { op: 'resA' | 'resB' | 'resC' | 'basicBlock'; out: number; stride: number; statedIn?: number; projection?: boolean }
  | { op: 'bottleneck'; width: number; stride: number; statedIn?: number }
  | { op: 'squeezeExcite'; squeeze: number }
  | { op: 'mbConv'; out: number; expand: number; kernel: number; stride: number; statedIn?: number; squeeze?: number }
  | { op: 'sequential' | 'residual'; steps: LayerStep[] };

/** A step that is one layer (a `.to` argument), so it may sit inside a sequential. */
type LayerStep = Exclude<Step, { op: 'join' | 'gate' | 'flattenLinear' | 'sequential' | 'residual' }>;

/** A step and whether its layer (a unit's too) is named; an unnamed one gets a counter name at run time. */
interface Named<S> {
  step: S;
  named: boolean;
}

interface Program {
  input: [string | number, number, string | number, string | number];
  steps: Named<Step>[];
}

const padding: fc.Arbitrary<Pad> = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
  fc.constantFrom<Pad>('same', 'valid'),
);

const step: fc.Arbitrary<LayerStep> = fc.oneof(
  { weight: 5, arbitrary: fc.record({
    op: fc.constant('conv2d' as const),
    out: fc.integer({ min: 1, max: 12 }),
    kernel: fc.integer({ min: 1, max: 7 }),
    stride: fc.integer({ min: 1, max: 3 }),
    dilation: fc.integer({ min: 1, max: 3 }),
    padding,
    groups: fc.constantFrom(1, 1, 1, 2, 3),
    statedIn: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
  }) },
  { weight: 2, arbitrary: fc.record({
    op: fc.constant('convTranspose2d' as const),
    out: fc.integer({ min: 1, max: 8 }),
    kernel: fc.integer({ min: 1, max: 5 }),
    stride: fc.integer({ min: 1, max: 3 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    padding: fc.integer({ min: 0, max: 2 }),
    outputPadding: fc.integer({ min: 0, max: 2 }),
  }) },
  { weight: 2, arbitrary: fc.record({
    op: fc.constantFrom('maxPool' as const, 'avgPool' as const),
    kernel: fc.integer({ min: 1, max: 4 }),
    stride: fc.integer({ min: 1, max: 3 }),
    padding: fc.integer({ min: 0, max: 2 }),
  }).filter((p) => 2 * p.padding <= p.kernel) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('batchNorm' as const), channels: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('groupNorm' as const), groups: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'relu' as const }) },
  { weight: 1, arbitrary: fc.record({
    op: fc.constant('crop2d' as const),
    crop: fc.oneof(
      fc.integer({ min: 0, max: 4 }),
      fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
      fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
    ),
  }) },
);

const extraSteps: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constantFrom('softmax' as const, 'logSoftmax' as const), axis: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant('prelu' as const), sharedAxes: fc.subarray([1, 2, 3, 4]) }),
  fc.record({ op: fc.constant('upsample2d' as const), scale: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))) }),
  fc.record({ op: fc.constant('resize2d' as const), size: fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 })) }),
  fc.record({
    op: fc.constant('reshape' as const),
    shape: fc.oneof(
      fc.tuple(fc.integer({ min: 1, max: 12 }), fc.constant(1), fc.constant(-1)),
      fc.tuple(fc.constant(-1), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
      fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 })),
    ),
  }),
  fc.record({ op: fc.constant('permute' as const), dims: fc.oneof(fc.shuffledSubarray([1, 2, 3], { minLength: 3, maxLength: 3 }), fc.shuffledSubarray([1, 2, 3, 4], { minLength: 2 })) }),
  fc.record({
    op: fc.constant('layerNorm' as const),
    over: fc.constantFrom('chw' as const, 'c' as const),
    normalizedShape: fc.option(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  }),
  fc.record({ op: fc.constant('join' as const), axis: fc.integer({ min: 1, max: 4 }), out: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }) }),
  fc.record({
    op: fc.constant('gate' as const),
    fn: fc.constantFrom('multiply' as const, 'subtract' as const, 'maximum' as const, 'minimum' as const, 'average' as const, 'broadcastAdd' as const),
    out: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
    keepDims: fc.boolean(),
  }),
);

/** Named units, whose children's failures must read as the run time's ('conv2d 'l3.conv1': ...'). */
const unitSteps: fc.Arbitrary<LayerStep> = fc.oneof(
  fc.record({
    op: fc.constantFrom('resA' as const, 'resB' as const, 'resC' as const, 'basicBlock' as const),
    out: fc.integer({ min: 1, max: 12 }),
    stride: fc.integer({ min: 1, max: 3 }),
    statedIn: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
    projection: fc.option(fc.boolean(), { nil: undefined }),
  }),
  fc.record({
    op: fc.constant('bottleneck' as const),
    width: fc.integer({ min: 1, max: 4 }),
    stride: fc.integer({ min: 1, max: 2 }),
    statedIn: fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined }),
  }),
  fc.record({ op: fc.constant('squeezeExcite' as const), squeeze: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    op: fc.constant('mbConv' as const),
    out: fc.integer({ min: 1, max: 12 }),
    expand: fc.integer({ min: 1, max: 3 }),
    kernel: fc.constantFrom(1, 3, 5),
    stride: fc.integer({ min: 1, max: 2 }),
    statedIn: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
    squeeze: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  }),
);

const named = <S>(arbitrary: fc.Arbitrary<S>): fc.Arbitrary<Named<S>> => fc.record({ step: arbitrary, named: fc.boolean() });

/** One to three layers from the other arbitraries, applied in a sequential or as a residual's branch. */
const composite: fc.Arbitrary<Step> = fc.record({
  op: fc.constantFrom('sequential' as const, 'residual' as const),
  steps: fc.array(fc.oneof({ weight: 3, arbitrary: step }, { weight: 1, arbitrary: unitSteps }), { minLength: 1, maxLength: 3 }),
});

const sizeOrSymbol = (symbol: string) => fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 40 }), fc.constant(symbol));

const program: fc.Arbitrary<Program> = fc
  .record({
    input: fc.tuple(fc.constantFrom<string | number>('N', 2), fc.integer({ min: 1, max: 12 }), sizeOrSymbol('H'), sizeOrSymbol('W')),
    steps: fc.array(
      named(fc.oneof({ weight: 3, arbitrary: step }, { weight: 2, arbitrary: extraSteps }, { weight: 1, arbitrary: unitSteps }, { weight: 1, arbitrary: composite })),
      { minLength: 1, maxLength: 5 },
    ),
    tail: fc.option(named(fc.record({ op: fc.constant('flattenLinear' as const), in: fc.integer({ min: 1, max: 400 }), out: fc.integer({ min: 1, max: 10 }) })), { nil: undefined }),
  })
  .map(({ input, steps, tail }) => ({ input, steps: tail ? [...steps, tail] : steps }));

type Applied = d.Tensor<Shape>;

/** The layer of a one-layer step at run time; `name` undefined leaves it unnamed. */
function layerOf(s: LayerStep, name: string | undefined): Layer {
  switch (s.op) {
    case 'conv2d':
      return d.conv2d({ in: s.statedIn, out: s.out * s.groups, kernel: s.kernel, stride: s.stride, dilation: s.dilation, padding: s.padding, groups: s.groups, name });
    case 'convTranspose2d':
      return d.convTranspose2d({ out: s.out, kernel: s.kernel, stride: s.stride, dilation: s.dilation, padding: s.padding, outputPadding: s.outputPadding, name });
    case 'maxPool':
      return d.maxPool({ kernel: s.kernel, stride: s.stride, padding: s.padding, name });
    case 'avgPool':
      return d.avgPool({ kernel: s.kernel, stride: s.stride, padding: s.padding, name });
    case 'batchNorm':
      return d.batchNorm({ channels: s.channels, name });
    case 'groupNorm':
      return d.groupNorm({ groups: s.groups, name });
    case 'relu':
      return d.relu({ name });
    case 'crop2d':
      return d.crop2d({ crop: s.crop, name });
    case 'softmax':
    case 'logSoftmax':
      return d[s.op]({ axis: s.axis, name });
    case 'prelu':
      return d.prelu({ sharedAxes: s.sharedAxes, name });
    case 'upsample2d':
      return d.upsample2d({ scale: s.scale, name });
    case 'resize2d':
      return d.resize2d({ size: s.size, name });
    case 'reshape':
      return d.reshape({ shape: s.shape, name });
    case 'permute':
      return d.permute({ dims: s.dims, name });
    case 'layerNorm':
      return d.layerNorm({ over: s.over, normalizedShape: s.normalizedShape, name });
    case 'resA':
    case 'resB':
    case 'resC':
    case 'basicBlock':
      return d[s.op]({ in: s.statedIn, out: s.out, stride: s.stride, projection: s.projection, name });
    case 'bottleneck':
      return d.bottleneck({ in: s.statedIn, width: s.width, stride: s.stride, name });
    case 'squeezeExcite':
      return d.squeezeExcite({ squeeze: s.squeeze, name });
    case 'mbConv':
      return d.mbConv({ in: s.statedIn, out: s.out, expand: s.expand, kernel: s.kernel, stride: s.stride, squeeze: s.squeeze, name });
  }
}

/**
 * The name of step `i`'s layer, or of its layer `j` inside a sequential or residual: named
 * composites alternate named and unnamed children, unnamed ones the other way round, so both
 * meet both.
 */
function nameOf(named: boolean, i: number, j?: number): string | undefined {
  if (j === undefined) return named ? `l${i}` : undefined;
  return named === (j % 2 === 0) ? `l${i}s${j}` : undefined;
}

/** The branch of a sequential or residual step at run time: its layers in a sequential, or its only layer. */
function innerOf(steps: readonly LayerStep[], named: boolean, i: number, alone: boolean): Layer {
  const layers = steps.map((x, j) => layerOf(x, nameOf(named, i, j)));
  return alone && layers.length === 1 ? layers[0] : (d.sequential as (...l: Layer[]) => Layer)(...layers);
}

/** The step's calls at run time, each taking the previous tensor (one `.to`, or a merge). */
function callsOf({ step: s, named }: Named<Step>, i: number): ((t: Applied) => Applied)[] {
  const name = nameOf(named, i);
  const to = (layer: Layer) => (t: Applied) => t.to(layer as never) as Applied;
  switch (s.op) {
    case 'join': {
      const other = (t: Applied) => (s.out === undefined ? t : (t.to(d.conv2d({ out: s.out, kernel: 1, name: `l${i}c` }) as never) as Applied));
      return [(t) => (d.concat as unknown as (...args: unknown[]) => Applied)(t, other(t), { axis: s.axis, name })];
    }
    case 'gate': {
      const gate = (t: Applied) => {
        const g = s.out === undefined ? t : t.to(d.conv2d({ out: s.out, kernel: 1, name: `l${i}c` }) as never);
        return g.to(d.globalAvgPool({ keepDims: s.keepDims, name: `l${i}p` }) as never);
      };
      return [(t) => (d[s.fn] as (...args: unknown[]) => Applied)(t, gate(t), { name })];
    }
    case 'flattenLinear':
      return [to(d.flatten({ name: `l${i}f` })), to(d.linear({ in: s.in, out: s.out, name }))];
    case 'sequential':
      return [to(innerOf(s.steps, named, i, false))];
    case 'residual':
      return [to(d.residual(innerOf(s.steps, named, i, true), { name }))];
    default:
      return [to(layerOf(s, name))];
  }
}

const stated = (statedIn: number | undefined) => (statedIn === undefined ? '' : `in: ${statedIn}, `);

/** The source of a one-layer step's layer; `name` is `name: 'l0'` or empty. */
function layerSourceOf(s: LayerStep, name: string): string {
  const lit = (v: unknown) => JSON.stringify(v);
  switch (s.op) {
    case 'conv2d':
      return `d.conv2d({ ${stated(s.statedIn)}out: ${s.out * s.groups}, kernel: ${s.kernel}, stride: ${s.stride}, dilation: ${s.dilation}, padding: ${lit(s.padding)}, groups: ${s.groups}, ${name} })`;
    case 'convTranspose2d':
      return `d.convTranspose2d({ out: ${s.out}, kernel: ${s.kernel}, stride: ${s.stride}, dilation: ${s.dilation}, padding: ${s.padding}, outputPadding: ${s.outputPadding}, ${name} })`;
    case 'maxPool':
    case 'avgPool':
      return `d.${s.op}({ kernel: ${s.kernel}, stride: ${s.stride}, padding: ${s.padding}, ${name} })`;
    case 'batchNorm':
      return `d.batchNorm({ ${s.channels === undefined ? '' : `channels: ${s.channels}, `}${name} })`;
    case 'groupNorm':
      return `d.groupNorm({ groups: ${s.groups}, ${name} })`;
    case 'relu':
      return `d.relu({ ${name} })`;
    case 'crop2d':
      return `d.crop2d({ crop: ${lit(s.crop)}, ${name} })`;
    case 'softmax':
    case 'logSoftmax':
      return `d.${s.op}({ axis: ${s.axis}, ${name} })`;
    case 'prelu':
      return `d.prelu({ sharedAxes: ${lit(s.sharedAxes)}, ${name} })`;
    case 'upsample2d':
      return `d.upsample2d({ scale: ${lit(s.scale)}, ${name} })`;
    case 'resize2d':
      return `d.resize2d({ size: ${lit(s.size)}, ${name} })`;
    case 'reshape':
      return `d.reshape({ shape: ${lit(s.shape)}, ${name} })`;
    case 'permute':
      return `d.permute({ dims: ${lit(s.dims)}, ${name} })`;
    case 'layerNorm':
      return `d.layerNorm({ over: '${s.over}', ${s.normalizedShape === undefined ? '' : `normalizedShape: ${lit(s.normalizedShape)}, `}${name} })`;
    case 'resA':
    case 'resB':
    case 'resC':
    case 'basicBlock':
      return `d.${s.op}({ ${stated(s.statedIn)}out: ${s.out}, stride: ${s.stride}, ${s.projection === undefined ? '' : `projection: ${s.projection}, `}${name} })`;
    case 'bottleneck':
      return `d.bottleneck({ ${stated(s.statedIn)}width: ${s.width}, stride: ${s.stride}, ${name} })`;
    case 'squeezeExcite':
      return `d.squeezeExcite({ squeeze: ${s.squeeze}, ${name} })`;
    case 'mbConv':
      return `d.mbConv({ ${stated(s.statedIn)}out: ${s.out}, expand: ${s.expand}, kernel: ${s.kernel}, stride: ${s.stride}, ${s.squeeze === undefined ? '' : `squeeze: ${s.squeeze}, `}${name} })`;
  }
}

const nameField = (name: string | undefined) => (name === undefined ? '' : `name: '${name}'`);

/** `innerOf` as source. */
function innerSourceOf(steps: readonly LayerStep[], named: boolean, i: number, alone: boolean): string {
  const layers = steps.map((x, j) => layerSourceOf(x, nameField(nameOf(named, i, j))));
  return alone && layers.length === 1 ? layers[0] : `d.sequential(${layers.join(', ')})`;
}

/** The same calls as source, `$` standing for the previous tensor. */
function sourceOf({ step: s, named }: Named<Step>, i: number): string[] {
  const name = nameField(nameOf(named, i));
  switch (s.op) {
    case 'join': {
      const conv = s.out === undefined ? '' : `.to(d.conv2d({ out: ${s.out}, kernel: 1, name: 'l${i}c' }))`;
      return [`d.concat($, $${conv}, { axis: ${s.axis}, ${name} })`];
    }
    case 'gate': {
      const conv = s.out === undefined ? '' : `.to(d.conv2d({ out: ${s.out}, kernel: 1, name: 'l${i}c' }))`;
      return [`d.${s.fn}($, $${conv}.to(d.globalAvgPool({ keepDims: ${s.keepDims}, name: 'l${i}p' })), { ${name} })`];
    }
    case 'flattenLinear':
      return [`$.to(d.flatten({ name: 'l${i}f' }))`, `$.to(d.linear({ in: ${s.in}, out: ${s.out}, ${name} }))`];
    case 'sequential':
      return [`$.to(${innerSourceOf(s.steps, named, i, false)})`];
    case 'residual':
      return [`$.to(d.residual(${innerSourceOf(s.steps, named, i, true)}${named ? `, { ${name} }` : ''}))`];
    default:
      return [`$.to(${layerSourceOf(s, name)})`];
  }
}

type Outcome = { shape: Shape } | { error: string; line: number };

/** Runs the program; on error, which applied layer (0-based among `.to` calls) raised it. */
function runProgram(p: Program): { shape: Shape } | { error: string; call: number } {
  let call = 0;
  try {
    let t: d.Tensor<Shape> = d.input(p.input as never) as d.Tensor<Shape>;
    p.steps.forEach((s, i) => {
      for (const apply of callsOf(s, i)) {
        t = apply(t);
        call++;
      }
    });
    return { shape: t.shape };
  } catch (e) {
    return { error: (e as Error).message, call };
  }
}

const tupleType = (shape: Shape) => `[${shape.map((x) => JSON.stringify(x).replace(/"/g, "'")).join(', ')}]`;

function snippetFor(programs: Program[]): { code: string; expected: Outcome[] } {
  const lines = ["import * as d from '../../dsl/index.ts';", 'type Exact<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;'];
  const expected: Outcome[] = [];
  programs.forEach((p, k) => {
    const outcome = runProgram(p);
    const calls = p.steps.flatMap(sourceOf);
    lines.push(`export function program${k}() {`);
    lines.push(`  const x = d.input(${JSON.stringify(p.input).replace(/"/g, "'")});`);
    let prev = 'x';
    // Calls after a failing one have no run-time outcome to compare with.
    const emitted = 'call' in outcome ? calls.slice(0, outcome.call + 1) : calls;
    emitted.forEach((c, j) => {
      lines.push(`  const t${j} = ${c.replaceAll('$', prev)};`);
      if ('call' in outcome && outcome.call === j) expected.push({ error: outcome.error, line: lines.length });
      prev = `t${j}`;
    });
    if ('shape' in outcome) {
      lines.push(`  const exact: Exact<(typeof ${prev})['shape'], ${tupleType(outcome.shape)}> = true;`);
      expected.push({ shape: outcome.shape });
    }
    lines.push('}');
  });
  return { code: lines.join('\n'), expected };
}

describe('type-level and run-time shapes agree on random programs', () => {
  it('shapes and error messages match, program by program', () => {
    fc.assert(
      fc.property(fc.array(program, { minLength: 20, maxLength: 40 }), (programs) => {
        const { code, expected } = snippetFor(programs);
        const { errors } = checkSnippet(code);
        const expectedErrors = expected.filter((o): o is { error: string; line: number } => 'error' in o);
        const lineOf = (n: number) => code.split('\n')[n - 1].trim();
        const mismatches: string[] = [];
        for (const want of expectedErrors) {
          const got = errors.find((e) => e.line === want.line);
          const message = got === undefined ? undefined : typeLevelWords(got.message);
          if (message !== want.error) {
            mismatches.push(`${lineOf(want.line)}\n  run time:   ${want.error}\n  type level: ${message ?? got?.message ?? '(no error)'}`);
          }
        }
        for (const e of errors.filter((e) => !expectedErrors.some((w) => w.line === e.line))) {
          mismatches.push(`${lineOf(e.line)}\n  run time:   (no error)\n  type level: ${e.message}`);
        }
        expect(mismatches.join('\n\n')).toBe('');
      }),
      { numRuns: Number(process.env.SHAPEFOLD_TYPE_RUNS ?? 6), seed: process.env.SHAPEFOLD_SEED ? Number(process.env.SHAPEFOLD_SEED) : undefined },
    );
  });
});
