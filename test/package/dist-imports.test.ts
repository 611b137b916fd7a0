/**
 * What the built package asks Node (and a consumer's TypeScript) to load. Every bare specifier in
 * dist/ (static imports and re-exports, dynamic import(), require(), and import("...") types in
 * the declarations) must be a `node:` builtin, the package itself, or a package that
 * package.json declares as a dependency, peer or optional dependency: anything else works in this
 * repository, where devDependencies are installed, and fails in a user's app.
 *
 * Reads dist/ as `npm test` leaves it (it builds first).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ts } from 'ts-morph';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = join(ROOT, 'dist');
const SCANNED = /\.(js|cjs|mjs|d\.ts|d\.cts|d\.mts)$/;

/** A specifier the scanner cannot read statically: an import() of something other than a string constant. */
const UNREADABLE = '<not a string constant>';

/** The imports whose specifier is computed, and why each is not a package: file -> count. */
const COMPUTED_IMPORTS: Record<string, number> = {
  // `shapefold check/fold model.mjs#net`: the user's own model module, by its file: URL (tried, then retried under tsx).
  'dist/src/cli/load.js': 2,
};

/**
 * The string a dynamic import's argument stands for: a literal, or a const initialised with one in
 * the same file. tsc wraps a non-literal argument in __rewriteRelativeImportExtension(...), which
 * leaves bare specifiers as they are.
 */
function constantString(arg: ts.Expression, file: ts.SourceFile): string | undefined {
  if (ts.isCallExpression(arg) && ts.isIdentifier(arg.expression) && arg.expression.text === '__rewriteRelativeImportExtension' && arg.arguments.length > 0) {
    return constantString(arg.arguments[0]!, file);
  }
  if (ts.isStringLiteralLike(arg)) return arg.text;
  if (!ts.isIdentifier(arg)) return undefined;
  let found: string | undefined;
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === arg.text && node.initializer !== undefined) {
      const list = node.parent;
      if (ts.isVariableDeclarationList(list) && (list.flags & ts.NodeFlags.Const) !== 0 && ts.isStringLiteralLike(node.initializer)) {
        found = node.initializer.text;
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** Every module specifier `source` loads or refers to. */
export function moduleSpecifiers(source: string, fileName: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  // In an ES module, require is just a name (src/proof has a function called require).
  const commonJs = /\.c[jt]s$/.test(fileName);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteralLike(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteralLike(node.argument.literal)) {
      found.push(node.argument.literal.text);
    } else if (ts.isExternalModuleReference(node) && ts.isStringLiteralLike(node.expression)) {
      found.push(node.expression.text);
    } else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = commonJs && ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if ((isImport || isRequire) && node.arguments.length > 0) found.push(constantString(node.arguments[0]!, file) ?? UNREADABLE);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** The package a bare specifier names ('@scope/name/sub/path' -> '@scope/name'), or undefined for a relative or absolute path. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && SCANNED.test(e.name)).map((e) => join(e.parentPath, e.name));
}

describe('moduleSpecifiers', () => {
  it('finds static, re-exported, dynamic, required and type-level specifiers', () => {
    const source = [
      "import * as tf from '@tensorflow/tfjs-core';",
      "import '@tensorflow/tfjs-backend-cpu';",
      "export { x } from './x.js';",
      "const wasm = await import('@tensorflow/tfjs-backend-wasm');",
      "const optional = '@tensorflow/tfjs-node';",
      'await import(optional);',
      'await import(someVariable);',
      "const fs = require('node:fs');",
      "export declare const t: import('@tensorflow/tfjs-layers').LayersModel;",
    ].join('\n');
    expect(moduleSpecifiers(source, 'sample.d.cts')).toEqual([
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-backend-cpu',
      './x.js',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-node',
      UNREADABLE,
      'node:fs',
      '@tensorflow/tfjs-layers',
    ]);
  });

  it("reads require() as loading a module only in CommonJS files", () => {
    expect(moduleSpecifiers("function require(fact) {}\nrequire('nonZero');", 'scalar.js')).toEqual([]);
  });
});

describe('the built package', () => {
  it('loads only node: builtins, itself and the packages package.json declares for users', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const declared = new Set([pkg.name, ...Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies })]);
    const files = await filesUnder(DIST).catch(() => []);
    expect(files.length, 'dist/ is empty: run `npm run build` first').toBeGreaterThan(0);
    const undeclared: string[] = [];
    const computed: Record<string, number> = {};
    const used = new Set<string>();
    for (const path of files) {
      for (const specifier of moduleSpecifiers(await readFile(path, 'utf8'), path)) {
        if (specifier.startsWith('node:')) continue;
        if (specifier === UNREADABLE) {
          computed[relative(ROOT, path)] = (computed[relative(ROOT, path)] ?? 0) + 1;
          continue;
        }
        const name = packageOf(specifier);
        if (name === undefined) continue;
        used.add(name);
        if (!declared.has(name)) undeclared.push(`${relative(ROOT, path)}: '${specifier}'`);
      }
    }
    expect(undeclared).toEqual([]);
    expect(computed).toEqual(COMPUTED_IMPORTS);
    // The scan reaches the code that loads tfjs: each tfjs package the library declares is loaded somewhere.
    expect([...used].filter((n) => n.startsWith('@tensorflow/')).sort()).toEqual(
      [...declared].filter((n) => n.startsWith('@tensorflow/')).sort(),
    );
  });
});
