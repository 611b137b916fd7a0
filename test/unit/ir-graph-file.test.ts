/** Graph files: topology JSON + a float32 weights file, written atomically, checked on reading. */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchNorm, conv2d, input, linear, flatten, model, relu, resnet50 } from '../../dsl/index.ts';
import { readGraphFile, weightsFileFor, writeGraphFile } from '../../src/ir/graph-file.ts';
import type { Graph, ParamTensor } from '../../src/ir/graph.ts';
import { graphToJSON } from '../../src/ir/serialize.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shapefold-graph-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function small(seed: number): Graph {
  const { graph } = model(
    input(['N', 3, 8, 8], { name: 'x' })
      .to(conv2d({ out: 4, kernel: 3, padding: 1, name: 'c' }))
      .to(batchNorm({ name: 'bn' }))
      .to(relu())
      .to(flatten())
      .to(linear({ in: 256, out: 5, name: 'fc' })),
  );
  // Values no decimal printing keeps short: every parameter a distinct, awkward float32.
  let k = seed;
  for (const node of graph.nodes) {
    for (const t of Object.values(node.params) as ParamTensor[]) t.data.forEach((_, i, data) => (data[i] = Math.fround(Math.abs(Math.sin(++k)) / 3 + 1e-7 * k)));
  }
  return graph;
}

function bitsByParam(graph: Graph): Map<string, Uint32Array> {
  const out = new Map<string, Uint32Array>();
  for (const node of graph.nodes) {
    for (const [name, t] of Object.entries(node.params as Record<string, ParamTensor>)) out.set(`${node.name}.${name}`, new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));
  }
  return out;
}

function expectSameGraph(a: Graph, b: Graph): void {
  expect(b.nodes.map((n) => [n.name, n.op, n.inputs, n.attrs])).toEqual(a.nodes.map((n) => [n.name, n.op, n.inputs, n.attrs]));
  expect([b.inputs, b.outputs]).toEqual([a.inputs, a.outputs]);
  const [pa, pb] = [bitsByParam(a), bitsByParam(b)];
  expect([...pb.keys()]).toEqual([...pa.keys()]);
  // Buffer.equals, not toEqual: a deep compare of ResNet-50's 25M values element by element takes minutes.
  const differing = [...pa].filter(([key, bits]) => !Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength).equals(Buffer.from(pb.get(key)!.buffer, pb.get(key)!.byteOffset, pb.get(key)!.byteLength)));
  expect(differing.map(([key]) => key)).toEqual([]);
}

describe('graph files', () => {
  it('round-trip every parameter bit for bit, beside a JSON that holds no values', async () => {
    const graph = small(1);
    const path = join(dir, 'small.json');
    await writeGraphFile(path, graph);
    expect((await readdir(dir)).sort()).toEqual(['small.json', 'small.weights.bin']);
    const json = JSON.parse(await readFile(path, 'utf8')) as { version: number; weights: { path: string; byteLength: number } };
    expect(json.version).toBe(2);
    expect(json.weights).toMatchObject({ path: 'small.weights.bin', byteLength: 4 * (4 * 3 * 9 + 4 + 4 * 4 + 256 * 5 + 5) });
    expectSameGraph(graph, await readGraphFile(path));
  });

  it('round-trip ResNet-50 (25.6M parameters; the inline form could not even be written)', async () => {
    const { graph } = model(input(['N', 3, 224, 224], { name: 'image' }).to(resnet50()));
    const path = join(dir, 'r50.json');
    await writeGraphFile(path, graph);
    expect((await stat(path)).size).toBeLessThan(200_000);
    const values = [...bitsByParam(graph).values()].reduce((n, bits) => n + bits.length, 0);
    expect(values).toBeGreaterThan(25_500_000);
    expect((await stat(join(dir, 'r50.weights.bin'))).size).toBe(4 * values);
    expectSameGraph(graph, await readGraphFile(path));
  }, 300_000);

  it('still read the version-1 form with every value inline', async () => {
    const graph = small(2);
    const path = join(dir, 'inline.json');
    await writeFile(path, JSON.stringify(graphToJSON(graph)));
    expectSameGraph(graph, await readGraphFile(path));
  });

  it('refuse weights that are not the ones written with the JSON, naming the file', async () => {
    const sub = await mkdtemp(join(dir, 'mix-'));
    const path = join(sub, 'g.json');
    await writeGraphFile(path, small(3));
    const original = await readFile(join(sub, weightsFileFor(path)));
    // Another run's weights of the same size: what an interrupted write between the renames leaves.
    await writeGraphFile(join(sub, 'other.json'), small(4));
    await writeFile(join(sub, 'g.weights.bin'), await readFile(join(sub, 'other.weights.bin')));
    await expect(readGraphFile(path)).rejects.toThrow(/g\.weights\.bin is not the one written with this graph \(SHA-256 differs\)/);
    await writeFile(join(sub, 'g.weights.bin'), original.subarray(0, original.byteLength - 4));
    await expect(readGraphFile(path)).rejects.toThrow(/g\.weights\.bin has \d+ bytes, the graph expects \d+/);
    await rm(join(sub, 'g.weights.bin'));
    await expect(readGraphFile(path)).rejects.toThrow(/g\.json: cannot read its weights file .*g\.weights\.bin \(ENOENT\)/);
    const json = JSON.parse(await readFile(path, 'utf8')) as { weights: { path: string } };
    json.weights.path = '../escape.bin';
    await writeFile(path, JSON.stringify(json));
    await expect(readGraphFile(path)).rejects.toThrow(/weights\.path must be the name of a file beside the graph/);
    expect((await readdir(sub)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
