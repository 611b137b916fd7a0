/**
 * The type-level cases run through ts-morph, which bundles the TypeScript 6 API; users compile
 * with the native TypeScript 7 `tsc`. This compiles every DSL case with `tsc` 7 in one run and
 * requires the same verdicts: shape cases clean, error cases failing first on the marked line
 * with the same message, and no second diagnostic after it (a failed layer poisons its output silently).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PRELUDE, errorCases, shapeCases } from './cases.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const MARK = '// <-';
let dir: string | undefined;

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

function runTsc(project: string): Promise<Diagnostic[]> {
  return new Promise((resolve, reject) => {
    execFile(join(repo, 'node_modules/.bin/tsc'), ['-p', project, '--noEmit', '--pretty', 'false'], { cwd: repo, maxBuffer: 1 << 26 }, (error, stdout) => {
      if (error !== null && stdout.trim() === '') {
        reject(error);
        return;
      }
      const diagnostics: Diagnostic[] = [];
      let last: { file: string; line: number; message: string[] } | undefined;
      for (const text of stdout.split('\n')) {
        const head = /^(.+)\((\d+),\d+\): error TS\d+: (.*)$/.exec(text);
        if (head !== null) {
          if (last !== undefined) diagnostics.push({ ...last, message: last.message.join('\n') });
          last = { file: head[1], line: Number(head[2]), message: [head[3]] };
        } else if (last !== undefined && text.trim() !== '') last.message.push(text.trim());
      }
      if (last !== undefined) diagnostics.push({ ...last, message: last.message.join('\n') });
      resolve(diagnostics);
    });
  });
}

describe('tsc 7 agrees with the type-level cases', () => {
  it('compiles every shape case and fails every error case where and as expected', async () => {
    // Inside the repo so that '../../dsl/index.ts' resolves the same way as in the ts-morph cases.
    dir = await mkdtemp(join(repo, 'test/types/.tsc7-'));
    const files: { name: string; code: string; expect?: { line: number; message: string } }[] = [];
    const prelude = PRELUDE.replaceAll('../../dsl/', `${relative(dir, join(repo, 'dsl'))}/`);
    shapeCases.forEach((c, k) => {
      files.push({ name: `shape${k}.ts`, code: `${prelude}\n${c.code}\nconst exact: Exact<(typeof y)['shape'], ${c.shape}> = true;\nexport {};\n` });
    });
    errorCases.forEach((c, k) => {
      const code = `${prelude}\n${c.code}\nexport {};\n`;
      files.push({ name: `error${k}.ts`, code, expect: { line: code.split('\n').findIndex((l) => l.includes(MARK)) + 1, message: c.message } });
    });
    await Promise.all(files.map((f) => writeFile(join(dir!, f.name), f.code)));
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: relative(dir, join(repo, 'tsconfig.json')), include: ['*.ts'] }),
    );
    const diagnostics = await runTsc(join(dir, 'tsconfig.json'));
    const problems: string[] = [];
    for (const f of files) {
      const mine = diagnostics.filter((d) => d.file.endsWith(`/${f.name}`) || d.file === f.name).sort((a, b) => a.line - b.line);
      if (f.expect === undefined) {
        if (mine.length > 0) problems.push(`${f.name}: expected no error, got line ${mine[0].line}: ${mine[0].message}`);
      } else if (mine.length === 0) {
        problems.push(`${f.name}: expected an error containing '${f.expect.message}', got none`);
      } else if (mine[0].line !== f.expect.line || !mine[0].message.includes(f.expect.message)) {
        problems.push(`${f.name}: expected line ${f.expect.line} '${f.expect.message}', got line ${mine[0].line}: ${mine[0].message}`);
      } else if (mine.length > 1) {
        problems.push(`${f.name}: expected one diagnostic for one mistake, got ${mine.length}: ${mine.map((d) => `line ${d.line}`).join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
    expect(files.length).toBe(shapeCases.length + errorCases.length);
  });
});
