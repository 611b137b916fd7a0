/**
 * One node of any op the fold rules touch, drawn to fit a given input shape: its attrs (the full
 * geometry space: kernel 1-7, stride 1-3, dilation 1-3, every padding form, groups dividing the
 * channels including depthwise, transposed convs with output padding, crops of every size) and
 * its parameters (see values.ts for the hard values).
 *
 * `Hints` steer a draw towards a rule's side conditions (no padding, a non-negative scale, a zero
 * shift, affine parameters present) so the rule under test can fire; they never leave the space
 * of valid graphs.
 */
import fc from 'fast-check';
import type { AttrsByOp, Node, OpKind, Padding2d, ParamTensor } from '../../src/ir/graph.ts';
import { inferNodeShape } from '../../src/ir/shapes.ts';
import { affineParams, batchNormParams, nonZeroRows, normalizeConstants, paramTensor } from './values.ts';

export type LiteralShape = readonly number[];

export interface Hints {
  /** 'none': the conv applies no zero padding (bn-conv-valid's condition). */
  readonly padding?: 'none' | 'any';
  readonly nonNegativeScale?: boolean;
  readonly zeroShift?: boolean;
  /** Norms carry gamma/beta (the forward affine folds need them). */
  readonly affine?: boolean;
  /** A BatchNorm that uses running statistics in train mode too. */
  readonly frozen?: boolean;
  /** A LayerNorm with per-channel gamma/beta (over 'c'), not element-wise over [C, H, W]. */
  readonly perChannelAffine?: boolean;
}

export interface DraftOptions {
  /** Hard parameter values (values.ts) may be drawn. */
  readonly allowHard: boolean;
  /** Keep spatial outputs at most this size (transposed convs grow them). */
  readonly maxSpatial: number;
}

/** A node without its name and inputs: what the arbitraries draw. */
export interface NodeDraft {
  readonly op: OpKind;
  readonly attrs: AttrsByOp[OpKind];
  readonly params: Readonly<Record<string, ParamTensor>>;
}

export const pairOf = (arb: fc.Arbitrary<number>): fc.Arbitrary<[number, number]> => fc.tuple(arb, arb);

function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}

/** The shape a draft produces on `input` (the IR's own shape inference). */
export function outputShape(draft: NodeDraft, input: LiteralShape): LiteralShape {
  const node = { name: 'draft', op: draft.op, inputs: ['x'], attrs: draft.attrs, params: {} } as unknown as Node;
  return inferNodeShape(node, [input]) as LiteralShape;
}

/** Every padding form of the IR: 'same', 'valid', symmetric and asymmetric explicit pads. */
function paddingArb(hints: Hints): fc.Arbitrary<Padding2d> {
  if (hints.padding === 'none') return fc.constantFrom<Padding2d>('valid', [0, 0, 0, 0]);
  const pad = fc.integer({ min: 0, max: 3 });
  return fc.oneof(
    fc.constantFrom<Padding2d>('same', 'valid'),
    fc.tuple(pad, pad).map(([ph, pw]): Padding2d => [ph, ph, pw, pw]),
    fc.tuple(pad, pad, pad, pad),
  );
}

/** Largest kernel along an axis whose window fits into size + padding. */
function maxKernel(size: number, padTotal: number, dilation: number): number {
  return Math.min(7, Math.floor((size + padTotal - 1) / dilation) + 1);
}

function convGeometry(input: LiteralShape, hints: Hints): fc.Arbitrary<AttrsByOp['conv2d']> {
  const [, channels, h, w] = input;
  return fc
    .record({
      groups: fc.constantFrom(...divisors(channels)),
      perGroupOut: fc.integer({ min: 1, max: 3 }),
      stride: pairOf(fc.integer({ min: 1, max: 3 })),
      dilation: pairOf(fc.integer({ min: 1, max: 3 })),
      padding: paddingArb(hints),
      bias: fc.boolean(),
    })
    .chain((g) => {
      const pads = g.padding === 'same' ? [3, 3, 3, 3] : g.padding === 'valid' ? [0, 0, 0, 0] : g.padding;
      const kh = maxKernel(h, pads[0] + pads[1], g.dilation[0]);
      const kw = maxKernel(w, pads[2] + pads[3], g.dilation[1]);
      return fc.tuple(fc.integer({ min: 1, max: kh }), fc.integer({ min: 1, max: kw })).map((kernel) => ({
        inChannels: channels,
        outChannels: g.groups * g.perGroupOut,
        kernel,
        stride: g.stride,
        padding: g.padding,
        dilation: g.dilation,
        groups: g.groups,
        bias: g.bias,
      }));
    });
}

function convTransposeGeometry(input: LiteralShape, options: DraftOptions): fc.Arbitrary<AttrsByOp['convTranspose2d']> {
  const [, channels, h, w] = input;
  return fc
    .record({
      groups: fc.constantFrom(...divisors(channels)),
      perGroupOut: fc.integer({ min: 1, max: 3 }),
      kernel: pairOf(fc.integer({ min: 1, max: 7 })),
      stride: pairOf(fc.integer({ min: 1, max: 3 })),
      dilation: pairOf(fc.integer({ min: 1, max: 3 })),
      padding: pairOf(fc.integer({ min: 0, max: 3 })),
      outputPadding: pairOf(fc.integer({ min: 0, max: 2 })),
      bias: fc.boolean(),
    })
    .map((g) => {
      // Keep the geometry valid: output padding below stride or dilation, output size in [1, maxSpatial].
      const axis = (a: 0 | 1, size: number) => {
        const outputPadding = Math.min(g.outputPadding[a], Math.max(g.stride[a], g.dilation[a]) - 1);
        const full = (size - 1) * g.stride[a] + g.dilation[a] * (g.kernel[a] - 1) + outputPadding + 1;
        const minPad = Math.max(0, Math.ceil((full - options.maxSpatial) / 2));
        const padding = Math.min(Math.max(g.padding[a], minPad), Math.floor((full - 1) / 2));
        return { outputPadding, padding };
      };
      const [ah, aw] = [axis(0, h), axis(1, w)];
      return {
        inChannels: channels,
        outChannels: g.groups * g.perGroupOut,
        kernel: g.kernel,
        stride: g.stride,
        padding: [ah.padding, aw.padding] as const,
        outputPadding: [ah.outputPadding, aw.outputPadding] as const,
        dilation: g.dilation,
        groups: g.groups,
        bias: g.bias,
      };
    });
}

/** Rows and columns cropped at each border, leaving at least one of each. */
function cropGeometry(input: LiteralShape): fc.Arbitrary<AttrsByOp['crop2d']> {
  const [, , h, w] = input;
  const sides = (size: number) =>
    fc.integer({ min: 0, max: size - 1 }).chain((total) => fc.integer({ min: 0, max: total }).map((before): [number, number] => [before, total - before]));
  return fc.tuple(sides(h), sides(w)).map(([[top, bottom], [left, right]]) => ({ crop: [top, bottom, left, right] as const }));
}

const RUNNING = { decay: 0.9, unbiasedRunningVar: true } as const;

const filled = (length: number, value: number): ParamTensor => ({ shape: [length], data: new Float32Array(length).fill(value) });

function renormState(channels: number, attrs: AttrsByOp['batchRenorm']): Record<string, ParamTensor> {
  return {
    ...(attrs.sigma === 'movingStddev' ? { renormMean: filled(channels, 0), renormStd: filled(channels, 1) } : {}),
    ...(attrs.warmup === null ? {} : { batchesTracked: filled(1, 0) }),
  };
}

function poolGeometry(op: 'maxPool2d' | 'avgPool2d', input: LiteralShape): fc.Arbitrary<AttrsByOp['avgPool2d'] | AttrsByOp['maxPool2d']> {
  const [, , h, w] = input;
  return fc
    .record({
      kernel: fc.tuple(fc.integer({ min: 1, max: Math.min(3, h) }), fc.integer({ min: 1, max: Math.min(3, w) })),
      stride: pairOf(fc.integer({ min: 1, max: 2 })),
      countIncludePad: fc.boolean(),
    })
    .chain((p) =>
      // pads at most half the kernel, as tfjs and PyTorch require
      fc
        .tuple(fc.integer({ min: 0, max: Math.floor(p.kernel[0] / 2) }), fc.integer({ min: 0, max: Math.floor(p.kernel[1] / 2) }))
        .map(([ph, pw]) => {
          const padding: Padding2d = [ph, ph, pw, pw];
          return op === 'maxPool2d' ? { kernel: p.kernel, stride: p.stride, padding } : { kernel: p.kernel, stride: p.stride, padding, countIncludePad: p.countIncludePad };
        }),
    );
}

/** The attrs of a node of kind `op` applicable to `input` (eps and the like are drawn with the params). */
export function attrsDraft(op: OpKind, input: LiteralShape, hints: Hints, options: DraftOptions): fc.Arbitrary<AttrsByOp[OpKind]> {
  const channels = input[1];
  switch (op) {
    case 'conv2d':
    case 'weightNormConv2d':
      return convGeometry(input, hints);
    case 'convTranspose2d':
      return convTransposeGeometry(input, options);
    case 'linear':
    case 'weightNormLinear':
      return fc.record({ inFeatures: fc.constant(input[1]), outFeatures: fc.integer({ min: 1, max: 5 }), bias: fc.boolean() });
    case 'batchNorm':
      return fc
        .boolean()
        .map((frozen) => ({ numFeatures: channels, eps: 1e-5, frozen: hints.frozen ?? frozen, ...RUNNING }));
    case 'batchRenorm':
      return fc
        .record({
          rMax: fc.constantFrom(1, 1.5, 3),
          dMax: fc.constantFrom(0, 0.5, 5),
          sigma: fc.constantFrom<'movingStddev' | 'runningVar'>('movingStddev', 'runningVar'),
          warmup: fc.constantFrom(null, { holdSteps: 0, rMaxSteps: 2, dMaxSteps: 1 }),
        })
        .map((renorm) => ({ numFeatures: channels, eps: 1e-5, ...renorm, renormDecay: 0.8, ...RUNNING }));
    case 'scaleShift':
      return fc.constant({ numChannels: channels });
    case 'normalize':
      return normalizeConstants(channels, options.allowHard);
    case 'groupNorm':
      return fc
        .record({ groups: fc.constantFrom(...divisors(channels)), affine: fc.boolean(), eps: fc.constantFrom(1e-5, 1e-3, 0.1) })
        .map((d) => ({ numChannels: channels, groups: d.groups, eps: d.eps, affine: hints.affine ?? d.affine }));
    case 'layerNorm':
      return fc
        .record({
          over: hints.perChannelAffine === true && input.length > 2 ? fc.constant<'c'>('c') : fc.constantFrom<'chw' | 'c'>('chw', 'c'),
          affine: fc.boolean(),
          eps: fc.constantFrom(1e-5, 1e-3, 0.1),
        })
        .map((d) => ({ normalizedShape: d.over === 'chw' ? input.slice(1) : [channels], over: d.over, eps: d.eps, affine: hints.affine ?? d.affine }));
    case 'instanceNorm':
      return fc
        .record({ affine: fc.boolean(), eps: fc.constantFrom(1e-5, 1e-3, 0.1) })
        .map((d) => ({ numFeatures: channels, eps: d.eps, affine: hints.affine ?? d.affine }));
    case 'leakyRelu':
      return fc.constantFrom(0.01, 0.2, -0.5, 1.5).map((alpha) => ({ alpha }));
    case 'relu':
    case 'relu6':
    case 'sigmoid':
    case 'tanh':
    case 'identity':
    case 'flatten':
      return fc.constant({} as Record<string, never>);
    case 'globalAvgPool':
      return fc.boolean().map((keepDims) => ({ keepDims }));
    case 'maxPool2d':
    case 'avgPool2d':
      return poolGeometry(op, input);
    case 'crop2d':
      return cropGeometry(input);
    default:
      throw new Error(`no arbitrary draws a '${op}' node (add it to test/arbitraries/layers.ts)`);
  }
}

/**
 * Parameters for a node with these attrs; BatchNorm-likes also draw their eps (the hard profiles
 * pair it with the running variance), so the attrs come back too.
 */
export function paramsDraft(op: OpKind, attrs: AttrsByOp[OpKind], hints: Hints, options: DraftOptions): fc.Arbitrary<NodeDraft> {
  const hard = { allowHard: options.allowHard };
  const a = attrs as unknown as Record<string, unknown>;
  const withBias = (out: number, params: fc.Arbitrary<Record<string, ParamTensor>>) =>
    fc
      .tuple(params, paramTensor([out], hard))
      .map(([p, bias]): NodeDraft => ({ op, attrs, params: a.bias === true ? { ...p, bias } : p }));
  switch (op) {
    case 'conv2d': {
      const c = attrs as AttrsByOp['conv2d'];
      return withBias(
        c.outChannels,
        fc
          .record({
            weight: paramTensor([c.outChannels, c.inChannels / c.groups, ...c.kernel], hard),
            // a tap bias left by an earlier padded fold: later folds must carry it along
            tapBias: fc.option(paramTensor([c.outChannels, ...c.kernel], { allowHard: false }), { freq: 4 }),
          })
          .map(({ weight, tapBias }): Record<string, ParamTensor> => (tapBias === null ? { weight } : { weight, tapBias })),
      );
    }
    case 'weightNormConv2d': {
      const c = attrs as AttrsByOp['conv2d'];
      return withBias(
        c.outChannels,
        fc.record({ v: nonZeroRows([c.outChannels, c.inChannels / c.groups, ...c.kernel], options.allowHard), g: paramTensor([c.outChannels], hard) }),
      );
    }
    case 'convTranspose2d': {
      const c = attrs as AttrsByOp['convTranspose2d'];
      return withBias(c.outChannels, fc.record({ weight: paramTensor([c.inChannels, c.outChannels / c.groups, ...c.kernel], hard) }));
    }
    case 'linear': {
      const l = attrs as AttrsByOp['linear'];
      return withBias(l.outFeatures, fc.record({ weight: paramTensor([l.outFeatures, l.inFeatures], hard) }));
    }
    case 'weightNormLinear': {
      const l = attrs as AttrsByOp['linear'];
      return withBias(l.outFeatures, fc.record({ v: nonZeroRows([l.outFeatures, l.inFeatures], options.allowHard), g: paramTensor([l.outFeatures], hard) }));
    }
    case 'batchNorm':
    case 'batchRenorm': {
      const channels = a.numFeatures as number;
      // Batch Renorm's own state plays no part at inference: initial values (renormStd 1) serve.
      const extra = op === 'batchRenorm' ? renormState(channels, attrs as AttrsByOp['batchRenorm']) : {};
      return batchNormParams(channels, { allowHard: options.allowHard, nonNegativeScale: hints.nonNegativeScale, zeroShift: hints.zeroShift }).map(
        (bn): NodeDraft => ({ op, attrs: { ...attrs, eps: bn.eps } as AttrsByOp[OpKind], params: { ...bn.params, ...extra } }),
      );
    }
    case 'scaleShift': {
      const channels = a.numChannels as number;
      const zero: ParamTensor = { shape: [channels], data: new Float32Array(channels) };
      return fc
        .record({
          scale: paramTensor([channels], { ...hard, sign: hints.nonNegativeScale ? 'nonNegative' : 'any' }),
          shift: hints.zeroShift ? fc.constant(zero) : paramTensor([channels], hard),
        })
        .map((params): NodeDraft => ({ op, attrs, params }));
    }
    case 'groupNorm':
    case 'layerNorm':
    case 'instanceNorm': {
      if (a.affine !== true) return fc.constant({ op, attrs, params: {} });
      const shape = (a.normalizedShape ?? [a.numChannels ?? a.numFeatures]) as readonly number[];
      return affineParams(shape, options.allowHard).map((params): NodeDraft => ({ op, attrs, params }));
    }
    default:
      return fc.constant({ op, attrs, params: {} });
  }
}

/** A node of kind `op` applicable to `input`: attrs, then parameters for them. */
export function nodeDraft(op: OpKind, input: LiteralShape, hints: Hints, options: DraftOptions): fc.Arbitrary<NodeDraft> {
  return attrsDraft(op, input, hints, options).chain((attrs) => paramsDraft(op, attrs, hints, options));
}

/** The ops this module can draw; a rule whose pattern needs another op has no arbitrary. */
export const DRAWABLE_OPS: readonly OpKind[] = [
  'conv2d',
  'weightNormConv2d',
  'convTranspose2d',
  'linear',
  'weightNormLinear',
  'batchNorm',
  'batchRenorm',
  'scaleShift',
  'normalize',
  'groupNorm',
  'layerNorm',
  'instanceNorm',
  'relu',
  'relu6',
  'leakyRelu',
  'sigmoid',
  'tanh',
  'identity',
  'flatten',
  'maxPool2d',
  'avgPool2d',
  'globalAvgPool',
  'crop2d',
];

/** Ops that need a rank-4 input; 'linear'-likes need rank 2; the rest take either. */
export const RANK4_OPS: ReadonlySet<OpKind> = new Set([
  'conv2d',
  'weightNormConv2d',
  'convTranspose2d',
  'groupNorm',
  'instanceNorm',
  'maxPool2d',
  'avgPool2d',
  'globalAvgPool',
  'crop2d',
]);
export const RANK2_OPS: ReadonlySet<OpKind> = new Set(['linear', 'weightNormLinear']);
