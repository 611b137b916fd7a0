/**
 * Type-level cases for the DSL builders. A case either compiles and gives `y` the stated shape
 * (checked with an exact type equality, not assignability), or fails with its first error on the
 * line marked `// <-` and with a message containing the stated text.
 */
export interface ShapeCase {
  readonly name: string;
  /** Statements defining `y`; may use `d` (the DSL namespace). */
  readonly code: string;
  readonly shape: string;
}

export interface ErrorCase {
  readonly name: string;
  /**
   * One line ends with `// <-`: the first error must be there. The code also runs (plain
   * JavaScript, `d` bound) and must throw the type level's words exactly, named layers, unnamed
   * ones and units alike.
   */
  readonly code: string;
  /** Contained in the type level's words. */
  readonly message: string;
}

export const PRELUDE = [
  "import * as d from '../../dsl/index.ts';",
  'type Exact<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;',
].join('\n');

const img = (c: number | string, h: number | string, w: number | string = h) =>
  `d.input(['N', ${JSON.stringify(c)}, ${JSON.stringify(h)}, ${JSON.stringify(w)}])`;

export const shapeCases: ShapeCase[] = [
  // conv2d
  { name: 'conv2d ResNet stem', code: `const y = ${img(3, 224)}.to(d.conv2d({ in: 3, out: 64, kernel: 7, stride: 2, padding: 3 }));`, shape: "['N', 64, 112, 112]" },
  { name: "conv2d 'same' stride 2 on an odd size", code: `const y = ${img(3, 225)}.to(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 'same' }));`, shape: "['N', 8, 113, 113]" },
  { name: "conv2d 'valid'", code: `const y = ${img(3, 32)}.to(d.conv2d({ out: 8, kernel: 3, padding: 'valid' }));`, shape: "['N', 8, 30, 30]" },
  { name: 'conv2d default padding 0', code: `const y = ${img(3, 32)}.to(d.conv2d({ out: 8, kernel: 5 }));`, shape: "['N', 8, 28, 28]" },
  { name: 'conv2d rectangular kernel and padding', code: `const y = ${img(3, 32)}.to(d.conv2d({ out: 4, kernel: [3, 5], padding: [1, 2] }));`, shape: "['N', 4, 32, 32]" },
  { name: 'conv2d padding per side (Keras ZeroPadding2D)', code: `const y = ${img(3, 32)}.to(d.conv2d({ out: 4, kernel: 3, stride: 2, padding: [0, 1, 0, 1] }));`, shape: "['N', 4, 16, 16]" },
  { name: 'conv2d padding per side, symbolic', code: `const y = ${img(3, 'H', 'W')}.to(d.conv2d({ out: 4, kernel: 3, stride: 2, padding: [0, 1, 1, 1] }));`, shape: "['N', 4, 'floor(H/2)', 'floor((W+1)/2)']" },
  { name: 'conv2d rectangular input and stride', code: `const y = ${img(3, 40, 30)}.to(d.conv2d({ out: 4, kernel: 3, stride: [2, 1], padding: 1 }));`, shape: "['N', 4, 20, 30]" },
  { name: 'conv2d dilation 2 keeps size with padding 2', code: `const y = ${img(8, 17)}.to(d.conv2d({ out: 8, kernel: 3, dilation: 2, padding: 2 }));`, shape: "['N', 8, 17, 17]" },
  { name: 'conv2d dilation 3 valid', code: `const y = ${img(8, 20)}.to(d.conv2d({ out: 8, kernel: 3, dilation: 3 }));`, shape: "['N', 8, 14, 14]" },
  { name: 'conv2d groups', code: `const y = ${img(8, 16)}.to(d.conv2d({ in: 8, out: 16, kernel: 3, padding: 1, groups: 4 }));`, shape: "['N', 16, 16, 16]" },
  { name: 'conv2d without bias', code: `const y = ${img(3, 16)}.to(d.conv2d({ out: 16, kernel: 1, bias: false }));`, shape: "['N', 16, 16, 16]" },
  { name: 'conv2d in taken from the input', code: `const y = ${img(5, 9)}.to(d.conv2d({ out: 2, kernel: 3 }));`, shape: "['N', 2, 7, 7]" },
  { name: 'conv2d literal batch', code: "const y = d.input([8, 3, 64, 64]).to(d.conv2d({ out: 16, kernel: 3, stride: 2, padding: 1 }));", shape: '[8, 16, 32, 32]' },
  { name: 'conv2d stride 3 kernel 7 on 1000', code: `const y = ${img(1, 1000)}.to(d.conv2d({ out: 1, kernel: 7, stride: 3 }));`, shape: "['N', 1, 332, 332]" },
  { name: 'conv2d on 10^6 (digit arithmetic)', code: `const y = ${img(1, 1000000)}.to(d.conv2d({ out: 1, kernel: 3, stride: 2, padding: 1 }));`, shape: "['N', 1, 500000, 500000]" },
  { name: 'conv2d on 999999 with dilation', code: `const y = ${img(1, 999999)}.to(d.conv2d({ out: 1, kernel: 5, dilation: 3, stride: 2 }));`, shape: "['N', 1, 499994, 499994]" },
  { name: 'conv2d symbolic stride 2', code: `const y = ${img(3, 'H', 'W')}.to(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 }));`, shape: "['N', 8, 'floor((H+1)/2)', 'floor((W+1)/2)']" },
  { name: 'conv2d symbolic valid', code: `const y = ${img(3, 'H', 'W')}.to(d.conv2d({ out: 8, kernel: 5 }));`, shape: "['N', 8, 'H-4', 'W-4']" },
  { name: 'conv2d symbolic same stride 3', code: `const y = ${img(3, 'H', 'W')}.to(d.conv2d({ out: 8, kernel: 3, stride: 3, padding: 'same' }));`, shape: "['N', 8, 'floor((H+2)/3)', 'floor((W+2)/3)']" },
  { name: 'two stride-2 convs normalise', code: `const y = ${img(3, 'H')}.to(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 })).to(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 }));`, shape: "['N', 8, 'floor((H+3)/4)', 'floor((H+3)/4)']" },
  { name: 'stride-4 1x1 conv gives the same form', code: `const y = ${img(3, 'H')}.to(d.conv2d({ out: 8, kernel: 1, stride: 4 }));`, shape: "['N', 8, 'floor((H+3)/4)', 'floor((H+3)/4)']" },
  { name: 'conv2d on number dims stays number', code: `const n: number = 7;\nconst y = d.input([n, 3, n, n]).to(d.conv2d({ out: 4, kernel: 3 }));`, shape: '[number, 4, number, number]' },
  { name: 'weightNormConv2d', code: `const y = ${img(3, 32)}.to(d.weightNormConv2d({ out: 16, kernel: 3, padding: 1 }));`, shape: "['N', 16, 32, 32]" },
  // depthwise
  { name: 'depthwiseConv2d', code: `const y = ${img(32, 56)}.to(d.depthwiseConv2d({ kernel: 3, padding: 1 }));`, shape: "['N', 32, 56, 56]" },
  { name: 'depthwiseConv2d with its in stated', code: `const y = ${img(96, 56)}.to(d.depthwiseConv2d({ in: 96, kernel: 3, stride: 2, padding: 1 }));`, shape: "['N', 96, 28, 28]" },
  { name: 'depthwiseConv2d multiplier and stride', code: `const y = ${img(32, 56)}.to(d.depthwiseConv2d({ kernel: 3, padding: 1, stride: 2, multiplier: 2 }));`, shape: "['N', 64, 28, 28]" },
  // transposed
  { name: 'convTranspose2d k2 s2', code: `const y = ${img(16, 14)}.to(d.convTranspose2d({ out: 8, kernel: 2, stride: 2 }));`, shape: "['N', 8, 28, 28]" },
  { name: 'convTranspose2d k3 s2 p1 outputPadding 1', code: `const y = ${img(16, 14)}.to(d.convTranspose2d({ out: 8, kernel: 3, stride: 2, padding: 1, outputPadding: 1 }));`, shape: "['N', 8, 28, 28]" },
  { name: 'convTranspose2d stride 1 grows by K-1', code: `const y = ${img(4, 10)}.to(d.convTranspose2d({ out: 4, kernel: 5 }));`, shape: "['N', 4, 14, 14]" },
  { name: 'convTranspose2d dilation', code: `const y = ${img(4, 10)}.to(d.convTranspose2d({ out: 4, kernel: 3, dilation: 2, groups: 2 }));`, shape: "['N', 4, 14, 14]" },
  { name: 'convTranspose2d symbolic', code: `const y = ${img(4, 'H')}.to(d.convTranspose2d({ out: 4, kernel: 2, stride: 2 }));`, shape: "['N', 4, '2*H', '2*H']" },
  { name: 'down then up gives 2*floor((H+1)/2)', code: `const y = ${img(4, 'H')}.to(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 })).to(d.convTranspose2d({ out: 4, kernel: 2, stride: 2 }));`, shape: "['N', 4, '2*floor((H+1)/2)', '2*floor((H+1)/2)']" },
  { name: 'down, up, down again is floor((H+1)/2)', code: `const y = ${img(4, 'H')}.to(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 })).to(d.convTranspose2d({ out: 4, kernel: 2, stride: 2 })).to(d.conv2d({ out: 4, kernel: 3, stride: 2, padding: 1 }));`, shape: "['N', 4, 'floor((H+1)/2)', 'floor((H+1)/2)']" },
  // linear, flatten
  { name: 'linear', code: "const y = d.input(['N', 512]).to(d.linear({ in: 512, out: 10 }));", shape: "['N', 10]" },
  { name: 'linear in from input', code: "const y = d.input(['N', 84]).to(d.linear({ out: 10, bias: false }));", shape: "['N', 10]" },
  { name: 'weightNormLinear', code: "const y = d.input(['N', 20]).to(d.weightNormLinear({ in: 20, out: 5 }));", shape: "['N', 5]" },
  { name: 'flatten', code: `const y = ${img(16, 4)}.to(d.flatten());`, shape: "['N', 256]" },
  { name: 'flatten big', code: `const y = ${img(2048, 7)}.to(d.flatten());`, shape: "['N', 100352]" },
  { name: 'flatten then linear', code: `const y = ${img(16, 4)}.to(d.flatten()).to(d.linear({ in: 256, out: 120 }));`, shape: "['N', 120]" },
  { name: 'flatten symbolic single dim', code: "const y = d.input(['N', 64, 'L']).to(d.flatten());", shape: "['N', '64*L']" },
  { name: 'flatten symbolic product', code: `const y = ${img(64, 'H', 'W')}.to(d.flatten());`, shape: "['N', '64*H*W']" },
  // pools
  { name: 'maxPool kernel 2', code: `const y = ${img(6, 24)}.to(d.maxPool({ kernel: 2 }));`, shape: "['N', 6, 12, 12]" },
  { name: 'maxPool k3 s2 p1', code: `const y = ${img(64, 112)}.to(d.maxPool({ kernel: 3, stride: 2, padding: 1 }));`, shape: "['N', 64, 56, 56]" },
  { name: 'maxPool odd size floors', code: `const y = ${img(6, 25)}.to(d.maxPool({ kernel: 2 }));`, shape: "['N', 6, 12, 12]" },
  { name: "avgPool 'same'", code: `const y = ${img(6, 25)}.to(d.avgPool({ kernel: 3, stride: 2, padding: 'same' }));`, shape: "['N', 6, 13, 13]" },
  { name: 'avgPool symbolic', code: `const y = ${img(6, 'H')}.to(d.avgPool({ kernel: 2 }));`, shape: "['N', 6, 'floor(H/2)', 'floor(H/2)']" },
  { name: 'pool on symbolic channels', code: `const y = ${img('C', 8)}.to(d.maxPool({ kernel: 2 }));`, shape: "['N', 'C', 4, 4]" },
  { name: 'globalAvgPool', code: `const y = ${img(512, 7)}.to(d.globalAvgPool());`, shape: "['N', 512]" },
  { name: 'globalAvgPool keepDims', code: `const y = ${img(512, 'H')}.to(d.globalAvgPool({ keepDims: true }));`, shape: "['N', 512, 1, 1]" },
  // crop2d
  { name: 'crop2d one number', code: `const y = ${img(8, 10)}.to(d.crop2d({ crop: 1 }));`, shape: "['N', 8, 8, 8]" },
  { name: 'crop2d height and width', code: `const y = ${img(8, 10, 7)}.to(d.crop2d({ crop: [2, 0] }));`, shape: "['N', 8, 6, 7]" },
  { name: 'crop2d four sides', code: `const y = ${img(8, 10, 7)}.to(d.crop2d({ crop: [0, 1, 2, 3] }));`, shape: "['N', 8, 9, 2]" },
  { name: 'crop2d symbolic height', code: `const y = ${img(8, 'H', 'W')}.to(d.crop2d({ crop: [1, 1, 0, 1] }));`, shape: "['N', 8, 'H-2', 'W-1']" },
  { name: 'crop2d after a transposed conv', code: `const y = ${img(8, 'H')}.to(d.convTranspose2d({ out: 4, kernel: 3, stride: 2 })).to(d.crop2d({ crop: [0, 1, 0, 1] }));`, shape: "['N', 4, '2*H', '2*H']" },
  // norms
  { name: 'batchNorm 2d', code: `const y = ${img(64, 56)}.to(d.batchNorm());`, shape: "['N', 64, 56, 56]" },
  { name: 'batchNorm 1d', code: "const y = d.input(['N', 120]).to(d.batchNorm({ channels: 120 }));", shape: "['N', 120]" },
  { name: 'batchNorm keras convention, frozen', code: `const y = ${img(8, 4)}.to(d.batchNorm({ channels: 8, convention: 'keras', momentum: 0.99, frozen: true }));`, shape: "['N', 8, 4, 4]" },
  { name: 'batchNorm on symbolic size', code: `const y = ${img(8, 'H', 'W')}.to(d.batchNorm({ channels: 8 }));`, shape: "['N', 8, 'H', 'W']" },
  { name: 'batchRenorm', code: `const y = ${img(8, 4)}.to(d.batchRenorm({ rMax: 3, dMax: 5 }));`, shape: "['N', 8, 4, 4]" },
  { name: 'batchNorm1d on [N, C, L]', code: "const y = d.input(['N', 8, 5]).to(d.batchNorm({ affine: false, momentum: null }));", shape: "['N', 8, 5]" },
  { name: 'layerNorm chw', code: `const y = ${img(8, 4)}.to(d.layerNorm());`, shape: "['N', 8, 4, 4]" },
  { name: 'layerNorm over channels on rank 2', code: "const y = d.input(['N', 16]).to(d.layerNorm({ over: 'c' }));", shape: "['N', 16]" },
  { name: 'instanceNorm', code: `const y = ${img(8, 4)}.to(d.instanceNorm({ channels: 8 }));`, shape: "['N', 8, 4, 4]" },
  { name: 'groupNorm', code: `const y = ${img(64, 4)}.to(d.groupNorm({ groups: 32 }));`, shape: "['N', 64, 4, 4]" },
  { name: 'groupNorm groups = channels', code: `const y = ${img(6, 4)}.to(d.groupNorm({ groups: 6, channels: 6 }));`, shape: "['N', 6, 4, 4]" },
  { name: 'ibn', code: `const y = ${img(64, 4)}.to(d.ibn({ instanceChannels: 32 }));`, shape: "['N', 64, 4, 4]" },
  { name: 'switchableNorm', code: `const y = ${img(16, 4)}.to(d.switchableNorm());`, shape: "['N', 16, 4, 4]" },
  { name: 'normalize ImageNet', code: `const y = ${img(3, 224)}.to(d.normalize({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }));`, shape: "['N', 3, 224, 224]" },
  { name: 'scaleShift', code: `const y = ${img(3, 8)}.to(d.scaleShift());`, shape: "['N', 3, 8, 8]" },
  // activations
  ...(['relu', 'relu6', 'sigmoid', 'tanh', 'identity'] as const).map((act) => ({
    name: `${act} keeps the shape`,
    code: `const y = ${img(7, 'H', 5)}.to(d.${act}());`,
    shape: "['N', 7, 'H', 5]",
  })),
  { name: 'leakyRelu', code: `const y = ${img(7, 5)}.to(d.leakyRelu({ alpha: 0.2 }));`, shape: "['N', 7, 5, 5]" },
  // composition
  { name: 'add of equal shapes', code: `const x = ${img(8, 'H')};\nconst y = d.add(x.to(d.relu()), x.to(d.conv2d({ out: 8, kernel: 3, padding: 1 })));`, shape: "['N', 8, 'H', 'H']" },
  { name: 'concat channels', code: `const x = ${img(8, 28)};\nconst y = d.concat(x.to(d.conv2d({ out: 32, kernel: 1 })), x.to(d.conv2d({ out: 64, kernel: 3, padding: 1 })));`, shape: "['N', 96, 28, 28]" },
  { name: 'concat four branches (Inception)', code: `const x = ${img(192, 'H')};\nconst y = d.concat(x.to(d.conv2d({ out: 64, kernel: 1 })), x.to(d.conv2d({ out: 128, kernel: 3, padding: 1 })), x.to(d.conv2d({ out: 32, kernel: 5, padding: 2 })), x.to(d.maxPool({ kernel: 3, stride: 1, padding: 1 })).to(d.conv2d({ out: 32, kernel: 1 })));`, shape: "['N', 256, 'H', 'H']" },
  { name: 'concat symbolic channels', code: `const x = ${img('C', 8)};\nconst y = d.concat(x, x);`, shape: "['N', '2*C', 8, 8]" },
  { name: 'sequential', code: `const y = ${img(3, 32)}.to(d.sequential(d.conv2d({ out: 16, kernel: 3, padding: 1 }), d.batchNorm(), d.relu(), d.maxPool({ kernel: 2 })));`, shape: "['N', 16, 16, 16]" },
  { name: 'nested sequential', code: `const y = ${img(3, 32)}.to(d.sequential(d.sequential(d.conv2d({ out: 16, kernel: 3 }), d.relu()), d.conv2d({ in: 16, out: 4, kernel: 3 })));`, shape: "['N', 4, 28, 28]" },
  { name: 'residual identity shortcut', code: `const y = ${img(16, 'H')}.to(d.residual(d.sequential(d.conv2d({ out: 16, kernel: 3, padding: 1 }), d.relu())));`, shape: "['N', 16, 'H', 'H']" },
  { name: 'residual stride-2 branch with stride-2 projection, symbolic', code: `const y = ${img(16, 'H', 'W')}.to(d.residual(d.conv2d({ out: 32, kernel: 3, stride: 2, padding: 1 }), { shortcut: d.conv2d({ out: 32, kernel: 1, stride: 2 }) }));`, shape: "['N', 32, 'floor((H+1)/2)', 'floor((W+1)/2)']" },
  { name: 'two 3x3 stride-2 convs merge with a 1x1 stride-4 shortcut', code: `const y = ${img(8, 'H')}.to(d.residual(d.sequential(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 }), d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 })), { shortcut: d.conv2d({ out: 8, kernel: 1, stride: 4 }) }));`, shape: "['N', 8, 'floor((H+3)/4)', 'floor((H+3)/4)']" },
  { name: 'resA', code: `const y = ${img(16, 'H', 'W')}.to(d.resA({ out: 16 }));`, shape: "['N', 16, 'H', 'W']" },
  { name: 'resA with stride 2 projects', code: `const y = ${img(16, 'H', 'W')}.to(d.resA({ out: 32, stride: 2 }));`, shape: "['N', 32, 'floor((H+1)/2)', 'floor((W+1)/2)']" },
  { name: 'resB', code: `const y = ${img(16, 32)}.to(d.resB({ out: 16, name: 'b1' }));`, shape: "['N', 16, 32, 32]" },
  { name: 'resB with projection forced', code: `const y = ${img(16, 32)}.to(d.resB({ out: 16, projection: true }));`, shape: "['N', 16, 32, 32]" },
  { name: 'resC stride 2 literal', code: `const y = ${img(16, 31)}.to(d.resC({ in: 16, out: 24, stride: 2 }));`, shape: "['N', 24, 16, 16]" },
  { name: 'basicBlock', code: `const y = ${img(64, 56)}.to(d.basicBlock({ out: 128, stride: 2 }));`, shape: "['N', 128, 28, 28]" },
  { name: 'bottleneck', code: `const y = ${img(256, 'H')}.to(d.bottleneck({ width: 128, stride: 2 }));`, shape: "['N', 512, 'floor((H+1)/2)', 'floor((H+1)/2)']" },
  { name: 'ResNet trunk on symbolic size', code: `const y = ${img(3, 'H')}.to(d.conv2d({ out: 64, kernel: 7, stride: 2, padding: 3 })).to(d.maxPool({ kernel: 3, stride: 2, padding: 1 })).to(d.basicBlock({ out: 64 })).to(d.basicBlock({ out: 128, stride: 2 })).to(d.basicBlock({ out: 256, stride: 2 })).to(d.basicBlock({ out: 512, stride: 2 }));`, shape: "['N', 512, 'floor((H+31)/32)', 'floor((H+31)/32)']" },
  { name: 'out channels known only at run time', code: `const width: number = 32;\nconst y = ${img(3, 8)}.to(d.conv2d({ out: width, kernel: 3, padding: 1 })).to(d.batchNorm()).to(d.relu());`, shape: "['N', d.CheckedAtRunTime, 8, 8]" },
  { name: 'resnet18 from the reference networks', code: `const y = ${img(3, 224)}.to(d.resnet18());`, shape: "['N', 1000]" },
  { name: 'resnet50 on a symbolic image', code: "const y = d.input([1, 3, 'H', 'W']).to(d.resnet50());", shape: '[1, 1000]' },
  { name: 'squeezeExcite keeps the shape', code: `const y = ${img(32, 'H')}.to(d.squeezeExcite({ squeeze: 8 }));`, shape: "['N', 32, 'H', 'H']" },
  { name: 'mbConv residual with squeeze-excite, symbolic', code: `const y = ${img(16, 'H', 'W')}.to(d.mbConv({ out: 16, expand: 1, squeeze: 4 }));`, shape: "['N', 16, 'H', 'W']" },
  { name: 'mbConv stride 2, symbolic', code: `const y = ${img(16, 'H')}.to(d.mbConv({ out: 24, stride: 2, name: 'b2' }));`, shape: "['N', 24, 'floor((H+1)/2)', 'floor((H+1)/2)']" },
  { name: 'mbConv kernel 5 stride 2 on 15', code: `const y = ${img(24, 15)}.to(d.mbConv({ out: 40, kernel: 5, stride: 2, squeeze: 6, activation: 'relu6' }));`, shape: "['N', 40, 8, 8]" },
  { name: 'concat along the width', code: `const y = d.concat(${img(8, 4, 3)}, ${img(8, 4, 5)}, { axis: 3 });`, shape: "['N', 8, 4, 8]" },
  { name: 'concat along a symbolic height', code: `const x = ${img(8, 'H', 4)};\nconst y = d.concat(x, x, { axis: 2, name: 'c' });`, shape: "['N', 8, '2*H', 4]" },
  { name: 'concat of sequences along L', code: "const x = d.input(['N', 8, 'L']);\nconst y = d.concat(x, x.to(d.relu()), { axis: 2 });", shape: "['N', 8, '2*L']" },
  { name: 'dropout kinds keep the shape', code: `const y = ${img(8, 'H')}.to(d.dropout({ rate: 0.5 })).to(d.dropout({ rate: 0.2, kind: 'spatialDropout' })).to(d.dropout({ rate: 2, kind: 'gaussianNoise' })).to(d.dropout({ rate: 1e-7, kind: 'alphaDropout' }));`, shape: "['N', 8, 'H', 'H']" },
  { name: 'unknown channel count via number', code: `const c: number = 3;\nconst y = d.input(['N', c, 8, 8]).to(d.conv2d({ in: 3, out: 4, kernel: 3 }));`, shape: "['N', 4, 6, 6]" },
  // softmax, activations, prelu
  { name: 'softmax over channels', code: `const y = ${img(10, 'H')}.to(d.softmax());`, shape: "['N', 10, 'H', 'H']" },
  { name: 'softmax along the width', code: `const y = ${img(10, 4, 7)}.to(d.softmax({ axis: 3 }));`, shape: "['N', 10, 4, 7]" },
  { name: 'logSoftmax on logits', code: "const y = d.input(['N', 1000]).to(d.logSoftmax({ name: 'ls' }));", shape: "['N', 1000]" },
  ...(['selu', 'gelu', 'hardSigmoid', 'softplus', 'softsign', 'swish', 'mish', 'elu', 'generalRelu', 'thresholdedRelu'] as const).map((act) => ({
    name: `${act} keeps the shape`,
    code: `const y = ${img(7, 'H', 5)}.to(d.${act}());`,
    shape: "['N', 7, 'H', 5]",
  })),
  { name: 'gelu tanh, elu alpha, relu with a bound', code: `const y = ${img(7, 5)}.to(d.gelu({ approximate: 'tanh' })).to(d.elu({ alpha: 0.5 })).to(d.generalRelu({ maxValue: 6, negativeSlope: 0.1 }));`, shape: "['N', 7, 5, 5]" },
  { name: 'prelu element-wise', code: `const y = ${img(8, 4)}.to(d.prelu());`, shape: "['N', 8, 4, 4]" },
  { name: 'prelu shared over H and W, symbolic', code: `const y = ${img(16, 'H', 'W')}.to(d.prelu({ sharedAxes: [2, 3] }));`, shape: "['N', 16, 'H', 'W']" },
  // resampling
  { name: 'upsample2d default 2', code: `const y = ${img(8, 'H', 'W')}.to(d.upsample2d());`, shape: "['N', 8, '2*H', '2*W']" },
  { name: 'upsample2d by [2, 3], bilinear', code: `const y = ${img(8, 7, 5)}.to(d.upsample2d({ scale: [2, 3], interpolation: 'bilinear' }));`, shape: "['N', 8, 14, 15]" },
  { name: 'upsample2d after a stride-2 conv', code: `const y = ${img(8, 'H')}.to(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 })).to(d.upsample2d({ scale: 2 }));`, shape: "['N', 8, '2*floor((H+1)/2)', '2*floor((H+1)/2)']" },
  { name: 'resize2d to a fixed size', code: `const y = ${img(8, 'H', 'W')}.to(d.resize2d({ size: [32, 48], interpolation: 'bilinear' }));`, shape: "['N', 8, 32, 48]" },
  { name: 'resize2d one number', code: `const y = ${img(8, 100)}.to(d.resize2d({ size: 64 }));`, shape: "['N', 8, 64, 64]" },
  // layout
  { name: 'reshape with -1 inferred', code: `const y = ${img(16, 4)}.to(d.reshape({ shape: [4, -1] }));`, shape: "['N', 4, 64]" },
  { name: 'reshape stated sizes', code: "const y = d.input(['N', 256]).to(d.reshape({ shape: [16, 4, 4] }));", shape: "['N', 16, 4, 4]" },
  { name: 'reshape from a number dim', code: "const n: number = 12;\nconst y = d.input(['N', n]).to(d.reshape({ shape: [3, -1] }));", shape: "['N', 3, d.CheckedAtRunTime]" },
  { name: 'permute NCHW to NHWC, symbolic', code: `const y = ${img(8, 'H', 'W')}.to(d.permute({ dims: [2, 3, 1] }));`, shape: "['N', 'H', 'W', 8]" },
  { name: 'repeatVector', code: "const y = d.input(['N', 16]).to(d.repeatVector({ times: 5 }));", shape: "['N', 16, 5]" },
  // broadcasting merges
  { name: 'multiply by a channel gate (squeeze-excite)', code: `const x = ${img(32, 'H')};\nconst y = d.multiply(x, x.to(d.globalAvgPool({ keepDims: true })).to(d.sigmoid()));`, shape: "['N', 32, 'H', 'H']" },
  { name: 'multiply by a rank-2 gate (1s after C)', code: `const x = ${img(32, 8)};\nconst y = d.multiply(x, x.to(d.globalAvgPool()));`, shape: "['N', 32, 8, 8]" },
  { name: 'multiply of three, the 1 first', code: `const x = ${img(32, 8)};\nconst g = x.to(d.globalAvgPool({ keepDims: true }));\nconst y = d.multiply(g, x, x, { name: 'm' });`, shape: "['N', 32, 8, 8]" },
  { name: 'subtract, maximum, minimum, average', code: `const x = ${img(4, 'H')};\nconst m = x.to(d.globalMaxPool({ keepDims: true }));\nconst y = d.average(d.subtract(x, m), d.maximum(x, m), d.minimum(m, x));`, shape: "['N', 4, 'H', 'H']" },
  { name: 'broadcastAdd of a channel shift (Keras Add)', code: `const x = ${img(32, 'H')};\nconst y = d.broadcastAdd(x, x.to(d.globalAvgPool({ keepDims: true })), { name: 'shift' });`, shape: "['N', 32, 'H', 'H']" },
  { name: 'globalMaxPool', code: `const y = ${img(512, 7)}.to(d.globalMaxPool());`, shape: "['N', 512]" },
  { name: 'globalAvgPool on a sequence [N, C, L]', code: "const y = d.input(['N', 64, 'L']).to(d.globalAvgPool());", shape: "['N', 64]" },
  { name: 'layerNorm with its normalized shape', code: `const y = ${img(8, 4)}.to(d.layerNorm({ normalizedShape: [8, 4, 4] }));`, shape: "['N', 8, 4, 4]" },
  { name: 'layerNorm over channels with its normalized shape, symbolic H', code: `const y = ${img(8, 'H')}.to(d.layerNorm({ over: 'c', normalizedShape: [8] }));`, shape: "['N', 8, 'H', 'H']" },
];

/** Literal conv arithmetic over a grid of sizes and configs: each an exact expected size. */
for (const [size, kernel, stride, padding, dilation] of [
  [7, 3, 1, 0, 1], [8, 3, 2, 1, 1], [9, 3, 2, 1, 1], [224, 11, 4, 2, 1], [227, 11, 4, 0, 1], [55, 3, 2, 0, 1],
  [13, 3, 1, 1, 1], [100, 5, 3, 2, 2], [64, 7, 1, 3, 1], [1024, 4, 4, 0, 1], [12345, 3, 2, 1, 1], [50000, 9, 7, 4, 3],
] as const) {
  const out = Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
  shapeCases.push({
    name: `conv2d on ${size}: kernel ${kernel}, stride ${stride}, padding ${padding}, dilation ${dilation}`,
    code: `const y = ${img(1, size)}.to(d.conv2d({ out: 1, kernel: ${kernel}, stride: ${stride}, padding: ${padding}, dilation: ${dilation} }));`,
    shape: `['N', 1, ${out}, ${out}]`,
  });
}

export const errorCases: ErrorCase[] = [
  // conv2d
  { name: 'conv2d channel mismatch', code: `const x = ${img(32, 28)};\nconst y = x.to(d.conv2d({ in: 64, out: 64, kernel: 3 })); // <-`, message: 'conv2d: input has 32 channels, layer expects 64' },
  { name: 'conv2d channel mismatch names the layer', code: `const x = ${img(32, 28)};\nconst y = x.to(d.conv2d({ in: 64, out: 64, kernel: 3, name: 'conv2' })); // <-`, message: "conv2d 'conv2': input has 32 channels, layer expects 64" },
  { name: 'conv2d on rank 2', code: "const x = d.input(['N', 32]);\nconst y = x.to(d.conv2d({ out: 8, kernel: 3 })); // <-", message: 'conv2d: expects a rank-4 input [N, C, H, W], got rank 2' },
  { name: 'conv2d groups do not divide input channels', code: `const y = ${img(64, 8)}.to(d.conv2d({ out: 30, kernel: 3, groups: 3 })); // <-`, message: 'conv2d: 3 groups do not divide 64 input channels' },
  { name: 'conv2d groups do not divide output channels', code: `const y = ${img(8, 8)}.to(d.conv2d({ out: 6, kernel: 3, groups: 4 })); // <-`, message: 'conv2d: 4 groups do not divide 6 output channels' },
  { name: 'conv2d kernel larger than input', code: `const y = ${img(3, 3)}.to(d.conv2d({ out: 8, kernel: 5 })); // <-`, message: 'conv2d: input height 3 is too small for kernel 5' },
  { name: 'conv2d width too small only', code: `const y = ${img(3, 10, 2)}.to(d.conv2d({ out: 8, kernel: 3 })); // <-`, message: 'conv2d: input width 2 is too small for kernel 3' },
  { name: 'conv2d dilation makes the kernel too big', code: `const y = ${img(3, 8)}.to(d.conv2d({ out: 8, kernel: 3, dilation: 4 })); // <-`, message: 'conv2d: input height 8 is too small for kernel 3 (dilation 4)' },
  { name: 'conv2d symbolic channels need in', code: `const y = ${img('C', 8)}.to(d.conv2d({ out: 8, kernel: 3 })); // <-`, message: "conv2d: input channels C must be a literal size to create weights" },
  { name: 'conv2d symbolic channels vs literal in', code: `const y = ${img('C', 8)}.to(d.conv2d({ in: 3, out: 8, kernel: 3 })); // <-`, message: 'conv2d: input has C channels, layer expects 3' },
  { name: 'weightNormConv2d channel mismatch', code: `const y = ${img(3, 8)}.to(d.weightNormConv2d({ in: 4, out: 8, kernel: 3, name: 'wn' })); // <-`, message: "weightNormConv2d 'wn': input has 3 channels, layer expects 4" },
  { name: 'conv2d padding per side too small', code: `const y = ${img(3, 2)}.to(d.conv2d({ out: 4, kernel: 5, padding: [0, 1, 1, 1] })); // <-`, message: 'conv2d: input height 2 is too small for kernel 5 (padding 0+1)' },
  { name: 'depthwiseConv2d on symbolic channels', code: `const y = ${img('C', 8)}.to(d.depthwiseConv2d({ kernel: 3 })); // <-`, message: 'depthwiseConv2d: input channels C must be a literal size' },
  { name: 'depthwiseConv2d in differs from the channels', code: `const y = ${img(32, 16)}.to(d.depthwiseConv2d({ in: 96, kernel: 3, padding: 1 })); // <-`, message: 'depthwiseConv2d: input has 32 channels, layer expects 96' },
  { name: 'depthwiseConv2d in on symbolic channels', code: `const y = ${img('C', 8)}.to(d.depthwiseConv2d({ in: 16, kernel: 3, name: 'dw' })); // <-`, message: "depthwiseConv2d 'dw': input has C channels, layer expects 16" },
  { name: 'depthwiseConv2d too small', code: `const y = ${img(4, 2)}.to(d.depthwiseConv2d({ kernel: 3 })); // <-`, message: 'depthwiseConv2d: input height 2 is too small for kernel 3' },
  // transposed
  { name: 'convTranspose2d outputPadding too large', code: `const y = ${img(4, 8)}.to(d.convTranspose2d({ out: 4, kernel: 3, stride: 2, outputPadding: 2 })); // <-`, message: 'convTranspose2d: outputPadding 2 (height) must be smaller than stride 2' },
  { name: 'convTranspose2d channel mismatch', code: `const y = ${img(4, 8)}.to(d.convTranspose2d({ in: 8, out: 4, kernel: 2, stride: 2, name: 'up1' })); // <-`, message: "convTranspose2d 'up1': input has 4 channels, layer expects 8" },
  { name: 'convTranspose2d groups', code: `const y = ${img(6, 8)}.to(d.convTranspose2d({ out: 4, kernel: 2, groups: 4 })); // <-`, message: 'convTranspose2d: 4 groups do not divide 6 input channels' },
  { name: 'convTranspose2d padding eats the output', code: `const y = ${img(4, 1)}.to(d.convTranspose2d({ out: 4, kernel: 1, padding: 1 })); // <-`, message: 'convTranspose2d: input height 1 is too small for kernel 1 (padding 1)' },
  // linear
  { name: 'linear feature mismatch', code: "const y = d.input(['N', 256]).to(d.linear({ in: 400, out: 120 })); // <-", message: 'linear: input has 256 features, layer expects 400' },
  { name: 'linear on rank 4', code: `const y = ${img(16, 4)}.to(d.linear({ in: 256, out: 10 })); // <-`, message: 'linear: expects a rank-2 input [N, C], got rank 4' },
  { name: 'flatten into the wrong linear width', code: `const y = ${img(16, 4)}\n  .to(d.flatten())\n  .to(d.linear({ in: 400, out: 120, name: 'fc1' })); // <-`, message: "linear 'fc1': input has 256 features, layer expects 400" },
  { name: 'flatten of symbolic size into linear', code: `const y = ${img(64, 'H', 'W')}.to(d.flatten()).to(d.linear({ in: 3136, out: 10 })); // <-`, message: 'linear: input has 64*H*W features, layer expects 3136' },
  { name: 'linear without in on symbolic features', code: `const y = ${img(64, 'H', 'W')}.to(d.flatten()).to(d.linear({ out: 10 })); // <-`, message: "linear: input features 64*H*W must be a literal size to create weights" },
  { name: 'weightNormLinear mismatch', code: "const y = d.input(['N', 5]).to(d.weightNormLinear({ in: 6, out: 1 })); // <-", message: 'weightNormLinear: input has 5 features, layer expects 6' },
  // norms
  { name: 'batchNorm channel mismatch', code: `const y = ${img(64, 8)}.to(d.batchNorm({ channels: 32, name: 'bn1' })); // <-`, message: "batchNorm 'bn1': input has 64 channels, layer expects 32" },
  { name: 'batchNorm on rank 5', code: "const y = d.input(['N', 8, 5, 5, 5]).to(d.batchNorm()); // <-", message: 'batchNorm: expects a rank-2, rank-3 or rank-4 input, got rank 5' },
  { name: 'batchNorm1d mismatch', code: "const y = d.input(['N', 120]).to(d.batchNorm({ channels: 84 })); // <-", message: 'batchNorm: input has 120 channels, layer expects 84' },
  { name: 'batchRenorm mismatch', code: `const y = ${img(8, 4)}.to(d.batchRenorm({ channels: 4 })); // <-`, message: 'batchRenorm: input has 8 channels, layer expects 4' },
  { name: 'groupNorm groups do not divide', code: `const y = ${img(64, 4)}.to(d.groupNorm({ groups: 6 })); // <-`, message: 'groupNorm: 6 groups do not divide 64 channels' },
  { name: 'groupNorm with stated channels', code: `const y = ${img(10, 4)}.to(d.groupNorm({ groups: 4, channels: 10, name: 'gn' })); // <-`, message: "groupNorm 'gn': 4 groups do not divide 10 channels" },
  { name: 'groupNorm on rank 2', code: "const y = d.input(['N', 8]).to(d.groupNorm({ groups: 2 })); // <-", message: 'groupNorm: expects a rank-4 input [N, C, H, W], got rank 2' },
  { name: 'instanceNorm on rank 2', code: "const y = d.input(['N', 8]).to(d.instanceNorm()); // <-", message: 'instanceNorm: expects a rank-4 input [N, C, H, W], got rank 2' },
  { name: 'layerNorm mismatch', code: `const y = ${img(8, 4)}.to(d.layerNorm({ channels: 16 })); // <-`, message: 'layerNorm: input has 8 channels, layer expects 16' },
  { name: 'ibn split out of range', code: `const y = ${img(8, 4)}.to(d.ibn({ instanceChannels: 8 })); // <-`, message: 'ibn: instanceChannels 8 must be between 1 and 8 - 1' },
  { name: 'switchableNorm on rank 2', code: "const y = d.input(['N', 8]).to(d.switchableNorm()); // <-", message: 'switchableNorm: expects a rank-4 input' },
  { name: 'normalize with four means on three channels', code: `const y = ${img(3, 8)}.to(d.normalize({ mean: [0.5, 0.5, 0.5, 0.5], std: [1, 1, 1, 1] })); // <-`, message: 'normalize: input has 3 channels, layer expects 4' },
  { name: 'normalize with mismatched mean and std', code: `const y = ${img(3, 8)}.to(d.normalize({ mean: [0.5, 0.5, 0.5], std: [1, 1] })); // <-`, message: 'normalize: 3 means but 2 standard deviations' },
  { name: 'scaleShift mismatch', code: `const y = ${img(3, 8)}.to(d.scaleShift({ channels: 4 })); // <-`, message: 'scaleShift: input has 3 channels, layer expects 4' },
  // pools, flatten
  { name: 'maxPool on rank 2', code: "const y = d.input(['N', 8]).to(d.maxPool({ kernel: 2 })); // <-", message: 'maxPool2d: expects a rank-4 input [N, C, H, W], got rank 2' },
  { name: 'maxPool window larger than input', code: `const y = ${img(8, 2)}.to(d.maxPool({ kernel: 3 })); // <-`, message: 'maxPool2d: input height 2 is too small for kernel 3' },
  { name: 'avgPool too small', code: `const y = ${img(8, 4, 1)}.to(d.avgPool({ kernel: [2, 2], name: 'pool' })); // <-`, message: "avgPool2d 'pool': input width 1 is too small for kernel 2" },
  { name: 'crop2d crops away the height', code: `const y = ${img(8, 3, 9)}.to(d.crop2d({ crop: [2, 1, 0, 0], name: 'trim' })); // <-`, message: "crop2d 'trim': input height 3 is too small for the crop 2+1" },
  { name: 'crop2d crops away the width', code: `const y = ${img(8, 9, 4)}.to(d.crop2d({ crop: [1, 3] })); // <-`, message: 'crop2d: input width 4 is too small for the crop 3+3' },
  { name: 'crop2d on rank 2', code: "const y = d.input(['N', 8]).to(d.crop2d({ crop: 1 })); // <-", message: 'crop2d: expects a rank-4 input [N, C, H, W], got rank 2' },
  { name: 'globalAvgPool on rank 2', code: "const y = d.input(['N', 8]).to(d.globalAvgPool()); // <-", message: 'globalAvgPool: expects a rank-4 input [N, C, H, W], got rank 2' },
  { name: 'flatten on rank 1', code: "const y = d.input(['N']).to(d.flatten()); // <-", message: 'flatten: expects a rank-2 or higher input [N, ...], got rank 1' },
  // merges
  { name: 'add with different heights', code: `const a = ${img(8, 28)};\nconst b = d.input(['N', 8, 27, 28], { scope: a.scope });\nconst y = d.add(a, b); // <-`, message: 'add: branch 2 of 2 differs at dim 2 (H): 27 vs 28' },
  { name: 'add with different channels', code: `const x = ${img(32, 28)};\nconst y = d.add(x, x.to(d.conv2d({ out: 64, kernel: 1 }))); // <-`, message: 'add: branch 2 of 2 differs at dim 1 (C): 64 vs 32' },
  { name: 'add with a stride-2 branch and no projection, symbolic', code: `const x = ${img(8, 'H')};\nconst y = d.add(x, x.to(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 }))); // <-`, message: 'add: branch 2 of 2 differs at dim 2 (H): floor((H+1)/2) vs H' },
  { name: 'add with different ranks', code: "const a = d.input(['N', 8]);\nconst b = d.input(['N', 8, 1, 1], { scope: a.scope });\nconst y = d.add(a, b); // <-", message: 'add: branch 2 of 2 differs in rank: 4 vs 2' },
  { name: 'U-Net skip at symbolic size', code: `const x = ${img(8, 'H')};\nconst up = x.to(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 })).to(d.convTranspose2d({ out: 8, kernel: 2, stride: 2 }));\nconst y = d.add(up, x); // <-`, message: 'add: branch 2 of 2 differs at dim 2 (H): H vs 2*floor((H+1)/2)' },
  { name: 'U-Net skip at an odd literal size', code: `const x = ${img(8, 27)};\nconst up = x.to(d.conv2d({ out: 8, kernel: 3, stride: 2, padding: 1 })).to(d.convTranspose2d({ out: 8, kernel: 2, stride: 2 }));\nconst y = d.concat(up, x); // <-`, message: 'concat: input 2 of 2 differs at dim 2 (H): 27 vs 28' },
  { name: 'concat with a different batch', code: "const a = d.input([2, 8, 4, 4]);\nconst b = d.input([3, 8, 4, 4], { scope: a.scope });\nconst y = d.concat(a, b); // <-", message: 'concat: input 2 of 2 differs at dim 0 (N): 3 vs 2' },
  { name: 'add of three branches, the third wrong', code: `const x = ${img(32, 8)};\nconst y = d.add(x, x.to(d.relu()),\n  x.to(d.conv2d({ out: 64, kernel: 1 }))); // <-`, message: 'add: branch 3 of 3 differs at dim 1 (C): 64 vs 32' },
  { name: 'add with one tensor', code: `const a = ${img(8, 4)};\nconst y = d.add(a, { name: 'sum' }); // <-`, message: 'add: needs at least two tensors' },
  { name: 'concat on rank 3', code: "const x = d.input(['N', 8, 5]);\nconst y = d.concat(x, x); // <-", message: 'concat: expects a rank-2 input [N, C] or a rank-4 input [N, C, H, W], got rank 3' },
  { name: 'batchNorm on symbolic channels', code: `const y = ${img('C', 8)}.to(d.batchNorm({ name: 'bn' })); // <-`, message: "batchNorm 'bn': input channels C must be a literal size to create parameters" },
  { name: 'concat with one tensor', code: `const a = ${img(8, 4)};\nconst y = d.concat(a); // <-`, message: 'concat: needs at least two tensors' },
  { name: 'sequential names the failing step', code: `const y = ${img(3, 32)}.to(d.sequential(d.conv2d({ out: 16, kernel: 3 }), d.relu(), d.conv2d({ in: 32, out: 8, kernel: 3 }))); // <-`, message: 'sequential[2] conv2d: input has 16 channels, layer expects 32' },
  { name: 'residual whose branch changes channels', code: `const y = ${img(16, 8)}.to(d.residual(d.conv2d({ out: 32, kernel: 3, padding: 1 }))); // <-`, message: 'residual: add: branch shapes differ at dim 1 (C): 32 vs 16' },
  { name: 'residual with a shortcut of the wrong stride', code: `const y = ${img(16, 'H')}.to(d.residual(d.conv2d({ out: 32, kernel: 3, stride: 2, padding: 1 }), { shortcut: d.conv2d({ out: 32, kernel: 1 }), name: 'block' })); // <-`, message: "add 'block.add': branch shapes differ at dim 2 (H): floor((H+1)/2) vs H" },
  { name: 'residual whose branch fails', code: `const y = ${img(16, 8)}.to(d.residual(d.conv2d({ in: 8, out: 16, kernel: 3, padding: 1 }))); // <-`, message: 'residual: conv2d: input has 16 channels, layer expects 8' },
  { name: 'resA stride 2 without projection', code: `const y = ${img(16, 'H')}.to(d.resA({ out: 16, stride: 2, projection: false })); // <-`, message: 'resA: add: branch shapes differ at dim 2 (H): floor((H+1)/2) vs H' },
  { name: 'resA with the wrong in', code: `const y = ${img(16, 8)}.to(d.resA({ in: 32, out: 32, name: 'layer2.0' })); // <-`, message: "conv2d 'layer2.0.conv1': input has 16 channels, layer expects 32" },
  { name: 'resB channel change without projection', code: `const y = ${img(16, 8)}.to(d.resB({ out: 32, projection: false })); // <-`, message: 'resB: add: branch shapes differ at dim 1 (C): 32 vs 16' },
  { name: 'resC on rank 2', code: "const y = d.input(['N', 16]).to(d.resC({ out: 16 })); // <-", message: 'resC: expects a rank-4 input [N, C, H, W], got rank 2' },
  { name: 'bottleneck in mismatch', code: `const y = ${img(64, 8)}.to(d.bottleneck({ in: 256, width: 64 })); // <-`, message: "bottleneck: conv2d 'conv1': input has 64 channels, layer expects 256" },
  { name: 'resnet18 on 4 input channels', code: `const y = ${img(4, 224)}.to(d.resnet18()); // <-`, message: "sequential[0] sequential[0] conv2d 'conv1': input has 4 channels, layer expects 3" },
  // softmax, prelu, resampling, layout
  { name: 'softmax axis outside the input', code: `const y = ${img(10, 4)}.to(d.softmax({ axis: 4 })); // <-`, message: 'softmax: axis 4 is outside a rank-4 input [N, C, H, W]' },
  { name: 'logSoftmax axis outside a rank-2 input', code: "const y = d.input(['N', 10]).to(d.logSoftmax({ axis: 2, name: 'ls' })); // <-", message: "logSoftmax 'ls': axis 2 is outside a rank-2 input [N, C]" },
  { name: 'prelu element-wise on a symbolic height', code: `const y = ${img(8, 'H')}.to(d.prelu()); // <-`, message: 'prelu: input dim 2 (H) H must be a literal size to create parameters, or a shared axis' },
  { name: 'prelu sharing an axis the input lacks', code: "const y = d.input(['N', 8]).to(d.prelu({ sharedAxes: [2] })); // <-", message: 'prelu: axis 2 is outside a rank-2 input [N, C]' },
  { name: 'upsample2d on rank 2', code: "const y = d.input(['N', 8]).to(d.upsample2d()); // <-", message: 'upsample2d: expects a rank-4 input [N, C, H, W], got rank 2' },
  { name: 'resize2d on rank 3', code: "const y = d.input(['N', 8, 'L']).to(d.resize2d({ size: 4 })); // <-", message: 'resize2d: expects a rank-4 input [N, C, H, W], got rank 3' },
  { name: 'reshape whose -1 does not divide', code: `const y = ${img(16, 4)}.to(d.reshape({ shape: [7, -1] })); // <-`, message: 'reshape: cannot reshape 256 values per sample into [7, -1]: 7 does not divide 256' },
  { name: 'reshape to a different count', code: `const y = ${img(16, 4)}.to(d.reshape({ shape: [10, 10], name: 'r' })); // <-`, message: "reshape 'r': cannot reshape 256 values per sample into [10, 10] (100)" },
  { name: 'reshape with -1 of a symbolic count', code: `const y = ${img(16, 'H', 'W')}.to(d.reshape({ shape: [16, -1] })); // <-`, message: 'reshape: cannot reshape 16*H*W values per sample into [16, -1]: -1 needs a literal size' },
  { name: 'permute missing an axis', code: `const y = ${img(8, 4)}.to(d.permute({ dims: [1, 2] })); // <-`, message: 'permute: dims [1, 2] must be a permutation of 1..3 for a rank-4 input' },
  { name: 'repeatVector on rank 4', code: `const y = ${img(8, 4)}.to(d.repeatVector({ times: 3 })); // <-`, message: 'repeatVector: expects a rank-2 input [N, C], got rank 4' },
  { name: 'layerNorm normalized shape of another height', code: `const y = ${img(8, 4)}.to(d.layerNorm({ normalizedShape: [8, 5, 4] })); // <-`, message: 'layerNorm: input height is 4, normalized shape expects 5' },
  { name: "layerNorm over 'c' with a [C, H, W] shape", code: `const y = ${img(8, 4)}.to(d.layerNorm({ over: 'c', normalizedShape: [8, 4, 4] })); // <-`, message: "layerNorm: normalizedShape must be [C] when over is 'c', got [8, 4, 4]" },
  { name: "layerNorm over 'chw' on a symbolic height", code: `const y = ${img(8, 'H', 4)}.to(d.layerNorm()); // <-`, message: 'layerNorm: input height H must be a literal size to create gamma and beta over [C, H, W]' },
  // broadcasting merges
  { name: 'multiply by a gate of other channels', code: `const x = ${img(32, 8)};\nconst y = d.multiply(x, x.to(d.conv2d({ out: 64, kernel: 1 })).to(d.globalAvgPool({ keepDims: true }))); // <-`, message: 'multiply: inputs do not broadcast at dim 1 (C): 32 vs 64' },
  { name: 'broadcastAdd of a wrong channel count', code: `const x = ${img(32, 8)};\nconst y = d.broadcastAdd(x, x.to(d.conv2d({ out: 64, kernel: 1 })).to(d.globalAvgPool({ keepDims: true }))); // <-`, message: 'broadcastAdd: inputs do not broadcast at dim 1 (C): 32 vs 64' },
  { name: 'subtract of three', code: `const x = ${img(4, 8)};\nconst y = d.subtract(x, x, x); // <-`, message: 'subtract: takes exactly 2 inputs, got 3' },
  { name: 'multiply with a rank-1 input', code: "const a = d.input(['N']);\nconst y = d.multiply(d.input(['N', 8], { scope: a.scope }), a); // <-", message: 'multiply: inputs of rank 1 cannot broadcast against rank 2' },
  { name: 'maximum with different batches', code: "const a = d.input([2, 8]);\nconst y = d.maximum(a, d.input([3, 8], { scope: a.scope })); // <-", message: 'maximum: inputs do not broadcast at dim 0 (N): 2 vs 3' },
  { name: 'squeezeExcite on symbolic channels', code: `const y = ${img('C', 8)}.to(d.squeezeExcite({ squeeze: 4 })); // <-`, message: 'squeezeExcite: input channels C must be a literal size to create weights' },
  { name: 'mbConv on rank 2', code: "const y = d.input(['N', 16]).to(d.mbConv({ out: 16 })); // <-", message: 'mbConv: expects a rank-4 input [N, C, H, W], got rank 2' },
  { name: 'mbConv with the wrong in', code: `const y = ${img(16, 8)}.to(d.mbConv({ in: 32, out: 32, name: 'b3' })); // <-`, message: "conv2d 'b3.expand': input has 16 channels, layer expects 32" },
  // inside named units: the run time's node names ('<unit>.<child>'), the same words at both levels
  { name: 'mbConv squeeze-excite sized by a wrong in', code: `const y = ${img(8, 8)}.to(d.mbConv({ in: 4, out: 8, expand: 1, squeeze: 2, name: 'b4' })); // <-`, message: "conv2d 'b4.se.reduce': input has 8 channels, layer expects 4" },
  { name: 'mbConv without expansion projects a wrong in', code: `const y = ${img(8, 8)}.to(d.mbConv({ in: 4, out: 8, expand: 1, name: 'b5' })); // <-`, message: "conv2d 'b5.project': input has 8 channels, layer expects 4" },
  { name: 'mbConv named, on rank 2', code: "const y = d.input(['N', 16]).to(d.mbConv({ out: 16, name: 'b6' })); // <-", message: "mbConv 'b6': expects a rank-4 input [N, C, H, W], got rank 2" },
  { name: 'squeezeExcite named, on symbolic channels', code: `const y = ${img('C', 8)}.to(d.squeezeExcite({ squeeze: 4, name: 'se1' })); // <-`, message: "squeezeExcite 'se1': input channels C must be a literal size to create weights" },
  { name: 'resB named, channel change without projection', code: `const y = ${img(16, 8)}.to(d.resB({ out: 32, projection: false, name: 'u1' })); // <-`, message: "add 'u1.add': branch shapes differ at dim 1 (C): 32 vs 16" },
  { name: 'resC named, stride 2 without projection', code: `const y = ${img(16, 9)}.to(d.resC({ out: 16, stride: 2, projection: false, name: 'u2' })); // <-`, message: "add 'u2.add': branch shapes differ at dim 2 (H): 5 vs 9" },
  { name: 'bottleneck named, wrong in', code: `const y = ${img(64, 8)}.to(d.bottleneck({ in: 256, width: 64, name: 'layer3.0' })); // <-`, message: "conv2d 'layer3.0.conv1': input has 64 channels, layer expects 256" },
  { name: 'residual named, its named branch fails', code: `const y = ${img(16, 8)}.to(d.residual(d.conv2d({ in: 8, out: 16, kernel: 3, padding: 1, name: 'c1' }), { name: 'r1' })); // <-`, message: "conv2d 'r1.c1': input has 16 channels, layer expects 8" },
  { name: 'concat on an axis outside the input', code: `const x = ${img(8, 4)};\nconst y = d.concat(x, x, { axis: 4 }); // <-`, message: 'concat: axis 4 is outside a rank-4 input [N, C, H, W]' },
  { name: 'concat along the width with other channels', code: `const x = ${img(8, 4)};\nconst y = d.concat(x, x.to(d.conv2d({ out: 16, kernel: 1 })), { axis: 3 }); // <-`, message: 'concat: input 2 of 2 differs at dim 1 (C): 16 vs 8' },
  // Options a builder does not have (a Keras spelling, a typo) are the error, not silently ignored.
  { name: 'conv2d with a Keras-spelt option', code: `const y = ${img(3, 8)}.to(d.conv2d({ out: 8, kernel: 3, strides: 2 })); // <-`, message: "conv2d: unknown option 'strides' (options: in, out, kernel, stride, padding, dilation, groups, bias, name)" },
  { name: 'a misspelt option in a layer built apart, inside a sequential', code: `const block = d.sequential(d.linear({ in: 4, out: 2, bais: false }), d.relu()); // <-\nconst y = d.input(['N', 4]).to(block);`, message: "linear: unknown option 'bais' (options: in, out, bias, name)" },
  { name: 'a misspelt option of a unit', code: `const y = ${img(16, 8)}.to(d.resA({ out: 16, strid: 2 })); // <-`, message: "resA: unknown option 'strid' (options: in, out, stride, projection, name)" },
  { name: 'a misspelt option of a norm without other options', code: `const y = ${img(16, 8)}.to(d.batchNorm({ channels: 16, epsilon: 1e-3 })); // <-`, message: "batchNorm: unknown option 'epsilon' (options: channels, eps, momentum, convention, affine, trackRunningStats, frozen, name)" },
  { name: 'a misspelt residual option', code: `const y = ${img(8, 8)}.to(d.residual(d.relu(), { name: 'r', shortcutt: d.relu() })); // <-`, message: "residual: unknown option 'shortcutt' (options: shortcut, name)" },
  { name: 'a misspelt concat option', code: `const x = ${img(8, 4)};\nconst y = d.concat(x, x, { name: 'cat', axs: 3 }); // <-`, message: "concat: unknown option 'axs' (options: axis, name)" },
  { name: 'a misspelt multiply option', code: `const x = ${img(8, 4)};\nconst y = d.multiply(x, x, { name: 'gate', nam: 'g' }); // <-`, message: "multiply: unknown option 'nam' (options: name)" },
  { name: 'dropout with rate 1', code: `const y = ${img(8, 4)}.to(d.dropout({ rate: 1 })); // <-`, message: 'dropout: dropout rate 1 must be below 1' },
  { name: 'spatialDropout on rank 2', code: "const y = d.input(['N', 8]).to(d.dropout({ rate: 0.1, kind: 'spatialDropout', name: 'sd' })); // <-", message: "dropout 'sd': spatialDropout expects a rank-3 or rank-4 input, got rank 2" },
  // inputs
  { name: 'input with a zero size', code: "const y = d.input(['N', 0, 3, 3]); // <-", message: 'input: dim 1 is 0; sizes must be positive integers' },
  { name: 'input with a fractional size', code: "const y = d.input(['N', 2.5, 3, 3]); // <-", message: 'input: dim 1 is 2.5; sizes must be positive integers' },
  { name: 'input with an expression as a name', code: "const y = d.input(['N', 3, 'H+1', 3]); // <-", message: "input: dim 2 'H+1' is not a symbol name" },
  { name: 'input with a name starting with a digit', code: "const y = d.input(['N', 3, '2H', 3]); // <-", message: "input: dim 2 '2H' is not a symbol name" },
];
