/**
 * The README's TypeScript examples compile against the package as users import it ('shapefold',
 * 'shapefold/dsl'). Each block is checked on its own, after declarations of the values the prose
 * assumes (a graph and tensors from earlier examples).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSnippet } from './harness.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

const ASSUMED = [
  "import type * as tf from '@tensorflow/tfjs';",
  "import type { Graph } from 'shapefold';",
  'declare const graph: Graph;',
  'declare const x: tf.Tensor;',
  'declare const y: tf.Tensor;',
  'export {};',
].join('\n');

describe('README examples', () => {
  it('has TypeScript examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it.each(blocks.map((code, k) => [k, code] as const))('block %i compiles', (_k, code) => {
    const usesOwnGraph = /const \{ graph[ ,}]/.test(code);
    const prelude = usesOwnGraph ? ASSUMED.replace('declare const graph: Graph;\n', '') : ASSUMED;
    const { errors } = checkSnippet(`${prelude}\n${code}`);
    expect(errors.map((e) => e.message)).toEqual([]);
  });
});
