/**
 * A layered drawing of a graph DAG (Sugiyama's scheme, kept small), for the HTML fold report.
 *
 *   layers     each node one below its lowest input (longest path from the inputs); an edge
 *              spanning several layers gets a dummy point in each layer it crosses, so a skip
 *              connection is routed around the nodes between, not through them.
 *   order      within a layer, by the barycenter of the neighbours in the layer above, then below,
 *              for a few sweeps (fewer crossings), starting from graph order.
 *   x          each node moved towards the mean x of its neighbours, in order, at least `gap`
 *              apart, for a few passes; then everything shifted to start at the margin.
 *
 * Cost O(sweeps * (nodes + dummy points) * log): a ResNet-50 (about 180 nodes) lays out in
 * milliseconds. Sizes are in SVG pixels; widths come from the caller (a box per node).
 */
import type { Graph } from '../ir/graph.ts';

export interface PlacedNode {
  readonly name: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
}

export interface RoutedEdge {
  readonly from: string;
  readonly to: string;
  /** From the bottom of `from` through each crossed layer to the top of `to`. */
  readonly points: readonly (readonly [number, number])[];
}

export interface Layout {
  readonly nodes: ReadonlyMap<string, PlacedNode>;
  readonly edges: readonly RoutedEdge[];
  readonly width: number;
  readonly height: number;
}

export interface LayoutOptions {
  readonly rowHeight: number;
  readonly gap: number;
  readonly margin: number;
  readonly widthOf: (name: string) => number;
  readonly heightOf: (name: string) => number;
}

interface Slot {
  /** A node's name, or an edge's dummy point. */
  readonly id: string;
  readonly width: number;
  readonly up: Slot[];
  readonly down: Slot[];
  x: number;
  order: number;
}

const SWEEPS = 4;
const X_PASSES = 6;

export function layoutGraph(graph: Graph, opts: LayoutOptions): Layout {
  const layerOf = new Map<string, number>();
  for (const node of graph.nodes) layerOf.set(node.name, node.inputs.reduce((l, input) => Math.max(l, (layerOf.get(input) ?? -1) + 1), 0));
  const depth = Math.max(0, ...layerOf.values()) + 1;
  const layers: Slot[][] = Array.from({ length: depth }, () => []);
  const slots = new Map<string, Slot>();
  const add = (id: string, layer: number, width: number): Slot => {
    const slot: Slot = { id, width, up: [], down: [], x: 0, order: layers[layer].length };
    layers[layer].push(slot);
    slots.set(id, slot);
    return slot;
  };
  for (const node of graph.nodes) add(node.name, layerOf.get(node.name) as number, opts.widthOf(node.name));
  const chains: { from: string; to: string; via: Slot[] }[] = [];
  for (const node of graph.nodes) {
    const target = slots.get(node.name) as Slot;
    for (const input of new Set(node.inputs)) {
      const via: Slot[] = [];
      let above = slots.get(input) as Slot;
      for (let layer = (layerOf.get(input) as number) + 1; layer < (layerOf.get(node.name) as number); layer++) {
        const dummy = add(`${input}->${node.name}@${layer}`, layer, 0);
        above.down.push(dummy);
        dummy.up.push(above);
        via.push(dummy);
        above = dummy;
      }
      above.down.push(target);
      target.up.push(above);
      chains.push({ from: input, to: node.name, via });
    }
  }

  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const reorder = (layer: Slot[], neighbours: (s: Slot) => Slot[]) => {
    const keyed = layer.map((s) => ({ s, key: neighbours(s).length > 0 ? mean(neighbours(s).map((n) => n.order)) : s.order }));
    keyed.sort((a, b) => a.key - b.key || a.s.order - b.s.order);
    keyed.forEach(({ s }, i) => {
      layer[i] = s;
      s.order = i;
    });
  };
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    for (let l = 1; l < depth; l++) reorder(layers[l], (s) => s.up);
    for (let l = depth - 2; l >= 0; l--) reorder(layers[l], (s) => s.down);
  }

  const place = (layer: readonly Slot[], desired: (s: Slot) => number) => {
    let right = desired(layer[0]) - layer[0].width / 2;
    for (const s of layer) {
      s.x = Math.max(desired(s), right + s.width / 2);
      right = s.x + s.width / 2 + opts.gap;
    }
    // Pushing right only drifts the layer: shift it back so its mean matches the desired mean.
    const shift = mean(layer.map(desired)) - mean(layer.map((s) => s.x));
    if (shift < 0) for (const s of layer) s.x += shift;
  };
  for (const layer of layers) place(layer, () => 0);
  for (let pass = 0; pass < X_PASSES; pass++) {
    for (const layer of layers) {
      place(layer, (s) => {
        const around = [...s.up, ...s.down];
        return around.length > 0 ? mean(around.map((n) => n.x)) : s.x;
      });
    }
  }

  let left = Infinity;
  let right = -Infinity;
  for (const s of slots.values()) {
    left = Math.min(left, s.x - s.width / 2);
    right = Math.max(right, s.x + s.width / 2);
  }
  const dx = opts.margin - left;
  const yOf = (layer: number) => opts.margin + layer * opts.rowHeight;
  const nodes = new Map<string, PlacedNode>();
  for (const node of graph.nodes) {
    const s = slots.get(node.name) as Slot;
    nodes.set(node.name, { name: node.name, x: s.x + dx - s.width / 2, y: yOf(layerOf.get(node.name) as number), width: s.width });
  }
  const edges = chains.map(({ from, to, via }): RoutedEdge => {
    const a = slots.get(from) as Slot;
    const b = slots.get(to) as Slot;
    const fromLayer = layerOf.get(from) as number;
    return {
      from,
      to,
      points: [
        [a.x + dx, yOf(fromLayer) + opts.heightOf(from)],
        ...via.map((d, k): [number, number] => [d.x + dx, yOf(fromLayer + 1 + k) + opts.rowHeight / 4]),
        [b.x + dx, yOf(layerOf.get(to) as number)],
      ],
    };
  });
  const bottom = Math.max(...graph.nodes.map((n) => yOf(layerOf.get(n.name) as number) + opts.heightOf(n.name)));
  return { nodes, edges, width: right - left + 2 * opts.margin, height: bottom + opts.margin };
}
