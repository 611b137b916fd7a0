/**
 * The fold report: every fold applied, every norm-like node left with the reasons, node and
 * parameter counts before and after, and the numerical probe. Plain data, JSON-serialisable as it
 * is; `formatFoldReport` renders it as text.
 */
import type { OpKind } from '../ir/graph.ts';
import type { FoldRecord } from './apply.ts';
import type { FoldMode } from './match.ts';
import type { ProbeReport } from './probe.ts';

export interface LeftNode {
  readonly name: string;
  readonly op: OpKind;
  readonly reasons: readonly string[];
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
  /** Absent when folding ran with `probe: false`. */
  readonly probe?: ProbeReport;
}

const number = (n: number) => n.toLocaleString('en-US');
const small = (x: number) => x.toExponential(2);

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
  const probe = report.probe;
  if (probe !== undefined) {
    const inputs = Object.entries(probe.inputs).map(([name, shape]) => `${name} [${shape.join(', ')}]`).join(', ');
    lines.push(
      '',
      `probe (${probe.mode} mode, standard normal ${inputs}, seed ${probe.seed}; outputs up to ${small(probe.outputScale)}):`,
      `  float64 reference, folded vs original:          max |diff| = ${small(probe.foldedVsOriginal)}`,
      `  float32 (${probe.float32.backend}) original vs float64 original: max |diff| = ${small(probe.float32.original)}`,
      `  float32 (${probe.float32.backend}) folded vs float64 original:   max |diff| = ${small(probe.float32.folded)}`,
    );
  }
  return lines.join('\n');
}
