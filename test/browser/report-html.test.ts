/**
 * The HTML fold report (`shapefold fold --html`): self-contained, every fold and refusal on the
 * node it concerns, and, in a real headless chromium, rendered without console messages with both
 * graphs on screen.
 *
 * Chromium is found on PATH (or at SHAPEFOLD_CHROMIUM). Without it the browser test is skipped,
 * and its title says why; SHAPEFOLD_REQUIRE_BROWSER=1 (`npm run test:browser`) makes a missing
 * chromium a failure instead.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicBlock, input, model, resB, type Tensor } from '../../dsl/index.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { withTrainedStats } from '../../src/bench/trained-stats.ts';
import { findChromium } from '../../src/bench/zoo-browser.ts';
import { foldGraph, type FoldResult } from '../../src/fold/index.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { foldReportHtml } from '../../src/report/html.ts';
import { readPng } from './png.ts';

const chromium = findChromium();
const required = process.env.SHAPEFOLD_REQUIRE_BROWSER === '1';

let dir: string;
let resnet: { original: Graph; result: FoldResult };
let unit: { original: Graph; result: FoldResult };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shapefold-html-'));
  await selectBackend({ backend: 'cpu' });
  // 16 residual blocks, 8 channels: a graph of 100+ nodes with small weights
  let x: Tensor<[1, 8, 16, 16]> = input([1, 8, 16, 16], { name: 'image' });
  for (let k = 0; k < 16; k++) x = x.to(basicBlock({ out: 8 }));
  const deep = withTrainedStats(model(x).graph, 1);
  expect(deep.nodes.length).toBeGreaterThan(100);
  resnet = { original: deep, result: foldGraph(deep, { probe: 'off' }) };
  const resb = withTrainedStats(model(input([1, 8, 16, 16], { name: 'x' }).to(resB({ out: 8 }))).graph, 2);
  unit = { original: resb, result: foldGraph(resb) };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const page = (g: { original: Graph; result: FoldResult }, title: string) =>
  foldReportHtml({ title, original: g.original, folded: g.result.graph, report: g.result.report, timings: [{ label: 'fold', ms: 1234 }] });

describe('the HTML fold report', () => {
  it('is one page with nothing loaded from elsewhere', () => {
    const html = page(resnet, 'resnet50 <test>');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|\bsrc=|\bhref=/i);
    // the only URL is the SVG namespace name, which is never fetched
    expect(html.match(/https?:\/\/[^"]*/g)).toEqual(['http://www.w3.org/2000/svg', 'http://www.w3.org/2000/svg']);
    expect(html).toContain('shapefold fold report: resnet50 &lt;test&gt;');
    expect(html).not.toContain('NaN');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain(`original (${resnet.original.nodes.length} nodes)`);
    expect(html).toContain(`folded (${resnet.result.graph.nodes.length} nodes)`);
  });

  it('marks every folded and rewritten node, and writes each refusal on its node', () => {
    const html = page(unit, 'resB');
    const { report } = unit.result;
    expect(report.left.length).toBeGreaterThan(0);
    for (const left of report.left) {
      const reason = left.reasons[0].replace(/'/g, '&#39;');
      // in the box's tooltip in full, and on the box itself (clipped to its width)
      expect(html).toContain(`why it stays: ${reason}`);
      expect(html).toMatch(new RegExp(`<g class="node left"><title>${left.name}  ${left.op}\\n`));
      expect(html).toContain(`<text class="reason"`);
    }
    const removed = report.folds.flatMap((f) => f.matched.map((m) => m.name)).filter((name) => !unit.result.graph.nodes.some((n) => n.name === name));
    for (const name of removed) expect(html).toContain(`<g class="node removed"><title>${name}  `);
    expect(html).toContain('Probe: <span class="ok">PASS</span>');
    expect(html).toContain('fold</th><td>1.23 s');
  });
});

describe.skipIf(chromium === undefined && !required)(
  `in headless chromium${chromium === undefined ? ' (skipped: no chromium on PATH or at SHAPEFOLD_CHROMIUM; apt-get install chromium)' : ''}`,
  () => {
    it('renders with no console messages, and the screenshot shows both graphs', async () => {
      expect(chromium, 'SHAPEFOLD_REQUIRE_BROWSER=1 but no chromium found').toBeDefined();
      const file = join(dir, 'report.html');
      const shot = join(dir, 'report.png');
      await writeFile(file, page(resnet, 'resnet50'));
      const run = spawnSync(
        chromium as string,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--no-first-run',
          `--user-data-dir=${join(dir, 'profile')}`,
          '--enable-logging=stderr',
          '--v=0',
          '--window-size=1400,1100',
          `--screenshot=${shot}`,
          `file://${file}`,
        ],
        { encoding: 'utf8', timeout: 120_000 },
      );
      expect(run.status, run.stderr).toBe(0);
      // chromium logs every console message of the page as a CONSOLE line; the page has no scripts
      expect(run.stderr.split('\n').filter((line) => line.includes(':CONSOLE'))).toEqual([]);
      const image = readPng(await readFile(shot));
      expect([image.width, image.height]).toEqual([1400, 1100]);
      // The green of rewritten nodes (#dff3e4) must appear in the left half (original) and the
      // right half (folded), the orange of folded-away BNs (#fdebd3) in the left half only.
      const count = (rgb: readonly number[], from: number, to: number) => {
        let n = 0;
        for (let y = 0; y < image.height; y++) {
          for (let x = from; x < to; x++) {
            const p = (y * image.width + x) * 4;
            if (image.pixels[p] === rgb[0] && image.pixels[p + 1] === rgb[1] && image.pixels[p + 2] === rgb[2]) n++;
          }
        }
        return n;
      };
      const half = image.width / 2;
      const green = [0xdf, 0xf3, 0xe4];
      const orange = [0xfd, 0xeb, 0xd3];
      expect(count(green, 0, half)).toBeGreaterThan(2000);
      expect(count(green, half, image.width)).toBeGreaterThan(2000);
      expect(count(orange, 0, half)).toBeGreaterThan(1000);
      expect(count(orange, half, image.width)).toBeLessThan(count(orange, 0, half) / 10);
    }, 180_000);
  },
);
