import { describe, expect, it } from 'vitest';
import * as d from '../../dsl/index.ts';
import { PRELUDE, errorCases, shapeCases } from './cases.ts';
import { checkSnippet, expectCompiles, typeLevelWords } from './harness.ts';

const MARK = '// <-';
/** The whole diagnostic as tsc prints it after `error TSxxxx: ` (measured over 115 cases: worst 180, median 109, 8 above 160; see the README). */
const MAX_DIAGNOSTIC = 180;
const MEDIAN_DIAGNOSTIC = 109;
/**
 * The goal is about 160 for every diagnostic; how many are longer today: a composite's child
 * printed in full (a residual's branch, a sequential's step), a merge's tensor of symbolic shape,
 * and three messages long in themselves (one lists batchNorm's eight options).
 */
const GOAL_DIAGNOSTIC = 160;
const ABOVE_GOAL = 8;
const diagnosticLengths: number[] = [];

function runTimeMessage(code: string): string | undefined {
  try {
    new Function('d', code)(d);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

describe('DSL shapes at type level', () => {
  it.each(shapeCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expectCompiles(`${PRELUDE}\n${c.code}\nconst exact: Exact<(typeof y)['shape'], ${c.shape}> = true;\n`);
  });

  it('the exactness check itself rejects a wrong shape', () => {
    const result = checkSnippet(`${PRELUDE}\nconst y = d.input(['N', 3, 8, 8]).to(d.relu());\nconst exact: Exact<(typeof y)['shape'], ['N', 3, 8, 9]> = true;\n`);
    expect(result.errors).toHaveLength(1);
  });
});

describe('DSL errors at type level', () => {
  it.each(errorCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const code = `${PRELUDE}\n${c.code}\n`;
    const line = code.split('\n').findIndex((l) => l.includes(MARK)) + 1;
    expect(line, 'the case marks its error line').toBeGreaterThan(0);
    const { errors } = checkSnippet(code);
    expect(errors.length, `no error for:\n${code}`).toBeGreaterThan(0);
    const first = errors[0];
    expect(first.message).toContain(c.message);
    expect(first.line).toBe(line);
    // Readable: the message itself, not a bare `never` or a tuple-assignability dump.
    expect(first.message).not.toMatch(/\bnever\b/);
    // One mistake, one diagnostic; one line of at most MAX_DIAGNOSTIC characters, the message in it.
    expect(errors.map((e) => e.line)).toEqual([line]);
    expect(first.message).not.toContain('\n');
    expect(first.message.length).toBeLessThanOrEqual(MAX_DIAGNOSTIC);
    diagnosticLengths.push(first.message.length);
    const words = typeLevelWords(first.message);
    expect(words, 'the type-level words').toContain(c.message);
    expect(runTimeMessage(c.code), 'the run-time words').toBe(words);
  });

  it(`half the diagnostics are at most ${MEDIAN_DIAGNOSTIC} characters, at most ${ABOVE_GOAL} longer than ${GOAL_DIAGNOSTIC}`, () => {
    expect(diagnosticLengths).toHaveLength(errorCases.length);
    const sorted = [...diagnosticLengths].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThanOrEqual(MEDIAN_DIAGNOSTIC);
    expect(sorted.filter((length) => length > GOAL_DIAGNOSTIC).length).toBeLessThanOrEqual(ABOVE_GOAL);
  });
});
