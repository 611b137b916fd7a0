/**
 * The fold report: every fold applied, every norm-like node left with the reasons, node and
 * parameter counts before and after, the opaque layers carried unchanged, and the numerical probe. Plain data, JSON-serialisable as it
 * is; `formatFoldReport` renders it as text.
 */
import type { OpKind } from '../ir/graph.ts';
import type { FoldRecord } from './apply.ts';
import type { FoldMode } from './match.ts';
import type { FoldCheck, FoldSample, NetworkCheck, ProbeReport } from './probe.ts';

export interface LeftNode {
  readonly name: string;
  readonly op: OpKind;
  readonly reasons: readonly string[];
}

/** A Keras layer carried unchanged for tfjs-layers to run (an opaque node): no fold crosses it. */
export interface OpaqueLayer {
  readonly name: string;
  readonly className: string;
  /** For a layer of several outputs whose others the graph reads (an LSTM's returned states): the outputs read, 0 the layer's first. */
  readonly outputsRead?: readonly number[];
}

/** An opaque layer as the report and `shapefold info` list it: 'lstm (LSTM; outputs read: 0, 2)'. */
export function describeOpaqueLayer(layer: OpaqueLayer): string {
  return `${layer.name} (${layer.className}${layer.outputsRead === undefined ? '' : `; outputs read: ${layer.outputsRead.join(', ')}`})`;
}

export interface FoldReport {
  readonly mode: FoldMode;
  /** The rules tried, in order. */
  readonly rules: readonly string[];
  /** In the order applied. */
  readonly folds: readonly FoldRecord[];
  /** Every norm-like node of the folded graph, with why it stayed. */
  readonly left: readonly LeftNode[];
  readonly nodesBefore: number;
  readonly nodesAfter: number;
  readonly paramsBefore: number;
  readonly paramsAfter: number;
  /** Absent when folding ran with `probe: 'off'`. */
  readonly probe?: ProbeReport;
  /** The opaque layers of the folded graph; absent when there are none. */
  readonly opaque?: readonly OpaqueLayer[];
}

const number = (n: number) => n.toLocaleString('en-US');
const small = (x: number) => x.toExponential(2);

const shapesText = (inputs: Readonly<Record<string, readonly number[]>>) =>
  Object.entries(inputs).map(([name, shape]) => `${name} [${shape.join(', ')}]`).join(', ');

const SAMPLE_TEXT: Readonly<Record<FoldSample, string>> = {
  'patch with border taps': 'random patches with border taps',
  'patch without padding': 'random patches where no tap reads padding',
  'feature vector': 'random feature vectors',
};

/** What the checked folds ran on: one kind named alone, several each with its count. */
function samplesText(checked: readonly FoldCheck[]): string {
  const counts = new Map<FoldSample, number>();
  for (const c of checked) if (c.sample !== undefined) counts.set(c.sample, (counts.get(c.sample) ?? 0) + 1);
  const kinds = (Object.keys(SAMPLE_TEXT) as FoldSample[]).filter((k) => counts.has(k));
  return kinds.length === 1 ? SAMPLE_TEXT[kinds[0]] : kinds.map((k) => `${SAMPLE_TEXT[k]} (${counts.get(k)})`).join(', ');
}

/** Where the whole-network check ran each graph, as the text and HTML reports say it. */
export function networkRunText(network: NetworkCheck): string {
  if (network.precision === 'float64') return 'float64 reference';
  return network.originalOn === 'float32' ? `float32 on ${network.backend}` : `folded in float32 on ${network.backend} vs float64 original`;
}

/** The probe's lines of the text report: the verdict, each kind of check, every failed fold. */
export function formatProbe(probe: ProbeReport): string[] {
  const lines = [`probe (${probe.level}, ${probe.mode} mode, seed ${probe.seed}): ${probe.ok ? 'PASS' : 'FAILED'}`];
  const checked = probe.folds.filter((c) => c.skipped === undefined);
  const relative = (c: { maxDiff: number; outputScale: number }) => (c.outputScale > 0 ? c.maxDiff / c.outputScale : c.maxDiff);
  if (probe.folds.length > 0) {
    const worst = checked.reduce<FoldCheck | undefined>((w, c) => (w === undefined || !(relative(c) <= relative(w)) ? c : w), undefined);
    lines.push(
      `  ${checked.length} of ${probe.folds.length} folds checked on their own, float64, ${samplesText(checked)}` +
        (worst === undefined ? '' : `: worst max |diff| ${small(worst.maxDiff)} of outputs up to ${small(worst.outputScale)} (${worst.rule} on ${worst.nodes.join(' -> ')})`),
    );
  }
  for (const c of probe.folds) {
    if (c.skipped !== undefined) lines.push(`    not checked: ${c.rule} on ${c.nodes.join(' -> ')}: ${c.skipped}`);
    else if (!c.ok) lines.push(`    FAILED: ${c.rule} on ${c.nodes.join(' -> ')}: max |diff| ${small(c.maxDiff)} of outputs up to ${small(c.outputScale)} on patch [${(c.patch ?? []).join(', ')}]`);
  }
  const network = probe.network;
  if ('skipped' in network) lines.push(`  whole network: not run: ${network.skipped}`);
  else {
    const precision = networkRunText(network);
    lines.push(
      `  whole network, ${precision}, at ${shapesText(network.inputs)}: max |diff| ${small(network.maxDiff)} of outputs up to ${small(network.outputScale)}${network.ok ? '' : ' FAILED'}`,
    );
    if (network.reduced !== undefined) lines.push(`    ${network.reduced}`);
    if (network.float32 !== undefined) {
      lines.push(
        `  float32 (${network.backend}) original vs float64 original: max |diff| ${small(network.float32.original)}`,
        `  float32 (${network.backend}) folded vs float64 original:   max |diff| ${small(network.float32.folded)}`,
      );
    }
  }
  return lines;
}

export function formatFoldReport(report: FoldReport): string {
  const lines: string[] = [];
  lines.push(
    `fold (${report.mode} mode): ${report.folds.length} fold${report.folds.length === 1 ? '' : 's'}, ` +
      `${number(report.nodesBefore)} -> ${number(report.nodesAfter)} nodes, ` +
      `${number(report.paramsBefore)} -> ${number(report.paramsAfter)} params`,
  );
  if (report.folds.length > 0) {
    lines.push('', 'folded:');
    const width = Math.max(...report.folds.map((f) => f.rule.length));
    for (const f of report.folds) {
      const matched = f.matched.map((m) => m.name).join(' + ');
      const produced = f.produced.map((p) => `${p.name} (${p.op})`).join(' -> ');
      lines.push(`  ${f.rule.padEnd(width)}  ${matched}  =>  ${produced}`);
    }
  }
  if (report.left.length > 0) {
    lines.push('', `left in the graph (${report.left.length}):`);
    for (const node of report.left) {
      lines.push(`  ${node.op} '${node.name}'`);
      for (const reason of node.reasons) lines.push(`    - ${reason}`);
    }
  }
  if (report.opaque !== undefined) {
    lines.push('', `carried unchanged, run by tfjs-layers; no fold crosses them (${report.opaque.length}):`);
    lines.push(`  ${report.opaque.map(describeOpaqueLayer).join(', ')}`);
  }
  if (report.probe !== undefined) lines.push('', ...formatProbe(report.probe));
  return lines.join('\n');
}
