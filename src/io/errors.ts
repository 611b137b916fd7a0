/**
 * Errors of the tfjs Layers importer and exporter. Every message says where: the file (or
 * 'model.json' in memory), the layer and its Keras class, and the config field or weight at fault;
 * the exporter names the IR node and op it cannot write.
 */
import { ShapefoldError } from '../ir/errors.ts';

export interface LayersModelErrorSite {
  readonly source: string;
  readonly layer?: string;
  readonly className?: string;
  readonly field?: string;
}

export class LayersModelError extends ShapefoldError {
  override readonly name = 'LayersModelError';
  readonly source: string;
  readonly layer?: string;
  readonly className?: string;
  readonly field?: string;
  /** What is wrong, without the site. */
  readonly problem: string;

  constructor(site: LayersModelErrorSite, problem: string) {
    const where = site.layer === undefined ? '' : ` layer '${site.layer}'${site.className === undefined ? '' : ` (${site.className})`}:`;
    const field = site.field === undefined ? '' : ` ${site.field}`;
    super(`${site.source}:${where}${field} ${problem}`);
    this.source = site.source;
    this.problem = problem;
    if (site.layer !== undefined) this.layer = site.layer;
    if (site.className !== undefined) this.className = site.className;
    if (site.field !== undefined) this.field = site.field;
  }
}

/** A manifest group whose weight files (or in-memory data) hold more or fewer bytes than its weights need. */
export class WeightBytesError extends LayersModelError {}

/** An IR node with no exact stock tfjs Layers equivalent. */
export class LayersExportError extends ShapefoldError {
  override readonly name = 'LayersExportError';
  readonly node: string;
  readonly op: string;

  constructor(node: string, op: string, problem: string) {
    super(`${op} '${node}': cannot be written as a tfjs Layers model: ${problem}`);
    this.node = node;
    this.op = op;
  }
}
