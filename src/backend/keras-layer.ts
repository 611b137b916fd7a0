/**
 * A tfjs-layers Layer made from a Keras layer entry (class name + config), synchronously, the
 * way tf.loadLayersModel makes it: what an opaque node runs (ops/opaque.ts) and what the importer
 * asks for its weights and output shape.
 *
 * tfjs-layers has no public synchronous deserializer: tf.models.modelFromJSON is async, and its
 * `deserialize` and `convertPythonicToTs` are not exported. But every layer class, built-in or
 * registered with tf.serialization.registerClass, is in tfjs-core's SerializationMap as
 * [class, fromConfig] (the same map tfjs-layers' deserializer reads), and fromConfig reads the
 * config in its TypeScript spelling. So the Keras (Python) spelling is converted first with the
 * rule tfjs-layers applies on load (`kerasConfigToTfjs`, tested against its own configs), and
 * the class's fromConfig called on it.
 *
 * The layer is built by calling it on symbolic inputs, as a model does: the build runs inside
 * the layer's name scope, so its weights get the names a loaded model gives them
 * (`${layer}/kernel`, `${wrapper}/forward_lstm/kernel`), which match the manifest's.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { KerasDim } from '../ir/graph.ts';

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** tfjs-layers' toCamelCase: 'kernel_size' -> 'kernelSize'; a word without '_' is left alone. */
function camel(identifier: string): string {
  if (identifier.length <= 1 || !identifier.includes('_')) return identifier;
  return identifier.replace(/_+(\w|$)/g, (_m, next: string) => next.toUpperCase());
}

/** Keys whose lists start with a layer name that must keep its spelling (a nested model's topology). */
const NAME_LISTS = new Set(['inboundNodes', 'outputLayers', 'inputLayers']);

/**
 * A Keras (snake_case) config in the spelling tfjs-layers' classes read, by tfjs-layers' own rule
 * (convertPythonicToTs): every key and every string value camel-cased, except the value of a
 * `name` key and the layer names that open the entries of inbound_nodes, input_layers and
 * output_layers.
 */
export function kerasConfigToTfjs(value: unknown, key?: string): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return camel(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    return value.map((item, i) => (key !== undefined && NAME_LISTS.has(key) && i === 0 && typeof item === 'string' ? item : kerasConfigToTfjs(item, key)));
  }
  const converted: Record<string, Json> = {};
  for (const [field, item] of Object.entries(value as Record<string, unknown>)) {
    if (field === 'name' && typeof item === 'string') converted[field] = item;
    else {
      const tsKey = camel(field);
      converted[tsKey] = kerasConfigToTfjs(item, tsKey);
    }
  }
  return converted;
}

type FromConfig = (cls: unknown, config: unknown) => tfl.layers.Layer;

/** Whether tfjs-layers (or the user, with tf.serialization.registerClass) has registered `className`. */
export function isRegisteredClass(className: string): boolean {
  return Object.hasOwn(tf.serialization.SerializationMap.getMap().classNameMap, className);
}

/**
 * A new, unbuilt tfjs layer of `className` with this Keras config, whose build fills its weights
 * with zeros (the caller sets them). Throws tfjs's own error when
 * the class is unknown or the config does not make a layer (the caller names the layer).
 */
export function createKerasLayer(className: string, config: { readonly [field: string]: unknown }): tfl.layers.Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className] as [unknown, FromConfig] | undefined;
  if (entry === undefined) throw new Error(`unknown layer class ${className}`);
  const [cls, fromConfig] = entry;
  const layer = fromConfig(cls, kerasConfigToTfjs(config));
  if (!(layer instanceof tfl.layers.Layer)) throw new Error(`${className}.fromConfig did not make a tfjs layer`);
  // As tf.loadLayersModel does when the weights come with the model: built with zeros, not its
  // initializers (whose values are replaced anyway; an LSTM's Orthogonal one also needs tfjs's
  // chained ops, which tfjs-core's Node build does not register).
  layer.setFastWeightInitDuringBuild(true);
  return layer;
}

/**
 * Builds `layer` for inputs of these channels-last shapes (null: unknown) as a model would, and
 * returns the output shape(s) tfjs computes.
 */
export function buildKerasLayer(layer: tfl.layers.Layer, inputShapes: readonly (readonly KerasDim[])[]): KerasDim[] | KerasDim[][] {
  const symbolic = inputShapes.map((shape) => new tfl.SymbolicTensor('float32', [...shape], null as unknown as tfl.layers.Layer, [], {}));
  const out = layer.apply(symbolic.length === 1 ? symbolic[0] : symbolic) as tfl.SymbolicTensor | tfl.SymbolicTensor[];
  return Array.isArray(out) ? out.map((t) => [...t.shape]) : [...out.shape];
}

/** Releases the variables a layer built here holds (a layer never called on tensors has no other). */
export function disposeKerasLayer(layer: tfl.layers.Layer): void {
  for (const weight of layer.weights) weight.dispose();
}
