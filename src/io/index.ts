/** tfjs Layers models (model.json + weight shards) to and from the shapefold IR. */
export { LayersExportError, LayersModelError } from './errors.ts';
export { OutputPathError } from './files.ts';
export { importLayersModel, type ImportOptions } from './layers-import.ts';
export { exportLayersModel, type ExportedLayersModel } from './layers-export.ts';
export {
  DEFAULT_SHARD_BYTES,
  checkLayersOutput,
  readLayersModel,
  writeLayersModel,
  type LayersArtifacts,
  type LayersModelRead,
  type LayersModelWritten,
  type LayersWriteOptions,
} from './layers-model.ts';
export { MAX_PARAMETERS, isLayersModelJSON, type LayersModelJSON, type WeightData, type WeightSpec } from './layers-format.ts';
export { QUANTIZATIONS, type WeightQuantization } from './quantize.ts';
export { LAYERS_EXPORTABLE_RULES, LAYERS_FOLD_OPTIONS } from './fold-rules.ts';
export { KERAS_ACTIVATIONS, irActivationOf, kerasActivationOf } from './activations.ts';
