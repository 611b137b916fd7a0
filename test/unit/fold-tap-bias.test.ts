/**
 * conv2d's optional tapBias [Cout, kH, kW] in the IR and the float64 reference.
 *
 * Two independent checks of the reference:
 *   - a loop over a materialised 0/1 "inside" image (the padded frame explicitly built), which
 *     adds tapBias[o, kh, kw] wherever the tap reads a 1;
 *   - the identity it exists for: conv_W(pad0(const v)) equals a conv whose tapBias is
 *     taps(W, v)[o, kh, kw] = sum_i W[o, i, kh, kw] v[channel of i], run on a zero image.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Conv2dAttrs, Graph, NodeOf, Padding2d, ParamTensor } from '../../src/ir/graph.ts';
import { initParams } from '../../src/ir/init.ts';
import { cloneGraph, graphFromJSON, graphToJSON } from '../../src/ir/serialize.ts';
import { validateGraph } from '../../src/ir/validate.ts';
import { conv2d } from '../../src/reference/ops/conv2d.ts';
import { resolvePadding2d } from '../../src/reference/padding.ts';
import { runReference } from '../../src/reference/run.ts';
import { zeros, type Float64Tensor } from '../../src/reference/tensor.ts';
import { expectClose, makeRng, randomTensor } from './reference-fixtures.ts';

const pair = (max: number) => fc.tuple(fc.integer({ min: 1, max }), fc.integer({ min: 1, max }));

const convCase = fc
  .record({
    groups: fc.integer({ min: 1, max: 3 }),
    inPerGroup: fc.integer({ min: 1, max: 2 }),
    outPerGroup: fc.integer({ min: 1, max: 2 }),
    kernel: pair(3),
    stride: pair(3),
    dilation: pair(2),
    padding: fc.oneof(
      fc.constantFrom<Padding2d>('same', 'valid'),
      fc.tuple(...[0, 1, 2, 3].map(() => fc.integer({ min: 0, max: 3 }))) as fc.Arbitrary<[number, number, number, number]>,
    ),
    bias: fc.boolean(),
    size: pair(6),
    seed: fc.nat(),
  })
  .map((c) => {
    const attrs: Conv2dAttrs = {
      inChannels: c.groups * c.inPerGroup,
      outChannels: c.groups * c.outPerGroup,
      kernel: c.kernel,
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
      bias: c.bias,
    };
    // Big enough for the dilated kernel to fit even without padding.
    const height = c.dilation[0] * (c.kernel[0] - 1) + c.size[0];
    const width = c.dilation[1] * (c.kernel[1] - 1) + c.size[1];
    return { ...c, attrs, height, width };
  });

/** The tapBias term by a materialised inside-mask of the padded input. */
function tapTermByMask(tapBias: Float64Tensor, attrs: Conv2dAttrs, height: number, width: number): Float64Tensor {
  const [top, bottom, left, right] = resolvePadding2d(attrs.padding, height, width, attrs.kernel, attrs.stride, attrs.dilation);
  const paddedH = height + top + bottom;
  const paddedW = width + left + right;
  const inside: number[][] = Array.from({ length: paddedH }, (_, h) =>
    Array.from({ length: paddedW }, (_, w) => (h >= top && h < top + height && w >= left && w < left + width ? 1 : 0)),
  );
  const [kH, kW] = attrs.kernel;
  const outH = Math.floor((paddedH - attrs.dilation[0] * (kH - 1) - 1) / attrs.stride[0]) + 1;
  const outW = Math.floor((paddedW - attrs.dilation[1] * (kW - 1) - 1) / attrs.stride[1]) + 1;
  const term = zeros([1, attrs.outChannels, outH, outW]);
  for (let o = 0; o < attrs.outChannels; o++)
    for (let r = 0; r < outH; r++)
      for (let c = 0; c < outW; c++) {
        let sum = 0;
        for (let kh = 0; kh < kH; kh++)
          for (let kw = 0; kw < kW; kw++) {
            const isInside = inside[r * attrs.stride[0] + kh * attrs.dilation[0]][c * attrs.stride[1] + kw * attrs.dilation[1]];
            sum += isInside * tapBias.data[(o * kH + kh) * kW + kw];
          }
        term.data[(o * outH + r) * outW + c] = sum;
      }
  return term;
}

/** taps(W, v)[o, kh, kw] = sum over o's input channels i of W[o, i, kh, kw] * v[channel of i]. */
function tapsOf(weight: Float64Tensor, v: Float64Array, attrs: Conv2dAttrs): Float64Tensor {
  const [cout, inPerGroup, kH, kW] = weight.shape;
  const outPerGroup = cout / attrs.groups;
  const out = zeros([cout, kH, kW]);
  for (let o = 0; o < cout; o++) {
    const firstIn = Math.floor(o / outPerGroup) * inPerGroup;
    for (let i = 0; i < inPerGroup; i++)
      for (let t = 0; t < kH * kW; t++) out.data[o * kH * kW + t] += weight.data[((o * inPerGroup + i) * kH * kW) + t] * v[firstIn + i];
  }
  return out;
}

describe('reference conv2d with tapBias', () => {
  it('adds exactly the in-bounds taps (checked against a materialised inside-mask)', () => {
    fc.assert(
      fc.property(convCase, (c) => {
        const rng = makeRng(c.seed);
        const { attrs } = c;
        const x = randomTensor([2, attrs.inChannels, c.height, c.width], rng);
        const weight = randomTensor([attrs.outChannels, attrs.inChannels / attrs.groups, ...attrs.kernel], rng);
        const bias = attrs.bias ? randomTensor([attrs.outChannels], rng) : undefined;
        const tapBias = randomTensor([attrs.outChannels, ...attrs.kernel], rng);
        const withTaps = conv2d(x, { weight, bias, tapBias }, attrs);
        const without = conv2d(x, { weight, bias }, attrs);
        const term = tapTermByMask(tapBias, attrs, c.height, c.width);
        const spatial = term.data.length;
        const difference = { shape: withTaps.shape, data: withTaps.data.map((v, i) => v - without.data[i]) };
        const expected = { shape: withTaps.shape, data: difference.data.map((_, i) => term.data[i % spatial]) };
        expectClose(difference, expected, 1e-12);
      }),
      { numRuns: 150 },
    );
  });

  it('conv_W(pad0(const v)) equals the conv with tapBias = taps(W, v) on a zero image, for any size', () => {
    fc.assert(
      fc.property(convCase, (c) => {
        const rng = makeRng(c.seed);
        const { attrs } = c;
        const weight = randomTensor([attrs.outChannels, attrs.inChannels / attrs.groups, ...attrs.kernel], rng);
        const v = randomTensor([attrs.inChannels], rng).data;
        const constant = zeros([1, attrs.inChannels, c.height, c.width]);
        const plane = c.height * c.width;
        for (let ch = 0; ch < attrs.inChannels; ch++) constant.data.fill(v[ch], ch * plane, (ch + 1) * plane);
        const plain = { ...attrs, bias: false };
        const direct = conv2d(constant, { weight }, plain);
        const viaTaps = conv2d(zeros(constant.shape), { weight, tapBias: tapsOf(weight, v, attrs) }, plain);
        expectClose(viaTaps, direct, 1e-12);
      }),
      { numRuns: 150 },
    );
  });

  it('runReference passes a node’s tapBias to the op', () => {
    const b = new GraphBuilder({ seed: 3 });
    const x = b.addInput([1, 2, 4, 4], 'x');
    const attrs: Conv2dAttrs = { inChannels: 2, outChannels: 1, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1, bias: false };
    const tapBias: ParamTensor = { shape: [1, 3, 3], data: Float32Array.from([1, 2, 4, 8, 16, 32, 64, 128, 256]) };
    b.addNode({ op: 'conv2d', inputs: [x], attrs, params: { tapBias }, name: 'c' });
    const out = runReference(b.build(['c']), { x: zeros([1, 2, 4, 4]) }).outputs.c.data;
    // Corner (0, 0) reads the taps at rows 1-2, columns 1-2: 16 + 32 + 128 + 256; the centre reads all nine.
    expect(out[0]).toBe(16 + 32 + 128 + 256);
    expect(out[5]).toBe(511);
    // Bottom-right corner reads rows 0-1, columns 0-1.
    expect(out[15]).toBe(1 + 2 + 8 + 16);
  });
});

describe('IR support for tapBias', () => {
  const attrs: Conv2dAttrs = { inChannels: 2, outChannels: 3, kernel: [3, 2], stride: [1, 1], padding: 'same', dilation: [1, 1], groups: 1, bias: true };

  function graphWith(tapBias: ParamTensor | undefined): Graph {
    const b = new GraphBuilder({ seed: 1 });
    const x = b.addInput(['N', 2, 'H', 'W'], 'x');
    b.addNode({ op: 'conv2d', inputs: [x], attrs, params: tapBias === undefined ? {} : { tapBias }, name: 'c' });
    return b.build(['c']);
  }

  it('is optional and never initialised', () => {
    expect(graphWith(undefined).nodes[1].params).not.toHaveProperty('tapBias');
    const created = initParams('conv2d', attrs, ['N', 2, 'H', 'W'], makeRng(0));
    expect(Object.keys(created).sort()).toEqual(['bias', 'weight']);
  });

  it('is kept when given, validated by shape and finiteness, and survives JSON and cloning', () => {
    const tapBias: ParamTensor = { shape: [3, 3, 2], data: Float32Array.from({ length: 18 }, (_, i) => i / 7 - 1) };
    const graph = graphWith(tapBias);
    expect(graph.nodes[1].params).toHaveProperty('tapBias', tapBias);
    const back = graphFromJSON(JSON.parse(JSON.stringify(graphToJSON(graph))));
    expect((back.nodes[1].params as Record<string, ParamTensor>).tapBias.data).toEqual(tapBias.data);
    const cloned = cloneGraph(graph);
    expect((cloned.nodes[1].params as Record<string, ParamTensor>).tapBias.data).not.toBe(tapBias.data);
    expect(() => graphWith({ shape: [3, 2, 3], data: new Float32Array(18) })).toThrow(/conv2d 'c': param 'tapBias' has shape \[3, 2, 3\], expected \[3, 3, 2\]/);
    const bad = new Float32Array(18);
    bad[4] = Number.NaN;
    expect(() => graphWith({ shape: [3, 3, 2], data: bad })).toThrow(/param 'tapBias' has a non-finite value NaN at index 4/);
  });

  it('an unknown param names tapBias among the optional ones', () => {
    const graph = graphWith(undefined);
    const conv = graph.nodes[1] as NodeOf<'conv2d'>;
    const withExtra = { ...graph, nodes: [graph.nodes[0], { ...conv, params: { ...conv.params, shift: conv.params.bias } } as never] };
    expect(() => validateGraph(withExtra)).toThrow(/unexpected param 'shift' \(this node takes: weight, bias\); it may also carry tapBias/);
  });
});
