/**
 * Deterministic parameter initialisation.
 *
 *   uniform   mulberry32: a 32-bit state, advanced by a Weyl step and mixed; u in [0, 1)
 *   normal    Box-Muller: z = sqrt(-2 ln(1 - u1)) * cos(2 pi u2)
 *   weights   He-normal, std = sqrt(2 / fanIn), fanIn = product of the weight's dims after the
 *             first (PyTorch's convention, for transposed convs too)
 *   weightNorm  v as a weight, g = ||v|| per output unit, so the initial weight g v/||v|| is v
 *   biases 0, gamma 1, beta 0, runningMean 0, runningVar 1, renormMean 0, renormStd 1 (Keras'
 *   initialisers), batchesTracked 0, scale 1, shift 0,
 *   switchable mixing logits 0 (softmax gives a uniform mix), PReLU alpha 0.25 (PyTorch's default)
 *   optional params (conv2d tapBias) are never created: absent means zero
 */
import type { AttrsByOp, OpKind, ParamTensor, ParamsByOp, Shape } from './graph.ts';
import { optionalParamShapes, paramShapes, rowNorms, type OpWithAttrs } from './params.ts';

/** A uniform generator on [0, 1) fully determined by `seed` (mulberry32). */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function standardNormal(rng: () => number): number {
  const u1 = rng();
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

function heNormal(shape: readonly number[], rng: () => number): ParamTensor {
  const size = shape.reduce((p, d) => p * d, 1);
  const std = Math.sqrt(2 / (size / shape[0]));
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = std * standardNormal(rng);
  return { shape, data };
}

function constant(shape: readonly number[], value: number): ParamTensor {
  return { shape, data: new Float32Array(shape.reduce((p, d) => p * d, 1)).fill(value) };
}

const CONSTANTS: Readonly<Record<string, number>> = {
  bias: 0,
  gamma: 1,
  beta: 0,
  runningMean: 0,
  runningVar: 1,
  renormMean: 0,
  renormStd: 1,
  batchesTracked: 0,
  scale: 1,
  shift: 0,
  meanWeights: 0,
  varWeights: 0,
  alpha: 0.25,
};

/**
 * Every parameter of a node of kind `op`: those in `given` as they are, the rest initialised.
 * Random draws happen only for missing weights, in a fixed order, so a seed fixes the result.
 * A missing weight-norm `g` is the norm of `v`, given or drawn. `inputShape` is the shape the
 * node is applied to (kept in the signature for ops whose parameters depend on it; every
 * current op's parameter shapes follow from its attrs alone).
 */
export function initParams<K extends OpKind>(
  op: K,
  attrs: AttrsByOp[K],
  inputShape: Shape,
  rng: () => number,
  given: Partial<Record<ParamsByOp[K], ParamTensor>> = {},
): Partial<Record<ParamsByOp[K], ParamTensor>> {
  const present: Readonly<Record<string, ParamTensor | undefined>> = given;
  const shapes = paramShapes({ op, attrs } as OpWithAttrs);
  const params: Record<string, ParamTensor> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const existing = present[name];
    if (existing !== undefined) params[name] = existing;
    else if (name === 'weight' || name === 'v') params[name] = heNormal(shape, rng);
    else if (name !== 'g') params[name] = constant(shape, CONSTANTS[name]);
  }
  // Optional params (conv2d's tapBias) mean zero when absent: kept if given, never created.
  for (const name of Object.keys(optionalParamShapes({ op, attrs } as OpWithAttrs))) {
    const existing = present[name];
    if (existing !== undefined) params[name] = existing;
  }
  if (Object.hasOwn(shapes, 'g')) {
    const v = params.v;
    params.g = present.g ?? { shape: [v.shape[0]], data: Float32Array.from(rowNorms(v.data, v.shape[0])) };
  }
  return params as Partial<Record<ParamsByOp[K], ParamTensor>>;
}
