/** The graph IR: types, validation, shape inference, building, serialisation, initialisation. */
export type * from './graph.ts';
export { GraphError, ShapeError, ShapefoldError } from './errors.ts';
export { bindInputShapes, broadcastShapes, dimLabel, inferNodeShape, inferShapes } from './shapes.ts';
export { channelsFirstAxis, channelsLastAxis, padForBroadcast } from './axes.ts';
export { ACTIVATION_FNS, DROPOUT_KINDS, MERGE_FNS } from './attrs.ts';
export { validateGraph } from './validate.ts';
export { GraphBuilder, type NodeSpec } from './builder.ts';
export { cloneGraph, graphFromJSON, graphToJSON, type GraphJSON, type NodeJSON, type ParamJSON } from './serialize.ts';
export { createRng, initParams } from './init.ts';
export { optionalParamShapes, paramShapes } from './params.ts';
