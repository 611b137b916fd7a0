/**
 * The fold report as one self-contained HTML page (`shapefold fold --html`): a summary of
 * parameters, nodes and timings, the probe's checks with their errors, and the original and the
 * folded graph side by side as SVG (graph-layout.ts), nodes a fold rewrote or removed highlighted,
 * every norm-like node left in the graph carrying the reason on its box.
 *
 * No scripts, fonts, images or styles from anywhere else: the page renders offline, as written.
 */
import { networkRunText, type FoldReport } from '../fold/report.ts';
import type { Graph, Node } from '../ir/graph.ts';
import { opName } from '../ir/labels.ts';
import { layoutGraph, type Layout } from './graph-layout.ts';

export interface HtmlReportInput {
  /** What was folded, e.g. the model's path. */
  readonly title: string;
  readonly original: Graph;
  readonly folded: Graph;
  readonly report: FoldReport;
  /** Stages and how long each took. */
  readonly timings?: readonly { readonly label: string; readonly ms: number }[];
}

const NODE_HEIGHT = 30;
const REASON_HEIGHT = 16;
const ROW_HEIGHT = 56;
const CHAR_WIDTH = 7.4;
const REASON_WIDTH = 460;
const REASON_CHARS = 68;

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
const number = (n: number) => n.toLocaleString('en-US');
const small = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : String(x));
const clip = (text: string, chars: number) => (text.length <= chars ? text : `${text.slice(0, chars - 1)}…`);

type Role = 'removed' | 'rewritten' | 'left' | 'plain';

interface Drawn {
  readonly role: (node: Node) => Role;
  readonly reasons: (node: Node) => readonly string[];
}

function drawGraph(graph: Graph, drawn: Drawn, caption: string): string {
  const labelOf = (node: Node) => `${node.name}  ${opName(node)}`;
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const widthOf = (name: string) => {
    const node = byName.get(name) as Node;
    const text = Math.max(110, labelOf(node).length * CHAR_WIDTH + 16);
    return drawn.reasons(node).length > 0 ? Math.max(text, REASON_WIDTH) : text;
  };
  const heightOf = (name: string) => (drawn.reasons(byName.get(name) as Node).length > 0 ? NODE_HEIGHT + REASON_HEIGHT : NODE_HEIGHT);
  const layout: Layout = layoutGraph(graph, { rowHeight: ROW_HEIGHT, gap: 18, margin: 16, widthOf, heightOf });
  const edges = layout.edges.map(({ points }) => {
    let d = `M${points[0][0].toFixed(1)},${points[0][1].toFixed(1)}`;
    for (let k = 1; k < points.length; k++) {
      const [x0, y0] = points[k - 1];
      const [x1, y1] = points[k];
      const my = ((y0 + y1) / 2).toFixed(1);
      d += ` C${x0.toFixed(1)},${my} ${x1.toFixed(1)},${my} ${x1.toFixed(1)},${y1.toFixed(1)}`;
    }
    return `<path class="edge" d="${d}"/>`;
  });
  const boxes = graph.nodes.map((node) => {
    const placed = layout.nodes.get(node.name) as { x: number; y: number; width: number };
    const reasons = drawn.reasons(node);
    const height = heightOf(node.name);
    const tooltip = [labelOf(node), ...reasons.map((r) => `why it stays: ${r}`)].join('\n');
    const reasonLine =
      reasons.length === 0
        ? ''
        : `<text class="reason" x="${(placed.x + 8).toFixed(1)}" y="${(placed.y + NODE_HEIGHT + 8).toFixed(1)}">${escape(clip(reasons[0], REASON_CHARS))}${reasons.length > 1 ? ` (+${reasons.length - 1})` : ''}</text>`;
    return (
      `<g class="node ${drawn.role(node)}"><title>${escape(tooltip)}</title>` +
      `<rect x="${placed.x.toFixed(1)}" y="${placed.y.toFixed(1)}" width="${placed.width.toFixed(1)}" height="${height}" rx="5"/>` +
      `<text x="${(placed.x + 8).toFixed(1)}" y="${(placed.y + 19).toFixed(1)}"><tspan class="name">${escape(node.name)}</tspan>` +
      `<tspan class="op" dx="8">${escape(opName(node))}</tspan></text>${reasonLine}</g>`
    );
  });
  return (
    `<figure><figcaption>${escape(caption)}</figcaption><div class="scroll">` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(layout.width)}" height="${Math.ceil(layout.height)}" ` +
    `viewBox="0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}" role="img" aria-label="${escape(caption)}">` +
    `${edges.join('')}${boxes.join('')}</svg></div></figure>`
  );
}

/** The probe's verdict and method (above the graphs) and its per-fold table (below them). */
function probeSections(report: FoldReport): { verdict: string; checks: string } {
  const probe = report.probe;
  if (probe === undefined) return { verdict: '<section><h2>Probe</h2><p>Not run (<code>--probe off</code>).</p></section>', checks: '' };
  const rows = probe.folds.map((c) => {
    const relative = c.outputScale > 0 ? c.maxDiff / c.outputScale : c.maxDiff;
    const status = c.skipped !== undefined ? `not checked: ${c.skipped}` : c.ok ? 'ok' : 'FAILED';
    return (
      `<tr class="${c.skipped !== undefined ? 'skip' : c.ok ? 'ok' : 'bad'}"><td>${c.fold + 1}</td><td>${escape(c.rule)}</td>` +
      `<td>${escape(c.nodes.join(' → '))}</td><td>${c.patch === undefined ? '' : `[${c.patch.join(', ')}]`}</td>` +
      `<td>${small(c.maxDiff)}</td><td>${small(c.outputScale)}</td><td>${small(relative)}</td><td>${escape(status)}</td></tr>`
    );
  });
  const network = probe.network;
  const networkRow =
    'skipped' in network
      ? `<p>Whole network: not run: ${escape(network.skipped)}</p>`
      : `<p class="${network.ok ? 'ok' : 'bad'}">Whole network, ${escape(networkRunText(network))}, ` +
        `at ${escape(Object.entries(network.inputs).map(([n, s]) => `${n} [${s.join(', ')}]`).join(', '))}: max |diff| ${small(network.maxDiff)} ` +
        `of outputs up to ${small(network.outputScale)}${network.ok ? '' : ' — FAILED'}${network.reduced === undefined ? '' : `<br><small>${escape(network.reduced)}</small>`}</p>`;
  const failed = probe.folds.filter((c) => !c.ok).length;
  return {
    verdict:
      `<section><h2>Probe: <span class="${probe.ok ? 'ok' : 'bad'}">${probe.ok ? 'PASS' : 'FAILED'}</span></h2>` +
      `<ul>${probe.method.map((m) => `<li>${escape(m)}</li>`).join('')}</ul>${networkRow}` +
      `<p>${probe.folds.length} folds checked${failed > 0 ? `, <span class="bad">${failed} FAILED</span>` : ''}: see the table below the graphs.</p></section>`,
    checks:
      rows.length === 0
        ? ''
        : '<section><h2>Each fold, checked on its own</h2><table><thead><tr><th>#</th><th>rule</th><th>nodes</th><th>patch</th><th>max |diff|</th>' +
          `<th>output scale</th><th>relative</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`,
  };
}

const STYLE = `
body { font: 14px/1.4 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px; color: #1d232a; background: #fff; }
h1 { font-size: 20px; margin: 0 0 12px; } h2 { font-size: 16px; margin: 20px 0 8px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #d5dae0; padding: 3px 8px; text-align: left; }
th { background: #f2f4f7; } .ok { color: #17733a; } .bad { color: #b3261e; font-weight: 600; } tr.skip td { color: #6b7480; }
.graphs { display: flex; gap: 16px; align-items: flex-start; }
figure { margin: 0; flex: 1 1 0; min-width: 0; border: 1px solid #d5dae0; border-radius: 6px; }
figcaption { font-weight: 600; padding: 6px 10px; background: #f2f4f7; border-bottom: 1px solid #d5dae0; }
.scroll { overflow: auto; max-height: 1400px; }
.edge { fill: none; stroke: #8a94a0; stroke-width: 1.2; }
.node rect { fill: #f7f8fa; stroke: #9aa3ad; stroke-width: 1; }
.node text { font: 12px ui-monospace, 'DejaVu Sans Mono', monospace; fill: #1d232a; }
.node .op { fill: #5b6470; } .node .reason { font-size: 11px; fill: #b3261e; }
.node.rewritten rect { fill: #dff3e4; stroke: #2f8f4e; stroke-width: 1.6; }
.node.removed rect { fill: #fdebd3; stroke: #d9822b; stroke-dasharray: 4 3; stroke-width: 1.6; }
.node.left rect { fill: #fde7e6; stroke: #b3261e; stroke-width: 1.6; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 8px; border-radius: 4px; border: 1.6px solid; font-size: 12px; }
.legend .rewritten { background: #dff3e4; border-color: #2f8f4e; } .legend .removed { background: #fdebd3; border-color: #d9822b; border-style: dashed; }
.legend .left { background: #fde7e6; border-color: #b3261e; }
`;

/** The page (see the file comment). */
export function foldReportHtml(input: HtmlReportInput): string {
  const { report, original, folded } = input;
  const matched = new Set(report.folds.flatMap((f) => f.matched.map((m) => m.name)));
  const produced = new Set(report.folds.flatMap((f) => f.produced.map((p) => p.name)));
  const keptNames = new Set(folded.nodes.map((n) => n.name));
  const reasonsByName = new Map(report.left.map((l) => [l.name, l.reasons]));
  const reasons = (node: Node) => reasonsByName.get(node.name) ?? [];
  const originalRoles: Drawn = {
    role: (node) => (reasons(node).length > 0 && keptNames.has(node.name) ? 'left' : matched.has(node.name) ? (keptNames.has(node.name) ? 'rewritten' : 'removed') : 'plain'),
    reasons: (node) => (keptNames.has(node.name) ? reasons(node) : []),
  };
  const foldedRoles: Drawn = {
    role: (node) => (reasons(node).length > 0 ? 'left' : produced.has(node.name) ? 'rewritten' : 'plain'),
    reasons,
  };
  const count = (graph: Graph, ops: readonly string[]) => graph.nodes.filter((n) => ops.includes(n.op)).length;
  const bn = ['batchNorm', 'batchRenorm'];
  const summary: [string, string][] = [
    ['folds', number(report.folds.length)],
    ['nodes', `${number(report.nodesBefore)} → ${number(report.nodesAfter)}`],
    ['parameters', `${number(report.paramsBefore)} → ${number(report.paramsAfter)}`],
    ['BatchNorm layers', `${count(original, bn)} → ${count(folded, bn)}`],
    ['norm-like nodes left', number(report.left.length)],
    ['mode', report.mode],
    ...(input.timings ?? []).map(({ label, ms }): [string, string] => [label, `${(ms / 1000).toFixed(2)} s`]),
  ];
  const probe = probeSections(report);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>shapefold fold report: ${escape(input.title)}</title><style>${STYLE}</style></head>
<body><h1>shapefold fold report: ${escape(input.title)}</h1>
<section><table><tbody>${summary.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('')}</tbody></table></section>
${probe.verdict}
<section><h2>Graphs</h2><p class="legend"><span class="rewritten">rewritten by a fold</span><span class="removed">folded away</span><span class="left">left in the graph, with the reason</span></p>
<div class="graphs">${drawGraph(original, originalRoles, `original (${number(original.nodes.length)} nodes)`)}${drawGraph(folded, foldedRoles, `folded (${number(folded.nodes.length)} nodes)`)}</div></section>
${probe.checks}
</body></html>
`;
}
