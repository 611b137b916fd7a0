/** tfjs Layers models (model.json + weights) to and from the shapefold IR. */
export { LayersExportError, LayersModelError } from './errors.ts';
export { importLayersModel, readLayersModel } from './layers-import.ts';
export { WEIGHTS_FILE, exportLayersModel, writeLayersModel, type ExportedLayersModel } from './layers-export.ts';
export { isLayersModelJSON, type LayersModelJSON, type WeightData } from './layers-format.ts';
export { LAYERS_EXPORTABLE_RULES, LAYERS_FOLD_OPTIONS } from './fold-rules.ts';
export { KERAS_ACTIVATIONS, irActivationOf, kerasActivationOf } from './activations.ts';
